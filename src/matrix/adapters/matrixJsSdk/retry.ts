import type { Clock } from "../../../core/Clock.js";
import { sleep } from "../../../core/Clock.js";
import type { Logger } from "../../../core/Logger.js";
import { isTransportFailure, toMatrixPortError } from "./errors.js";

/** How the adapter retries transport failures. */
export interface RetryPolicy {
  /** Attempts in total, the first included; 1 disables retries. */
  maxAttempts: number;
  /** Delay before the second attempt; doubles for every further attempt. */
  baseDelayMs: number;
  /** Upper bound of one delay. */
  maxDelayMs: number;
}

/** The default: 4 attempts, 500 ms, 1 s, 2 s apart. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 500, maxDelayMs: 5_000 };

/** What {@link withRetry} needs besides the operation. */
export interface RetryContext {
  clock: Clock;
  logger: Logger;
  policy: RetryPolicy;
}

/**
 * Runs `attempt` until it succeeds, fails with something that is not a transport error (`shouldRetry`, by default
 * a network failure or a 5xx answer), or runs out of attempts; every failure is rethrown as a `MatrixPortError`.
 * The operation itself must make the repeat idempotent, typically by reusing its transaction id: `attempt`
 * receives the attempt number (1-based). Rate limits (429) are not retried here: they reject with `retryAfterMs`
 * so that the caller decides.
 */
export async function withRetry<T>(
  what: string,
  ctx: RetryContext,
  attempt: (attemptNumber: number) => Promise<T>,
  shouldRetry: (error: unknown) => boolean = isTransportFailure,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const failure = toMatrixPortError(error, what);
      if (!shouldRetry(error) || n >= ctx.policy.maxAttempts) {
        throw failure;
      }
      const delayMs = Math.min(ctx.policy.baseDelayMs * 2 ** (n - 1), ctx.policy.maxDelayMs);
      ctx.logger.warn("request failed, retrying", {
        what,
        attempt: n,
        errcode: failure.errcode,
        httpStatus: failure.httpStatus,
        delayMs,
      });
      await sleep(ctx.clock, delayMs);
    }
  }
}
