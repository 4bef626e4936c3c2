import type { Clock, TimerHandle } from "../core/Clock.js";
import { MatrixPortError } from "../core/errors.js";
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
  /** Sends one batch; rejects on failure. */
  send: (candidates: WireCandidate[]) => Promise<void>;
  /** Called once when sending failed more than `maxTries` times in a row. */
  onGiveUp: (error: unknown) => void;
  /** Default 5 (reference §4). */
  maxTries?: number;
}

/**
 * Outbound ICE candidate batching (PROTOCOL D7): candidates queue until the invite or answer is out, then leave
 * in batches with one flush timer at a time. A failed send keeps its candidates and retries with exponential
 * backoff (500 ms · 2^tries, or the server's `retry_after_ms` when longer); after `maxTries` failures in a row
 * it gives up.
 */
export class CandidateBatcher {
  readonly #opts: CandidateBatcherOptions;
  #queue: WireCandidate[] = [];
  #enabled = false;
  #timer: TimerHandle | undefined;
  #sending = false;
  #tries = 0;
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
    if (this.#timer !== undefined && this.#tries === 0) {
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
      this.#tries = 0;
      this.#sending = false;
      this.#schedule(this.#opts.delayMs);
    } catch (error) {
      this.#sending = false;
      // eslint-disable-next-line @typescript-eslint/no-unnecessary-condition -- dispose() may run while send() is pending
      if (this.#disposed) {
        return;
      }
      this.#queue = [...batch, ...this.#queue];
      this.#tries++;
      const maxTries = this.#opts.maxTries ?? 5;
      if (this.#tries > maxTries) {
        this.#opts.logger.error("giving up sending ICE candidates", { tries: this.#tries, error });
        this.#opts.onGiveUp(error);
        return;
      }
      const backoff = 500 * 2 ** this.#tries;
      const retryAfter = error instanceof MatrixPortError ? (error.retryAfterMs ?? 0) : 0;
      const wait = Math.max(backoff, retryAfter);
      this.#opts.logger.warn("sending ICE candidates failed, retrying", {
        tries: this.#tries,
        waitMs: wait,
        error,
      });
      this.#timer = this.#opts.clock.setTimeout(() => {
        this.#timer = undefined;
        void this.#flush();
      }, wait);
    }
  }
}
