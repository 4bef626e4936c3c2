import type { Clock, TimerHandle } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";

/** A candidate as it goes on the wire. */
export interface WireCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** Options of {@link CandidateBatcher}. */
export interface CandidateBatcherOptions {
  clock: Clock;
  logger: Logger;
  /** Delay between the first queued candidate and the send. */
  delayMs: number;
  /** Sends one batch, retried below as `core/retry` says (the port: 5xx and network; the library: 429); rejects
   * once those retries are spent. */
  send: (candidates: WireCandidate[]) => Promise<void>;
  /** Called once when a batch could not be sent. */
  onGiveUp: (error: unknown) => void;
}

/**
 * Outbound ICE candidate batching (PROTOCOL D7): candidates queue until the invite or answer is out, then leave
 * in batches with one flush timer at a time. The batcher does not retry on its own: `send` is retried by the one
 * retry policy below it (`core/retry`: the port retries transport failures, the library rate limits), so one
 * batch costs at most that many requests. When `send` rejects, the batch's candidates stay queued (never lost),
 * nothing more is sent, and `onGiveUp` is called once.
 */
export class CandidateBatcher {
  readonly #opts: CandidateBatcherOptions;
  #queue: WireCandidate[] = [];
  #enabled = false;
  #timer: TimerHandle | undefined;
  #sending = false;
  #failed = false;
  #disposed = false;

  public constructor(opts: CandidateBatcherOptions) {
    this.#opts = opts;
  }

  /** Candidates waiting to be sent. */
  public get pending(): readonly WireCandidate[] {
    return this.#queue;
  }

  /** Queues a local candidate. */
  public add(candidate: WireCandidate): void {
    if (this.#disposed) {
      return;
    }
    this.#queue.push(candidate);
    this.#schedule(this.#opts.delayMs);
  }

  /** Drops queued candidates (they went out inside the SDP of the invite or answer). */
  public discardQueued(): void {
    this.#queue = [];
  }

  /** Starts sending (the invite or answer is out). */
  public enable(): void {
    this.#enabled = true;
    this.#schedule(this.#opts.delayMs);
  }

  /** Sends what is queued now (ICE gathering finished). */
  public flushSoon(): void {
    if (this.#timer !== undefined) {
      this.#opts.clock.clearTimer(this.#timer);
      this.#timer = undefined;
    }
    this.#schedule(0);
  }

  /** Stops for good; clears the timer. */
  public dispose(): void {
    this.#disposed = true;
    this.#opts.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#queue = [];
  }

  #schedule(delayMs: number): void {
    if (
      !this.#enabled ||
      this.#disposed ||
      this.#failed ||
      this.#timer !== undefined ||
      this.#sending ||
      this.#queue.length === 0
    ) {
      return;
    }
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      void this.#flush();
    }, delayMs);
  }

  async #flush(): Promise<void> {
    if (this.#disposed || this.#queue.length === 0) {
      return;
    }
    const batch = this.#queue;
    this.#queue = [];
    this.#sending = true;
    try {
      await this.#opts.send(batch);
      this.#sending = false;
      this.#schedule(this.#opts.delayMs);
    } catch (error) {
      this.#sending = false;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- dispose() may run while send() is pending
      if (this.#disposed) {
        return;
      }
      this.#queue = [...batch, ...this.#queue];
      this.#failed = true;
      this.#opts.logger.error("could not send ICE candidates; giving up", {
        candidates: this.#queue.length,
        error,
      });
      this.#opts.onGiveUp(error);
    }
  }
}
