/** An opaque handle for a scheduled timer. */
export interface TimerHandle {
  /** Type brand only: it keeps other values from passing as a handle (real handles need not carry it). */
  readonly __timer: true;
}

/**
 * Time and timers, injected so that every timer-driven rule (invite lifetime, expiry, key delays) can be tested
 * without waiting. `ManualClock` (in `famedly-calls/testing`) is the test implementation.
 */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Runs `fn` every `ms` milliseconds, the first time after one period. */
  setInterval(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer from `setTimeout` or `setInterval`; unknown or cleared handles are ignored. */
  clearTimer(handle: TimerHandle | undefined): void;
}

/** The wall clock and the platform's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms) as unknown as TimerHandle,
  setInterval: (fn, ms) => setInterval(fn, ms) as unknown as TimerHandle,
  clearTimer: (handle) => {
    if (handle !== undefined) {
      clearTimeout(handle as unknown as ReturnType<typeof setTimeout>);
      clearInterval(handle as unknown as ReturnType<typeof setInterval>);
    }
  },
};

/**
 * Resolves after `ms` on `clock`. With `signal`: rejects with the signal's reason as soon as it is aborted (at once
 * when it already is), and the timer is cleared — an aborted sleep leaves nothing scheduled.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimer(timer);
      reject(signal?.reason as Error);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
