import { sleep, type Clock } from "./Clock.js";
import { MatrixPortError } from "./errors.js";
import type { Logger } from "./Logger.js";
import type { RandomSource } from "./random.js";

/**
 * What kind of failure a request ended in, which decides whether and where it is retried:
 * - `transport`: no answer (network error, status 0) or a 5xx answer — retried by the port, which owns the
 *   transaction id and so can repeat the request idempotently;
 * - `rate_limited`: a 429 `M_LIMIT_EXCEEDED` — retried by the library after the server's `retry_after_ms`;
 * - `permanent`: anything else (4xx such as `M_FORBIDDEN`, local failures) — never retried.
 */
export type FailureKind = "transport" | "rate_limited" | "permanent";

/** Classifies a failure of a `MatrixClientPort` request; anything that is not a `MatrixPortError` is permanent. */
export function classifyFailure(error: unknown): FailureKind {
  if (!(error instanceof MatrixPortError)) {
    return "permanent";
  }
  if (error.httpStatus === 429) {
    return "rate_limited";
  }
  return error.httpStatus === 0 || error.httpStatus >= 500 ? "transport" : "permanent";
}

/** How often and how far apart a request is retried. */
export interface RetryPolicy {
  /** Attempts in total, the first included; 1 disables retries. */
  maxAttempts: number;
  /** Backoff before the second attempt; doubles for every further attempt (then jittered). */
  baseDelayMs: number;
  /** Upper bound of one backoff. */
  maxDelayMs: number;
}

/** The default: 4 attempts; backoffs of about 500 ms, 1 s and 2 s (each jittered into its upper half). */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 4,
  baseDelayMs: 500,
  maxDelayMs: 5_000,
};

/** A uniform number in `[0, 1)` from 32 random bits. */
function unitInterval(random: RandomSource): number {
  const [a = 0, b = 0, c = 0, d = 0] = random.bytes(4);
  return (((a << 24) >>> 0) + (b << 16) + (c << 8) + d) / 2 ** 32;
}

/**
 * The wait before the next attempt, after `failedAttempts` failed ones (1-based). Pure, given `random`.
 * - With `retryAfterMs` (a 429 that names a wait): that wait, plus up to 10 % jitter — never less.
 * - Otherwise: exponential backoff `baseDelayMs · 2^(failedAttempts − 1)`, capped at `maxDelayMs`, with "equal
 *   jitter": uniform in the upper half `[d/2, d)`, so that clients failing together do not retry together.
 */
export function retryDelayMs(
  policy: Readonly<RetryPolicy>,
  failedAttempts: number,
  random: RandomSource,
  retryAfterMs?: number,
): number {
  const u = unitInterval(random);
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
    return Math.round(retryAfterMs * (1 + 0.1 * u));
  }
  const exponential = Math.min(policy.baseDelayMs * 2 ** Math.max(0, failedAttempts - 1), policy.maxDelayMs);
  return Math.round(exponential / 2 + (exponential / 2) * u);
}

/**
 * One send's allowance of requests, shared by the two layers that retry it (see {@link withRetry}): the port spends
 * one unit per request it makes, its transport retries included; the library's rate-limit loop and the port's
 * transport loop make no retry once it is spent. So a send costs at most `maxAttempts` requests whatever mix of
 * 5xx and 429 answers it meets. It satisfies the port's `SendBudget`.
 */
export class RetryBudget {
  #remaining: number;

  /** A budget of `maxAttempts` requests (at least 1). */
  public constructor(maxAttempts: number) {
    this.#remaining = Math.max(1, Math.floor(maxAttempts));
  }

  /** Requests this send may still make. */
  public get remaining(): number {
    return this.#remaining;
  }

  /** Spends one request (the budget never goes below 0). */
  public spend(): void {
    this.#remaining = Math.max(0, this.#remaining - 1);
  }
}

/** What {@link withRetry} runs on. */
export interface RetryContext {
  /**
   * Waits between attempts: {@link waitOn} the injected clock (a test server may use its own real-time timers).
   * Given a signal, an abort ends the wait at once, rejecting with the signal's reason.
   */
  wait: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** The jitter source (the injected `RandomSource`). */
  random: RandomSource;
  logger: Logger;
  policy: Readonly<RetryPolicy>;
  /**
   * The send's shared request allowance ({@link RetryBudget}, the port's `SendBudget`): no retry once it is spent.
   * The loop only reads it; whoever makes the requests (the port) spends it.
   */
  budget?: Pick<RetryBudget, "remaining" | "spend"> | undefined;
  /** Cancels the loop: no attempt starts and no wait goes on once it is aborted; rejects with its reason. */
  signal?: AbortSignal | undefined;
}

/** The `wait` of a {@link RetryContext} on `clock`; cancellable through its signal. */
export function waitOn(clock: Clock): (ms: number, signal?: AbortSignal) => Promise<void> {
  return (ms, signal) => sleep(clock, ms, signal);
}

/**
 * The one retry loop of the library and its ports. Runs `attempt` (with its 1-based number) until it succeeds, it
 * fails with a kind not in `retryOn`, `policy.maxAttempts` attempts failed or `ctx.budget` is spent; then rethrows
 * the last failure (after a warn line naming how many attempts were made). Waits with `ctx.wait` between attempts,
 * as {@link retryDelayMs} says. `classify` maps a failure to its kind ({@link classifyFailure} by default; an
 * adapter passes its own when it must read an SDK's error shapes). An abort of `ctx.signal` ends the loop at once
 * (a pending wait's timer is cleared) with the signal's reason, and no further attempt is made.
 *
 * Each layer retries only the kinds it owns (see `docs/architecture.md`): ports `transport`, the library
 * `rate_limited`; so no layer retries a failure another layer retries already. One {@link RetryBudget} per send,
 * handed down to the port, bounds both together: a send makes at most `maxAttempts` requests in all, however its
 * failures mix (a port that ignores the budget bounds only its own loop: then at most `maxAttempts²`).
 */
export async function withRetry<T>(
  what: string,
  ctx: RetryContext,
  retryOn: readonly FailureKind[],
  attempt: (attemptNumber: number) => Promise<T>,
  classify: (error: unknown) => FailureKind = classifyFailure,
): Promise<T> {
  const maxAttempts = Math.max(1, Math.floor(ctx.policy.maxAttempts));
  for (let n = 1; ; n++) {
    ctx.signal?.throwIfAborted();
    try {
      return await attempt(n);
    } catch (error) {
      const kind = classify(error);
      if (!retryOn.includes(kind)) {
        throw error;
      }
      ctx.signal?.throwIfAborted();
      if (n >= maxAttempts || ctx.budget?.remaining === 0) {
        ctx.logger.warn("request failed, giving up", { what, kind, attempts: n, error });
        throw error;
      }
      const retryAfterMs = error instanceof MatrixPortError ? error.retryAfterMs : undefined;
      const delayMs = retryDelayMs(
        ctx.policy,
        n,
        ctx.random,
        kind === "rate_limited" ? retryAfterMs : undefined,
      );
      ctx.logger.warn("request failed, retrying", { what, kind, attempt: n, delayMs });
      await ctx.wait(delayMs, ctx.signal);
    }
  }
}
