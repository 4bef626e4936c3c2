import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import { describe, expect, it } from "vitest";

import { installExitGuard } from "./exitGuard.js";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

/** Runs an ESM snippet in a fresh Node process (TypeScript through tsx), from the repository root. */
function runSnippet(code: string): Promise<{ stdout: string }> {
  return run(process.execPath, ["--import", "tsx", "-e", code], { cwd: repoRoot, timeout: 15_000 });
}

describe("installExitGuard", () => {
  it("is idempotent: a second call adds no second beforeExit listener", () => {
    installExitGuard(); // test/setup.ts already called it once
    const listeners = process.listenerCount("beforeExit");
    installExitGuard();
    installExitGuard();
    expect(process.listenerCount("beforeExit")).toBe(listeners);
  });

  it("is not installed by importing famedly-calls/node", async () => {
    const { stdout } = await runSnippet(
      `const node = await import("./src/node/index.ts");
       console.log(typeof node.createNodeDelegate, process.listenerCount("beforeExit"));`,
    );
    expect(stdout.trim()).toBe("function 0");
  });

  it("lets a process that used synthetic media exit with code 0", async () => {
    // Without the guard this process ends with SIGSEGV (rc 139): the @roamhq/wrtc exit bug.
    const { stdout } = await runSnippet(
      `const { createNodeDelegate, installExitGuard } = await import("./src/node/index.ts");
       installExitGuard();
       const stream = await createNodeDelegate().mediaDevices.getUserMedia({ audio: true, video: true });
       await new Promise((resolve) => setTimeout(resolve, 100));
       for (const track of stream.getTracks()) track.stop();
       console.log("tracks", stream.getTracks().length);`,
    );
    expect(stdout.trim()).toBe("tracks 2");
  });
});
