import { describe, expect, it } from "vitest";
import { ManualClock } from "../testing/ManualClock.js";
import { randomSourceFrom, seededRandom } from "../testing/prng.js";
import { MatrixPortError, VoipError, VoipErrorCode } from "./errors.js";
import { silentLogger, type Logger } from "./Logger.js";
import type { RandomSource } from "./random.js";
import {
  classifyFailure,
  DEFAULT_RETRY_POLICY,
  RetryBudget,
  retryDelayMs,
  waitOn,
  withRetry,
  type FailureKind,
  type RetryContext,
} from "./retry.js";

const fixed = (byte: number): RandomSource => ({ bytes: (n) => new Uint8Array(n).fill(byte) });
const serverError = (): MatrixPortError => new MatrixPortError("M_UNKNOWN", 502, "bad gateway");
const rateLimited = (ms?: number): MatrixPortError =>
  new MatrixPortError("M_LIMIT_EXCEEDED", 429, "slow down", ms);

describe("classifyFailure", () => {
  it("5xx and network errors are transport failures, 429 is a rate limit, 4xx and local errors are permanent", () => {
    expect(classifyFailure(serverError())).toBe("transport");
    expect(classifyFailure(new MatrixPortError("M_UNKNOWN", 0, "offline"))).toBe("transport");
    expect(classifyFailure(rateLimited(100))).toBe("rate_limited");
    expect(classifyFailure(new MatrixPortError("M_FORBIDDEN", 403, "no"))).toBe("permanent");
    expect(classifyFailure(new MatrixPortError("M_NOT_FOUND", 404, "no"))).toBe("permanent");
    expect(classifyFailure(new VoipError(VoipErrorCode.InvalidState, "x"))).toBe("permanent");
    expect(classifyFailure(new Error("bug"))).toBe("permanent");
  });
});

describe("retryDelayMs", () => {
  const policy = { maxAttempts: 10, baseDelayMs: 500, maxDelayMs: 5_000 };

  it("doubles per failed attempt, capped, jittered into the upper half", () => {
    const low = [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, n, fixed(0)));
    const high = [1, 2, 3, 4, 5, 6].map((n) => retryDelayMs(policy, n, fixed(255)));
    expect(low).toEqual([250, 500, 1000, 2000, 2500, 2500]);
    expect(high).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });

  it("spreads clients that failed together (jitter from the RandomSource)", () => {
    const random = randomSourceFrom(seededRandom(7));
    const delays = new Set(Array.from({ length: 20 }, () => retryDelayMs(policy, 3, random)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(2000);
    }
  });

  it("honours retry_after_ms: never less, at most 10 % more", () => {
    expect(retryDelayMs(policy, 1, fixed(0), 3000)).toBe(3000);
    expect(retryDelayMs(policy, 1, fixed(255), 3000)).toBe(3300);
    expect(retryDelayMs(policy, 3, fixed(0), 0)).toBe(1000); // no usable wait: backoff
  });
});

function context(clock: ManualClock, logger: Logger = silentLogger): RetryContext {
  return { wait: waitOn(clock), random: fixed(0), logger, policy: DEFAULT_RETRY_POLICY };
}

/** Runs `withRetry` against a failing operation, advancing the manual clock; returns the attempt times. */
async function attemptsUnder(
  failure: () => Error,
  retryOn: readonly FailureKind[],
): Promise<{ times: number[]; error: unknown; warnings: string[] }> {
  const clock = new ManualClock();
  const start = clock.now();
  const times: number[] = [];
  const warnings: string[] = [];
  const logger: Logger = { ...silentLogger, warn: (msg) => warnings.push(msg), child: () => logger };
  const result = withRetry("send", context(clock, logger), retryOn, () => {
    times.push(clock.now() - start);
    return Promise.reject(failure());
  }).catch((error: unknown) => error);
  for (let i = 0; i < 20; i++) {
    await clock.advance(10_000);
  }
  return { times, error: await result, warnings };
}

describe("withRetry", () => {
  it("permanent 5xx: exactly maxAttempts attempts with backoff, then the last error and a warn line", async () => {
    const { times, error, warnings } = await attemptsUnder(serverError, ["transport"]);
    expect(times).toEqual([0, 250, 750, 1750]);
    expect(error).toBeInstanceOf(MatrixPortError);
    expect(warnings.at(-1)).toBe("request failed, giving up");
  });

  it("permanent 429 with retry_after_ms: waits exactly that long between attempts", async () => {
    const { times } = await attemptsUnder(() => rateLimited(3000), ["rate_limited"]);
    expect(times).toEqual([0, 3000, 6000, 9000]);
  });

  it("never retries a kind it does not own, nor a permanent failure", async () => {
    expect((await attemptsUnder(() => rateLimited(100), ["transport"])).times).toEqual([0]);
    expect((await attemptsUnder(serverError, ["rate_limited"])).times).toEqual([0]);
    const forbidden = () => new MatrixPortError("M_FORBIDDEN", 403, "no");
    expect((await attemptsUnder(forbidden, ["transport", "rate_limited"])).times).toEqual([0]);
  });

  it("returns the first success and passes the attempt number", async () => {
    const clock = new ManualClock();
    const seen: number[] = [];
    const result = withRetry("send", context(clock), ["transport"], (n) => {
      seen.push(n);
      return n < 3 ? Promise.reject(serverError()) : Promise.resolve("ok");
    });
    await clock.advance(10_000);
    await expect(result).resolves.toBe("ok");
    expect(seen).toEqual([1, 2, 3]);
  });
});

