import type { Logger } from "../core/Logger.js";

/**
 * @internal Runs one of the app's delegate callbacks (sync or async). A callback that throws or rejects is logged
 * at warn and never interrupts the call flow that invoked it.
 */
export async function callDelegate(log: Logger, fn: () => unknown): Promise<void> {
  try {
    await fn();
  } catch (error) {
    log.warn("delegate callback failed", { error });
  }
}
