import type { Clock, TimerHandle } from "../core/Clock.js";
import { nextMacrotask } from "./macrotask.js";

/** The default start time of a {@link ManualClock}: 2023-11-14T22:13:20Z. */
export const MANUAL_CLOCK_START = 1_700_000_000_000;

interface ManualTimer {
  handle: TimerHandle;
  fn: () => void;
  due: number;
  /** Period of an interval; `undefined` for a one-shot timer. */
  period: number | undefined;
  /** Scheduling order, to run timers due at the same time in the order they were set. */
  seq: number;
}

/** Rounds of microtask settling between timers (enough for a few chained awaits). */
const MICROTASK_ROUNDS = 20;
/** Guard against timers that keep rescheduling themselves at the current time. */
const MAX_TIMERS_PER_ADVANCE = 100_000;

/**
 * A {@link Clock} that only moves when told to. `advance(ms)` runs every timer that falls due, in time order
 * (intervals repeatedly, and timers scheduled by timers if they fall due within the window), and lets promise
 * chains settle between timers, so `await clock.advance(60_000)` plays a minute of the library's timers at once.
 * The homeserver's deliveries never wait on it.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #timers = new Map<TimerHandle, ManualTimer>();
  #advancing: Promise<void> = Promise.resolve();

  public constructor(startMs: number = MANUAL_CLOCK_START) {
    this.#now = startMs;
  }

  public now(): number {
    return this.#now;
  }

  public setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, undefined);
  }

  public setInterval(fn: () => void, ms: number): TimerHandle {
    return this.#add(fn, ms, Math.max(1, sanitize(ms)));
  }

  public clearTimer(handle: TimerHandle | undefined): void {
    if (handle !== undefined) {
      this.#timers.delete(handle);
    }
  }

  /** Number of scheduled timers (intervals count until cleared): assert 0 to prove nothing leaks. */
  public pendingTimers(): number {
    return this.#timers.size;
  }

  /** Milliseconds until the next timer falls due, or `undefined` when none is scheduled. */
  public nextTimerIn(): number | undefined {
    const next = this.#next(Number.POSITIVE_INFINITY);
    return next === undefined ? undefined : next.due - this.#now;
  }

  /**
   * Moves time forward by `ms`, running due timers in order and settling microtasks after each. Concurrent calls
   * run one after another. Rejects with the first error a timer threw (after running the rest).
   */
  public advance(ms: number): Promise<void> {
    const run = this.#advancing.then(() => this.#advance(sanitize(ms)));
    this.#advancing = run.catch(() => undefined);
    return run;
  }

  /** Runs the timers due now (`advance(0)`). */
  public runDue(): Promise<void> {
    return this.advance(0);
  }

  async #advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    const errors: unknown[] = [];
    let count = 0;
    await settle();
    for (let timer = this.#next(target); timer; timer = this.#next(target)) {
      if (++count > MAX_TIMERS_PER_ADVANCE) {
        throw new Error(`ManualClock.advance: more than ${MAX_TIMERS_PER_ADVANCE} timers ran; a timer loop?`);
      }
      this.#now = Math.max(this.#now, timer.due);
      if (timer.period === undefined) {
        this.#timers.delete(timer.handle);
      } else {
        timer.due += timer.period;
        timer.seq = ++this.#seq;
      }
      try {
        timer.fn();
      } catch (error) {
        errors.push(error);
      }
      await settle();
    }
    this.#now = Math.max(this.#now, target);
    await settle();
    if (errors.length === 1) {
      throw errors[0];
    }
    if (errors.length > 1) {
      throw new AggregateError(errors, `ManualClock.advance: ${errors.length} timers threw`);
    }
  }

  #add(fn: () => void, ms: number, period: number | undefined): TimerHandle {
    const handle = { __timer: true } as const;
    const due = this.#now + (period ?? sanitize(ms));
    this.#timers.set(handle, { handle, fn, due, period, seq: ++this.#seq });
    return handle;
  }

  #next(limit: number): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const timer of this.#timers.values()) {
      if (
        timer.due <= limit &&
        (!best || timer.due < best.due || (timer.due === best.due && timer.seq < best.seq))
      ) {
        best = timer;
      }
    }
    return best;
  }
}

function sanitize(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Lets pending promise chains run: several microtask rounds, then one macrotask. */
async function settle(): Promise<void> {
  for (let i = 0; i < MICROTASK_ROUNDS; i++) {
    await Promise.resolve();
  }
  await nextMacrotask();
  for (let i = 0; i < MICROTASK_ROUNDS; i++) {
    await Promise.resolve();
  }
}
