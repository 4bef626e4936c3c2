import type { Clock, TimerHandle } from "../core/Clock.js";
import { MatrixPortError } from "../core/errors.js";
import type { DelayedEvent } from "../matrix/MatrixClientPort.js";
import { cloneContent } from "./wire.js";

/** A scheduled MSC4140 delayed state event, as the server keeps it. */
export interface DelayedEntry {
  delayId: string;
  userId: string;
  deviceId: string;
  roomId: string;
  type: string;
  stateKey: string;
  content: Record<string, unknown>;
  delayMs: number;
  runningSince: number;
  timer: TimerHandle | undefined;
}

/** One page of `GET /delayed_events`. */
export interface DelayedEventsPage {
  events: DelayedEvent[];
  nextBatch?: string;
}

/**
 * MSC4140 delayed events on the injected clock: schedule, restart, cancel, send now, list in pages. When a delay
 * elapses the entry is handed to `publish` (which checks power levels then); a failure there is reported to
 * `onRejected` and the event is dropped, as Synapse does.
 */
export class DelayedEventStore {
  readonly #entries = new Map<string, DelayedEntry>();

  public constructor(
    private readonly clock: Clock,
    private readonly newDelayId: () => string,
    private readonly publish: (entry: DelayedEntry) => void,
    private readonly onRejected: (entry: DelayedEntry, error: unknown) => void,
  ) {}

  /** Schedules a delayed state event; returns its delay id. */
  public schedule(entry: Omit<DelayedEntry, "delayId" | "runningSince" | "timer">): string {
    const scheduled: DelayedEntry = {
      ...entry,
      delayId: this.newDelayId(),
      runningSince: 0,
      timer: undefined,
    };
    this.#entries.set(scheduled.delayId, scheduled);
    this.#start(scheduled);
    return scheduled.delayId;
  }

  /** Applies an MSC4140 action; unknown ids reject with 404 `M_NOT_FOUND`. */
  public update(delayId: string, action: "cancel" | "restart" | "send"): void {
    const entry = this.#entries.get(delayId);
    if (!entry) {
      throw new MatrixPortError("M_NOT_FOUND", 404, `Delayed event ${delayId} not found`);
    }
    switch (action) {
      case "restart":
        this.#start(entry);
        return;
      case "cancel":
        this.#remove(entry);
        return;
      case "send":
        this.#remove(entry);
        this.publish(entry);
        return;
    }
  }

  /** Cancels pending events of other users for the same room, type and state key (Synapse ≥ 1.127 rule). */
  public cancelOverwritten(roomId: string, type: string, stateKey: string, sender: string): void {
    for (const entry of [...this.#entries.values()]) {
      if (
        entry.roomId === roomId &&
        entry.type === type &&
        entry.stateKey === stateKey &&
        entry.userId !== sender
      ) {
        this.#remove(entry);
      }
    }
  }

  /** One page of `userId`'s pending events, in scheduling order; `from` is a previous page's `nextBatch`. */
  public list(userId: string, from: string | undefined, pageSize: number): DelayedEventsPage {
    const offset = from === undefined ? 0 : Number.parseInt(from.replace(/^p/, ""), 10);
    if (from !== undefined && (!/^p\d+$/.test(from) || !Number.isSafeInteger(offset))) {
      throw new MatrixPortError("M_INVALID_PARAM", 400, `Invalid from token ${JSON.stringify(from)}`);
    }
    const mine = [...this.#entries.values()].filter((entry) => entry.userId === userId);
    const size = Math.max(1, pageSize);
    const events = mine.slice(offset, offset + size).map((entry) => ({
      delayId: entry.delayId,
      roomId: entry.roomId,
      type: entry.type,
      stateKey: entry.stateKey,
      delayMs: entry.delayMs,
      runningSince: entry.runningSince,
      content: cloneContent(entry.content),
    }));
    return offset + size < mine.length ? { events, nextBatch: `p${offset + size}` } : { events };
  }

  /** Number of pending delayed events. */
  public get size(): number {
    return this.#entries.size;
  }

  /** Clears every timer; the store stays empty. */
  public close(): void {
    for (const entry of this.#entries.values()) {
      this.clock.clearTimer(entry.timer);
    }
    this.#entries.clear();
  }

  #start(entry: DelayedEntry): void {
    this.clock.clearTimer(entry.timer);
    entry.runningSince = this.clock.now();
    entry.timer = this.clock.setTimeout(() => {
      entry.timer = undefined;
      if (this.#entries.get(entry.delayId) !== entry) {
        return;
      }
      this.#entries.delete(entry.delayId);
      try {
        this.publish(entry);
      } catch (error) {
        this.onRejected(entry, error);
      }
    }, entry.delayMs);
  }

  #remove(entry: DelayedEntry): void {
    this.clock.clearTimer(entry.timer);
    entry.timer = undefined;
    this.#entries.delete(entry.delayId);
  }
}