describe("one budget per send across both layers", () => {
  /**
   * The two real layers around a scripted server: an inner (port) loop retrying transport failures and spending
   * one unit per request, an outer (library) loop retrying 429s, one budget shared. `answers` are the server's
   * answers in order (the last repeats); returns the requests made.
   */
  async function stacked(answers: (() => Error)[], shareBudget: boolean): Promise<number> {
    const clock = new ManualClock();
    const budget = new RetryBudget(DEFAULT_RETRY_POLICY.maxAttempts);
    let requests = 0;
    const request = (): Promise<never> => Promise.reject((answers[requests++] ?? answers.at(-1))!());
    const port = (): Promise<never> =>
      withRetry(
        "port",
        { ...context(clock), budget: shareBudget ? budget : undefined },
        ["transport"],
        () => {
          if (shareBudget) {
            budget.spend();
          }
          return request();
        },
      );
    const library = withRetry(
      "library",
      { ...context(clock), budget: shareBudget ? budget : undefined },
      ["rate_limited"],
      port,
    ).catch(() => undefined);
    for (let i = 0; i < 40; i++) {
      await clock.advance(10_000);
    }
    await library;
    return requests;
  }

  const mixed = [serverError, serverError, serverError, () => rateLimited(1000)];

  it(`5xx, 5xx, 5xx, 429, …: ${DEFAULT_RETRY_POLICY.maxAttempts} requests with the shared budget, 16 without`, async () => {
    expect(await stacked([...mixed, ...mixed, ...mixed, ...mixed], false)).toBe(16);
    expect(await stacked([...mixed, ...mixed, ...mixed, ...mixed], true)).toBe(
      DEFAULT_RETRY_POLICY.maxAttempts,
    );
  });

  it("any mix of 5xx and 429 costs exactly maxAttempts requests, whatever the order", async () => {
    const orders = [
      [() => rateLimited(500), serverError],
      [serverError, () => rateLimited(500)],
      [() => rateLimited(500)],
      [serverError],
      [serverError, serverError, () => rateLimited(500), () => rateLimited(500)],
    ];
    for (const order of orders) {
      const repeated = Array.from({ length: 8 }, (_, i) => order[i % order.length]!);
      expect(await stacked(repeated, true)).toBe(DEFAULT_RETRY_POLICY.maxAttempts);
    }
  });

  it("RetryBudget counts down to 0 and no further", () => {
    const budget = new RetryBudget(2);
    budget.spend();
    budget.spend();
    budget.spend();
    expect(budget.remaining).toBe(0);
    expect(new RetryBudget(0).remaining).toBe(1);
  });
});

describe("cancelling a retry loop", () => {
  it("an abort during a 429 wait clears the timer, rejects with the reason and makes no further attempt", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    let attempts = 0;
    const result = withRetry(
      "send",
      { ...context(clock), signal: controller.signal },
      ["rate_limited"],
      () => {
        attempts++;
        return Promise.reject(rateLimited(3000));
      },
    ).catch((error: unknown) => error);
    await clock.advance(0);
    expect(attempts).toBe(1);
    expect(clock.pendingTimers()).toBe(1);
    const reason = new VoipError(VoipErrorCode.InvalidState, "cancelled");
    controller.abort(reason);
    expect(clock.pendingTimers()).toBe(0);
    expect(await result).toBe(reason);
    await clock.advance(60_000);
    expect(attempts).toBe(1);
  });

  it("an aborted signal makes no attempt at all", async () => {
    const clock = new ManualClock();
    const controller = new AbortController();
    controller.abort(new VoipError(VoipErrorCode.InvalidState, "cancelled"));
    let attempts = 0;
    const result = withRetry(
      "send",
      { ...context(clock), signal: controller.signal },
      ["rate_limited"],
      () => {
        attempts++;
        return Promise.resolve("sent");
      },
    );
    await expect(result).rejects.toMatchObject({ code: VoipErrorCode.InvalidState });
    expect(attempts).toBe(0);
  });
});
