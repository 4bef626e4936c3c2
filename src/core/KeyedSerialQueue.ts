/**
 * One serial queue per key: operations with the same key run one after another in the order they were queued;
 * operations with different keys never wait for each other. A key is forgotten once its last operation settled,
 * so the map holds only keys with work pending. A failed operation rejects its own promise and does not stop its
 * key's queue.
 */
export class KeyedSerialQueue {
  readonly #tails = new Map<string, { tail: Promise<unknown>; pending: number }>();

  /** Keys with work queued or running. */
  public get size(): number {
    return this.#tails.size;
  }

  /** Queues `operation` behind the earlier operations of `key`; resolves or rejects with its result. */
  public run<T>(key: string, operation: () => Promise<T> | T): Promise<T> {
    const entry = this.#tails.get(key) ?? { tail: Promise.resolve(), pending: 0 };
    const result = entry.tail.then(() => operation());
    entry.pending++;
    entry.tail = result
      .catch(() => undefined)
      .finally(() => {
        entry.pending--;
        if (entry.pending === 0 && this.#tails.get(key) === entry) {
          this.#tails.delete(key);
        }
      });
    this.#tails.set(key, entry);
    return result;
  }
}
