import { withRetry as retryLoop, type RetryContext } from "../../../core/retry.js";
import { isTransportFailure, toMatrixPortError } from "./errors.js";

export type { RetryPolicy } from "../../../core/retry.js";
export { DEFAULT_RETRY_POLICY } from "../../../core/retry.js";

/**
 * The adapter's retry layer: the one loop of `core/retry`, for transport failures only (by default a network
 * failure or a 5xx answer, read from js-sdk's error shapes by `shouldRetry`), because the port owns the transaction
 * id and so can repeat a request idempotently. `attempt` receives the attempt number (1-based) to reuse its
 * transaction id. Rate limits (429) are not retried here: they reject with `retryAfterMs` for the library's layer.
 * Each attempt spends one unit of `ctx.budget` (the send's `SendBudget`), and none is retried once it is spent.
 * Every failure is rethrown as a `MatrixPortError`.
 */
export async function withRetry<T>(
  what: string,
  ctx: RetryContext,
  attempt: (attemptNumber: number) => Promise<T>,
  shouldRetry: (error: unknown) => boolean = isTransportFailure,
): Promise<T> {
  try {
    return await retryLoop(
      what,
      ctx,
      ["transport"],
      (n) => {
        ctx.budget?.spend();
        return attempt(n);
      },
      (error) => (shouldRetry(error) ? "transport" : "permanent"),
    );
  } catch (error) {
    throw toMatrixPortError(error, what);
  }
}
