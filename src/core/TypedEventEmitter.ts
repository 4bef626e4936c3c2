import type { Logger } from "./Logger.js";
import { silentLogger } from "./Logger.js";

/** A map from event name to the listener signature of that event (an interface or a type alias). */
export type EventMap<E> = { [K in keyof E]: (...args: never[]) => void };

/** Removes the listener it was returned for; calling it twice is harmless. */
export type Unsubscribe = () => void;

/**
 * A small typed event emitter.
 *
 * `on()` returns an unsubscribe function. A listener that throws (or returns a rejected promise) is logged
 * and skipped: it can never interrupt the emitter or corrupt the state of the object that emits.
 */
export class TypedEventEmitter<E extends EventMap<E>> {
  readonly #listeners = new Map<keyof E, Set<E[keyof E]>>();
  /** Logger for listener failures; subclasses may replace it. */
  protected emitterLogger: Logger = silentLogger;

  /** Subscribes to `event`; returns a function that unsubscribes. */
  public on<K extends keyof E>(event: K, listener: E[K]): Unsubscribe {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener);
    return () => {
      this.off(event, listener);
    };
  }

  /** Subscribes to the next `event` only. */
  public once<K extends keyof E>(event: K, listener: E[K]): Unsubscribe {
    const wrapper = ((...args: Parameters<E[K]>) => {
      unsubscribe();
      (listener as (...a: Parameters<E[K]>) => unknown)(...args);
    }) as E[K];
    const unsubscribe = this.on(event, wrapper);
    return unsubscribe;
  }

  /** Removes a listener added with `on`. */
  public off<K extends keyof E>(event: K, listener: E[K]): void {
    const set = this.#listeners.get(event);
    if (!set) {
      return;
    }
    set.delete(listener);
    if (set.size === 0) {
      this.#listeners.delete(event);
    }
  }

  /** Number of listeners currently subscribed to `event`. */
  public listenerCount(event: keyof E): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Removes every listener of every event. */
  protected removeAllListeners(): void {
    this.#listeners.clear();
  }

  /** Calls every listener of `event` in subscription order; listener failures are logged, never thrown. */
  protected emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): void {
    const set = this.#listeners.get(event);
    if (!set) {
      return;
    }
    for (const listener of [...set]) {
      try {
        const result = (listener as (...a: Parameters<E[K]>) => unknown)(...args);
        if (result instanceof Promise) {
          result.catch((error: unknown) => {
            this.emitterLogger.warn("event listener rejected", { event: String(event), error });
          });
        }
      } catch (error) {
        this.emitterLogger.warn("event listener threw", { event: String(event), error });
      }
    }
  }
}
