// `npm test`'s counting (scripts/testSummary.mjs) on real vitest reports: a file that fails to load is a failure.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
// @ts-expect-error -- a plain .mjs script without types
import { closingLine, readVitestReport } from "../../scripts/testSummary.mjs";

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
  problems: string[];
}
const read = readVitestReport as (file: string, root: string) => Counts | undefined;
const line = closingLine as (totals: Omit<Counts, "problems">) => string;

const repo = fileURLToPath(new URL("../..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "famedly-calls-summary-"));
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function runVitest(files: Record<string, string>): { report: string; status: number | null } {
  for (const [name, text] of Object.entries(files)) {
    writeFileSync(join(dir, name), text);
  }
  const report = join(dir, "report.json");
  const result = spawnSync(
    join(repo, "node_modules", ".bin", "vitest"),
    ["run", "--root", dir, "--reporter=json", `--outputFile.json=${report}`],
    { cwd: dir, encoding: "utf8" },
  );
  return { report, status: result.status };
}

describe("npm test's closing line", () => {
  it("counts a test file that fails to load as a failure and names it", () => {
    const { report, status } = runVitest({
      "good.test.mjs":
        'import { it, expect } from "vitest"; it("a", () => expect(1).toBe(1)); it.skip("b", () => {});',
      "broken.test.mjs":
        'import "./missing-fixture.mjs"; import { it } from "vitest"; it("never", () => {});',
    });
    expect(status).not.toBe(0);
    const counts = read(report, dir);
    expect(counts).toMatchObject({ passed: 1, failed: 1, skipped: 1 });
    expect(counts?.problems).toHaveLength(1);
    expect(counts?.problems[0]).toMatch(/^broken\.test\.mjs failed to load: .*missing-fixture/);
    expect(line({ passed: 1, failed: 1, skipped: 1 })).toBe("tests: 1 passed, 1 failed, 1 skipped");
  });

  it("reads a missing report as undefined (the caller counts the run as failed)", () => {
    expect(read(join(dir, "no-such-report.json"), dir)).toBeUndefined();
  });
});
