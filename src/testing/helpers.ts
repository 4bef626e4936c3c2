import type { TypedEventEmitter } from "../core/TypedEventEmitter.js";

/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Real-time limit. Default 2000 ms. */
  timeoutMs?: number;
  /** Polling period. Default 5 ms. */
  intervalMs?: number;
  /** Added to the timeout error, to say what was awaited. */
  message?: string;
}

/**
 * Polls `predicate` in real time until it returns a truthy value (which it resolves with); rejects when
 * `timeoutMs` passes. A throwing predicate counts as "not yet"; its last error is attached as `cause`.
 */
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 2000;
  const intervalMs = Math.max(0, options.intervalMs ?? 5);
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await predicate();
      if (value) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const what = options.message === undefined ? "" : `: ${options.message}`;
      throw new Error(`waitFor timed out after ${timeoutMs} ms${what}`, { cause: lastError });
    }
    await new Promise<void>((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Anything with `on(event, listener) → unsubscribe`, such as a `TypedEventEmitter`. */
export interface Subscribable<E> {
  /** Calls `listener` on every emission of `event`; returns a function that unsubscribes. */
  on<K extends keyof E>(event: K, listener: E[K]): () => void;
}

/** Listener arguments of event `K` of event map `E`. */
export type EventArgs<E, K extends keyof E> = E[K] extends (...args: infer A) => unknown ? A : never;

/** One captured emission. */
export interface CapturedEvent<E, K extends keyof E = keyof E> {
  /** The event name. */
  event: K;
  /** The arguments it was emitted with. */
  args: EventArgs<E, K>;
}

/** What {@link captureEvents} returns. */
export interface EventCapture<E, K extends keyof E> {
  /** Every emission so far, in order. */
  readonly events: readonly CapturedEvent<E, K>[];
  /** The arguments of every emission of `event` so far. */
  of<N extends K>(event: N): EventArgs<E, N>[];
  /**
   * The arguments of the next emission of `event` not yet returned by `next` (buffered ones first, so an event
   * that fired before the call is not missed). Rejects after `timeoutMs` (real time, default 2000).
   */
  next<N extends K>(event: N, options?: { timeoutMs?: number }): Promise<EventArgs<E, N>>;
  /** Forgets every captured emission. */
  clear(): void;
  /** Unsubscribes from the emitter; pending `next` calls reject. */
  stop(): void;
}

interface Waiter {
  event: PropertyKey;
  resolve: (args: unknown) => void;
  reject: (error: Error) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** The event map of a `TypedEventEmitter` subclass, or of a {@link Subscribable} with a non-generic `on`. */
export type EventsOf<T> =
  T extends TypedEventEmitter<infer E> ? E : T extends Subscribable<infer E> ? E : never;

/**
 * Subscribes to `eventNames` on `emitter` and records every emission (LiveKit's `subscribeToEvents`). The event
 * map is inferred from a `TypedEventEmitter`; for other emitters pass it explicitly: `captureEvents<MyEvents>(…)`.
 */
export function captureEvents<T extends object, K extends keyof EventsOf<T>>(
  emitter: T,
  eventNames: readonly K[],
): EventCapture<EventsOf<T>, K>;
/** Subscribes to `eventNames` on any emitter with `on(event, listener) → unsubscribe`. */
export function captureEvents<E>(
  emitter: Subscribable<E>,
  eventNames: readonly (keyof E)[],
): EventCapture<E, keyof E>;
export function captureEvents<E, K extends keyof E>(
  emitter: Subscribable<E>,
  eventNames: readonly K[],
): EventCapture<E, K> {
  const events: CapturedEvent<E, K>[] = [];
  const consumed = new Map<PropertyKey, number>();
  const waiters: Waiter[] = [];
  const unsubscribes = eventNames.map((name) =>
    emitter.on(name, ((...args: unknown[]) => {
      const captured = { event: name, args } as unknown as CapturedEvent<E, K>;
      events.push(captured);
      const index = waiters.findIndex((waiter) => waiter.event === name);
      if (index >= 0) {
        const [waiter] = waiters.splice(index, 1) as [Waiter];
        clearTimeout(waiter.timer);
        consumed.set(name, (consumed.get(name) ?? 0) + 1);
        waiter.resolve(args);
      }
    }) as E[K]),
  );
  const of = <N extends K>(event: N): EventArgs<E, N>[] =>
    events.filter((captured) => captured.event === event).map((captured) => captured.args as EventArgs<E, N>);
  return {
    events,
    of,
    next: <N extends K>(event: N, options: { timeoutMs?: number } = {}): Promise<EventArgs<E, N>> => {
      const seen = of(event);
      const used = consumed.get(event) ?? 0;
      const buffered = seen[used];
      if (buffered !== undefined && !waiters.some((waiter) => waiter.event === event)) {
        consumed.set(event, used + 1);
        return Promise.resolve(buffered);
      }
      const timeoutMs = options.timeoutMs ?? 2000;
      return new Promise<EventArgs<E, N>>((resolve, reject) => {
        const waiter: Waiter = {
          event,
          resolve: resolve as (args: unknown) => void,
          reject,
          timer: setTimeout(() => {
            waiters.splice(waiters.indexOf(waiter), 1);
            reject(new Error(`captureEvents: no "${String(event)}" within ${timeoutMs} ms`));
          }, timeoutMs),
        };
        waiters.push(waiter);
      });
    },
    clear: () => {
      events.length = 0;
      consumed.clear();
    },
    stop: () => {
      for (const unsubscribe of unsubscribes) {
        unsubscribe();
      }
      for (const waiter of waiters.splice(0)) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`captureEvents stopped while waiting for "${String(waiter.event)}"`));
      }
    },
  };
}
