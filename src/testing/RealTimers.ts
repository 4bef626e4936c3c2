import { MatrixPortError } from "../core/errors.js";
import { scheduleMacrotask } from "./macrotask.js";

/** The error of every request pending or started after {@link LocalHomeserver.close}. */
export function closedError(): MatrixPortError {
  return new MatrixPortError("M_UNKNOWN", 0, "LocalHomeserver is closed");
}

/**
 * The homeserver's real-time timers (macrotasks, latency, retry backoff), tracked so that `close()` can cancel
 * every one of them and reject whatever waits on them: no handle outlives the server.
 */
export class RealTimers {
  readonly #immediates = new Set<() => void>();
  readonly #timeouts = new Set<ReturnType<typeof setTimeout>>();
  readonly #waiters = new Set<(error: Error) => void>();
  #closed = false;

  /** Whether {@link RealTimers.close} was called. */
  public get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` in a later macrotask; ignored after close. */
  public immediate(fn: () => void): void {
    if (this.#closed) {
      return;
    }
    const cancel = scheduleMacrotask(() => {
      this.#immediates.delete(cancel);
      fn();
    });
    this.#immediates.add(cancel);
  }

  /** Runs `fn` after `ms` real milliseconds (a macrotask when `ms` is 0); ignored after close. */
  public timeout(fn: () => void, ms: number): void {
    if (ms <= 0) {
      this.immediate(fn);
      return;
    }
    if (this.#closed) {
      return;
    }
    const handle = setTimeout(() => {
      this.#timeouts.delete(handle);
      fn();
    }, ms);
    this.#timeouts.add(handle);
  }

  /** Resolves after `ms` real milliseconds; rejects with {@link closedError} if the server closes first. */
  public sleep(ms: number): Promise<void> {
    return this.waitFor((resolve) => {
      this.timeout(resolve, ms);
    });
  }

  /**
   * A promise settled by `start(resolve, reject)` that is rejected with {@link closedError} when the server closes
   * before it settles (or at once if it already has).
   */
  public waitFor<T>(
    start: (resolve: (value: T) => void, reject: (error: unknown) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#closed) {
        reject(closedError());
        return;
      }
      const onClose = (error: Error): void => {
        reject(error);
      };
      this.#waiters.add(onClose);
      start(
        (value) => {
          this.#waiters.delete(onClose);
          resolve(value);
        },
        (error) => {
          this.#waiters.delete(onClose);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  /** Number of promises from {@link RealTimers.waitFor} not yet settled. */
  public get pendingWaits(): number {
    return this.#waiters.size;
  }

  /** Cancels every timer and rejects every pending wait; later calls schedule nothing. */
  public close(): void {
    this.#closed = true;
    for (const cancel of this.#immediates) {
      cancel();
    }
    for (const handle of this.#timeouts) {
      clearTimeout(handle);
    }
    this.#immediates.clear();
    this.#timeouts.clear();
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const reject of waiters) {
      reject(closedError());
    }
  }
}
