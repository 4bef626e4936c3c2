import { ConnectionError, MatrixError } from "matrix-js-sdk";
import { describe, expect, it, vi } from "vitest";
import type { Clock, TimerHandle } from "../../../core/Clock.js";
import { MatrixPortError } from "../../../core/errors.js";
import { silentLogger } from "../../../core/Logger.js";
import type { RetryContext } from "../../../core/retry.js";
import { waitOn } from "../../../core/retry.js";
import { withRetry } from "./retry.js";

/** A clock whose timers fire at once, recording the delays asked for. */
function instantClock(delays: number[]): Clock {
  return {
    now: () => 0,
    setTimeout: (fn, ms) => {
      delays.push(ms);
      queueMicrotask(fn);
      return {} as TimerHandle;
    },
    setInterval: () => ({}) as TimerHandle,
    clearTimer: () => undefined,
  };
}

function context(delays: number[], maxAttempts = 4): RetryContext {
  return {
    wait: waitOn(instantClock(delays)),
    // The top of each jitter range, so that the delays are the plain exponential ones.
    random: { bytes: (n) => new Uint8Array(n).fill(255) },
    logger: silentLogger,
    policy: { maxAttempts, baseDelayMs: 500, maxDelayMs: 1500 },
  };
}

describe("withRetry", () => {
  it("retries network failures and 5xx with growing, capped delays until it succeeds", async () => {
    const delays: number[] = [];
    const attempt = vi
      .fn<(n: number) => Promise<string>>()
      .mockRejectedValueOnce(new ConnectionError("fetch failed"))
      .mockRejectedValueOnce(new MatrixError({ errcode: "M_UNKNOWN" }, 502))
      .mockRejectedValueOnce(new MatrixError({ errcode: "M_UNKNOWN" }, 500))
      .mockResolvedValueOnce("ok");
    await expect(withRetry("send", context(delays), attempt)).resolves.toBe("ok");
    expect(attempt.mock.calls.map(([n]) => n)).toEqual([1, 2, 3, 4]);
    expect(delays).toEqual([500, 1000, 1500]);
  });

  it("gives up after maxAttempts with the last failure as a MatrixPortError", async () => {
    const attempt = vi.fn(() =>
      Promise.reject(new MatrixError({ errcode: "M_UNKNOWN", error: "down" }, 503)),
    );
    const result = withRetry("send", context([], 3), attempt);
    await expect(result).rejects.toBeInstanceOf(MatrixPortError);
    await expect(result).rejects.toMatchObject({ httpStatus: 503 });
    expect(attempt).toHaveBeenCalledTimes(3);
  });

  it("does not retry client errors, rate limits or local failures", async () => {
    for (const error of [
      new MatrixError({ errcode: "M_FORBIDDEN" }, 403),
      new MatrixError({ errcode: "M_LIMIT_EXCEEDED", retry_after_ms: 50 }, 429),
      new Error("no crypto"),
    ]) {
      const attempt = vi.fn(() => Promise.reject(error));
      await expect(withRetry("send", context([]), attempt)).rejects.toBeInstanceOf(MatrixPortError);
      expect(attempt).toHaveBeenCalledTimes(1);
    }
  });
});
