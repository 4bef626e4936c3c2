// The layer rules of .dependency-cruiser.cjs, which `npm run lint` runs on src/: a fixture tree of allowed imports
// passes, and one with a deliberate offender per rule fails with exactly those violations.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const depcruise = join(repo, "node_modules", ".bin", "depcruise");
const config = join(repo, ".dependency-cruiser.cjs");
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
  cycle?: { name: string }[];
}

/**
 * Runs depcruise with the repository's config on `cwd`/src as `npm run lint` does (its exit code), then once more
 * for the violations as JSON.
 */
function cruise(cwd: string): { code: number; violations: Violation[] } {
  const run = (outputType: string) =>
    spawnSync(depcruise, ["src", "--config", config, "--output-type", outputType], { cwd, encoding: "utf8" });
  const output = JSON.parse(run("json").stdout) as { summary: { violations: Violation[] } };
  return { code: run("err").status ?? 1, violations: output.summary.violations };
}

/** A temporary project with `files` (path → content) and a tsconfig like ours. */
function fixture(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "depcruise-"));
  dirs.push(dir);
  const all: Record<string, string> = {
    "tsconfig.json": JSON.stringify({
      compilerOptions: { module: "NodeNext", moduleResolution: "NodeNext", strict: true },
      include: ["src"],
    }),
    ...files,
  };
  for (const [path, content] of Object.entries(all)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

describe("dependency rules (.dependency-cruiser.cjs)", () => {
  it("accepts the allowed directions: call → core/matrix/webrtc, group → call, voip → all, adapters → domain", () => {
    const dir = fixture({
      "src/core/clock.ts": "export const now = 1;\n",
      "src/matrix/port.ts": 'import { now } from "../core/clock.js";\nexport const port = now;\n',
      "src/webrtc/port.ts": 'import { now } from "../core/clock.js";\nexport const rtc = now;\n',
      "src/call/session.ts":
        'import { port } from "../matrix/port.js";\nimport { rtc } from "../webrtc/port.js";\nexport const call = port + rtc;\n',
      "src/group/group.ts": 'import { call } from "../call/session.js";\nexport const group = call;\n',
      "src/backend/mesh.ts": 'import { group } from "../group/group.js";\nexport const mesh = group;\n',
      "src/voip/VoIP.ts": 'import { mesh } from "../backend/mesh.js";\nexport const voip = mesh;\n',
      "src/node/delegate.ts": 'import { voip } from "../voip/VoIP.js";\nexport const node = voip;\n',
      "src/livekit/bridge.ts": 'import { group } from "../group/group.js";\nexport const lk = group;\n',
      "src/index.ts": 'export { voip } from "./voip/VoIP.js";\n',
    });
    expect(cruise(dir)).toEqual({ code: 0, violations: [] });
  }, 60_000);

  it("fails on each forbidden import, and on cycles (type-only ones too)", () => {
    const dir = fixture({
      "src/core/errors.ts": 'import { code } from "../call/types.js";\nexport const error = code;\n',
      "src/call/types.ts": "export const code = 1;\n",
      "src/call/timeouts.ts":
        'import type { Options } from "../voip/options.js";\nexport type T = Options;\n',
      "src/voip/options.ts": "export interface Options { a: number }\n",
      "src/webrtc/delegate.ts":
        'import type { Session } from "../call/session.js";\nexport type D = Session;\n',
      "src/matrix/parse.ts": 'import { rtc } from "../webrtc/rtc.js";\nexport const p = rtc;\n',
      "src/webrtc/rtc.ts": "export const rtc = 1;\n",
      "src/group/group.ts": 'import type { Options } from "../voip/options.js";\nexport type G = Options;\n',
      "src/call/session.ts":
        'import type { Ctx } from "./context.js";\nexport interface Session { ctx: Ctx }\n',
      "src/call/context.ts":
        'import type { Session } from "./session.js";\nexport interface Ctx { s: Session }\n',
      "src/voip/VoIP.ts": 'import { n } from "../node/wrtc.js";\nexport const v = n;\n',
      "src/node/wrtc.ts": "export const n = 1;\n",
      "src/index.ts": 'export { hs } from "./testing/hs.js";\n',
      "src/testing/hs.ts": "export const hs = 1;\n",
    });
    const { code, violations } = cruise(dir);
    const found = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();
    expect(found).toEqual(
      [
        "call-layer: src/call/timeouts.ts → src/voip/options.ts",
        "core-imports-nothing: src/core/errors.ts → src/call/types.ts",
        "domain-imports-no-adapter: src/voip/VoIP.ts → src/node/wrtc.ts",
        "group-and-backend-layer: src/group/group.ts → src/voip/options.ts",
        "matrix-port-core-only: src/matrix/parse.ts → src/webrtc/rtc.ts",
        "no-circular: src/call/context.ts → src/call/session.ts",
        "root-entry-browser-safe: src/index.ts → src/testing/hs.ts",
        "webrtc-port-core-only: src/webrtc/delegate.ts → src/call/session.ts",
      ].sort(),
    );
    expect(code).toBe(violations.length);
  }, 60_000);
});
