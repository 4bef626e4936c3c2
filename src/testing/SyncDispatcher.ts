import type { Logger } from "../core/Logger.js";
import type { SyncBatch } from "../matrix/MatrixClientPort.js";
import type { RealTimers } from "./RealTimers.js";

/** A sync listener, as `MatrixClientPort.onSync` takes it. */
export type SyncListener = (batch: SyncBatch) => void | Promise<void>;

interface Subscription {
  listener: SyncListener;
  chain: Promise<void>;
  active: boolean;
  queued: number;
}

/**
 * Hands received batches to a client's `onSync` listeners. Each listener has its own chain: it gets one batch at a
 * time, in order, and the next only after the previous call (and its promise) has settled. A new listener first
 * gets the client's initial batch. Nothing is ever delivered synchronously, nor after close.
 */
export class SyncDispatcher {
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;

  public constructor(
    private readonly timers: RealTimers,
    private readonly logger: Logger,
    private readonly initialBatch: () => SyncBatch | undefined,
  ) {}

  /** Adds a listener; returns its unsubscribe function (idempotent). */
  public subscribe(listener: SyncListener): () => void {
    const subscription: Subscription = {
      listener,
      chain: Promise.resolve(),
      active: !this.#closed,
      queued: 0,
    };
    if (!subscription.active) {
      return () => undefined;
    }
    this.#subscriptions.add(subscription);
    const initial = this.initialBatch();
    subscription.queued++;
    subscription.chain = new Promise<void>((resolve) => {
      this.timers.immediate(resolve);
    }).then(() => this.#run(subscription, initial));
    return () => {
      subscription.active = false;
      this.#subscriptions.delete(subscription);
    };
  }

  /** Number of active listeners. */
  public get listenerCount(): number {
    return this.#subscriptions.size;
  }

  /** Queues `batch` for every active listener. */
  public dispatch(batch: SyncBatch): void {
    const many = this.#subscriptions.size > 1;
    for (const subscription of this.#subscriptions) {
      const own = many ? structuredClone(batch) : batch;
      subscription.queued++;
      subscription.chain = subscription.chain.then(() => this.#run(subscription, own));
    }
  }

  /** Whether no listener has a batch queued or running. */
  public get idle(): boolean {
    return [...this.#subscriptions].every((subscription) => subscription.queued === 0);
  }

  /** Stops every delivery, including batches already queued. */
  public close(): void {
    this.#closed = true;
    for (const subscription of this.#subscriptions) {
      subscription.active = false;
    }
    this.#subscriptions.clear();
  }

  async #run(subscription: Subscription, batch: SyncBatch | undefined): Promise<void> {
    try {
      if (batch !== undefined && subscription.active && !this.#closed) {
        await subscription.listener(batch);
      }
    } catch (error) {
      this.logger.warn("sync listener failed", { error });
    } finally {
      subscription.queued--;
    }
  }
}
