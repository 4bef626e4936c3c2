import { sleep, type Clock } from "../core/Clock.js";
import { MatrixPortError } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";

/**
 * Runs `send`, retrying when the server rate-limits us (429, after its `retry_after_ms`, at least 500 ms) up to
 * `maxTries` times. Transport errors are the port's to retry (it owns transaction ids); other errors reject.
 */
export async function sendWithRetry<T>(
  clock: Clock,
  log: Logger,
  send: () => Promise<T>,
  maxTries = 4,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      const limited = error instanceof MatrixPortError && error.httpStatus === 429;
      if (!limited || attempt >= maxTries) {
        throw error;
      }
      const waitMs = Math.max(500, error.retryAfterMs ?? 0);
      log.warn("rate limited, retrying", { attempt, waitMs });
      await sleep(clock, waitMs);
    }
  }
}
