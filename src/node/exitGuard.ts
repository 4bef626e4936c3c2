/**
 * Marker on `process`, shared by every copy of this module (the built package and the sources may both be loaded in
 * one process), so that the guard is installed once per process.
 */
const INSTALLED = Symbol.for("famedly-calls.node.exitGuard");

type MarkedProcess = NodeJS.Process & { [INSTALLED]?: true };

/**
 * Makes the process exit normally once its event loop is empty. `@roamhq/wrtc` segfaults (or hangs) at process
 * exit once a media source has existed; exiting from `beforeExit` avoids it. Tests, the demo and the benchmark
 * call this; importing the module installs nothing, so a host program keeps control of its process. Idempotent:
 * a second call (from any copy of the package) adds no second listener.
 */
export function installExitGuard(): void {
  const marked = process as MarkedProcess;
  if (marked[INSTALLED] === true) {
    return;
  }
  marked[INSTALLED] = true;
  process.on("beforeExit", () => {
    process.exit(process.exitCode ?? 0);
  });
}
