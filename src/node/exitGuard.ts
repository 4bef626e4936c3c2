let installed = false;

/**
 * Makes the process exit normally once its event loop is empty. `@roamhq/wrtc` segfaults (or hangs) at process
 * exit once a media source has existed; exiting from `beforeExit` avoids it. Tests, the demo and the benchmark
 * call this; importing the module installs nothing, so a host program keeps control of its process. Idempotent.
 */
export function installExitGuard(): void {
  if (installed) {
    return;
  }
  installed = true;
  process.on("beforeExit", () => {
    process.exit(process.exitCode ?? 0);
  });
}
