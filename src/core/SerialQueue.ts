/**
 * Runs async operations one after another, in the order they were queued. A failed operation rejects its own
 * promise and does not stop the queue.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Queues `operation`; resolves or rejects with its result. */
  public run<T>(operation: () => Promise<T> | T): Promise<T> {
    const result = this.#tail.then(() => operation());
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
