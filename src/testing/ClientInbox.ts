import type { ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import type { RealTimers } from "./RealTimers.js";
import type { StoredEvent } from "./wire.js";

/** Something the server has for one client's next sync. */
export type InboxItem = { kind: "room"; event: StoredEvent } | { kind: "toDevice"; event: ToDeviceEvent };

interface Group {
  items: InboxItem[];
  ready: boolean;
}

/**
 * The server side of one client's sync stream. Items pushed during one macrotask form one group (one sync batch);
 * a group is received after the current latency, and groups are received strictly in order, whatever the latency
 * did meanwhile. Items pushed with an extra delay (reordered or duplicated to-device messages) travel alone and
 * out of order.
 */
export class ClientInbox {
  #open: Group | undefined;
  readonly #fifo: Group[] = [];
  #inFlightAlone = 0;
  #idleWaiters: (() => void)[] = [];

  public constructor(
    private readonly timers: RealTimers,
    private readonly latencyMs: () => number,
    private readonly receive: (items: InboxItem[]) => void,
  ) {}

  /** Whether nothing is on its way to the client. */
  public get idle(): boolean {
    return this.#fifo.length === 0 && this.#inFlightAlone === 0;
  }

  /** Resolves once nothing is on its way to the client. */
  public whenIdle(): Promise<void> {
    if (this.idle || this.timers.closed) {
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.#idleWaiters.push(resolve);
    });
  }

  /** Queues an item; with `extraDelayMs > 0` it travels alone, outside the ordered stream. */
  public push(item: InboxItem, extraDelayMs = 0): void {
    if (this.timers.closed) {
      return;
    }
    if (extraDelayMs > 0) {
      this.#inFlightAlone++;
      this.timers.timeout(() => {
        this.#inFlightAlone--;
        this.receive([item]);
        this.#notifyIfIdle();
      }, this.latencyMs() + extraDelayMs);
      return;
    }
    let group = this.#open;
    if (!group) {
      const fresh: Group = { items: [], ready: false };
      group = fresh;
      this.#open = fresh;
      this.#fifo.push(fresh);
      // Close the group at the next macrotask: everything pushed until then travels in one batch.
      this.timers.immediate(() => {
        if (this.#open === fresh) {
          this.#open = undefined;
        }
        this.timers.timeout(() => {
          fresh.ready = true;
          this.#drain();
        }, this.latencyMs());
      });
    }
    group.items.push(item);
  }

  /** Drops everything in flight and releases {@link ClientInbox.whenIdle} waiters (the timers are closed). */
  public close(): void {
    this.#open = undefined;
    this.#fifo.length = 0;
    this.#inFlightAlone = 0;
    this.#notifyIfIdle();
  }

  #drain(): void {
    for (let group = this.#fifo[0]; group?.ready === true; group = this.#fifo[0]) {
      this.#fifo.shift();
      this.receive(group.items);
    }
    this.#notifyIfIdle();
  }

  #notifyIfIdle(): void {
    if (!this.idle) {
      return;
    }
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) {
      resolve();
    }
  }
}
