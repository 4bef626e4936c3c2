// Small waiting helpers for the demo scenarios (real time; the demo runs on the system clock).

/** A step of a scenario failed; `step` names it. */
export class StepError extends Error {
  public constructor(
    public readonly step: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "StepError";
  }
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `predicate` every 10 ms until it holds. Rejects with "timed out after N ms waiting for <what>" otherwise,
 * and with the signal's reason once `signal` is aborted.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await predicate())) {
    signal?.throwIfAborted();
    if (Date.now() >= end) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(10);
  }
}

/** Rejects with "timed out after N ms: <what>" if `promise` does not settle within `timeoutMs`. */
export async function withTimeout<T>(promise: Promise<T>, what: string, timeoutMs: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new Error(`timed out after ${timeoutMs} ms: ${what}`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
