/**
 * @internal PROTOCOL G3: to-device messages arrive in any order and sometimes twice. Mesh signalling carries a
 * `seq` (0, 1, 2 … per sending call); this pure core puts the messages of one stream (one sending device, session
 * and call) back in order and drops duplicates. A gap is waited for at most `gapTimeoutMs`: then what is held is
 * released in order, the missing ones counted as lost (a late copy of a skipped `seq` is dropped).
 *
 * Input in, actions out: {@link SeqOrderer.accept} and {@link SeqOrderer.expire} return the items to deliver now, in
 * order; {@link SeqOrderer.nextDeadline} says when the shell should call `expire` next. No clock, no timers.
 */
export class SeqOrderer<T> {
  readonly #streams = new Map<string, StreamState<T>>();
  readonly #gapTimeoutMs: number;
  readonly #maxStreams: number;

  /**
   * @param gapTimeoutMs longest wait for a missing `seq` before the held messages are released
   * @param maxStreams streams remembered at most; the least recently used is forgotten first
   */
  public constructor(gapTimeoutMs: number, maxStreams = 1024) {
    this.#gapTimeoutMs = gapTimeoutMs;
    this.#maxStreams = maxStreams;
  }

  /**
   * Takes one message of stream `key`. Returns what to deliver now, in order: nothing for a duplicate or while a
   * gap before it is open; the message and every held one that now follows without a gap otherwise. A message
   * without `seq` is delivered at once.
   */
  public accept(key: string, seq: number | undefined, item: T, now: number): SeqVerdict<T> {
    if (seq === undefined) {
      return { deliver: [item], duplicate: false };
    }
    const stream = this.#stream(key);
    if (seq < stream.next || stream.held.has(seq)) {
      return { deliver: [], duplicate: true };
    }
    stream.held.set(seq, item);
    const deliver = this.#drain(stream);
    if (stream.held.size > 0) {
      stream.gapSince ??= now;
    }
    return { deliver, duplicate: false };
  }

  /** Releases, in order, the held messages of every stream whose gap has been open for `gapTimeoutMs`. */
  public expire(now: number): { key: string; deliver: T[]; skipped: number }[] {
    const released: { key: string; deliver: T[]; skipped: number }[] = [];
    for (const [key, stream] of this.#streams) {
      if (stream.gapSince === undefined || now - stream.gapSince < this.#gapTimeoutMs) {
        continue;
      }
      const first = Math.min(...stream.held.keys());
      const skipped = first - stream.next;
      stream.next = first;
      released.push({ key, deliver: this.#drain(stream), skipped });
      // Still held after the release: a new gap further on, timed from now.
      stream.gapSince = stream.held.size > 0 ? now : undefined;
    }
    return released;
  }

  /** When `expire` has work next, or `undefined` when no gap is open. */
  public nextDeadline(): number | undefined {
    let deadline: number | undefined;
    for (const stream of this.#streams.values()) {
      if (stream.gapSince !== undefined) {
        const due = stream.gapSince + this.#gapTimeoutMs;
        deadline = deadline === undefined ? due : Math.min(deadline, due);
      }
    }
    return deadline;
  }

  /** Forgets every stream whose key starts with `prefix` (a call ended). */
  public forget(prefix: string): void {
    for (const key of [...this.#streams.keys()]) {
      if (key.startsWith(prefix)) {
        this.#streams.delete(key);
      }
    }
  }

  /** How many messages are held, over all streams. */
  public get heldCount(): number {
    let count = 0;
    for (const stream of this.#streams.values()) {
      count += stream.held.size;
    }
    return count;
  }

  #stream(key: string): StreamState<T> {
    let stream = this.#streams.get(key);
    if (stream) {
      // Most recently used last.
      this.#streams.delete(key);
    } else {
      stream = { next: 0, held: new Map(), gapSince: undefined };
      if (this.#streams.size >= this.#maxStreams) {
        const oldest = this.#streams.keys().next();
        if (oldest.done !== true) {
          this.#streams.delete(oldest.value);
        }
      }
    }
    this.#streams.set(key, stream);
    return stream;
  }

  #drain(stream: StreamState<T>): T[] {
    const out: T[] = [];
    for (let item = stream.held.get(stream.next); item !== undefined; item = stream.held.get(stream.next)) {
      out.push(item);
      stream.held.delete(stream.next);
      stream.next++;
    }
    if (stream.held.size === 0) {
      stream.gapSince = undefined;
    }
    return out;
  }
}

/** The outcome of {@link SeqOrderer.accept}. */
export interface SeqVerdict<T> {
  /** The messages to deliver now, in `seq` order. */
  deliver: T[];
  /** True when the message was a duplicate (or older than one already delivered) and was dropped. */
  duplicate: boolean;
}

interface StreamState<T> {
  /** The next `seq` to deliver. */
  next: number;
  held: Map<number, T>;
  /** When the current gap opened (the oldest held message arrived). */
  gapSince: number | undefined;
}
