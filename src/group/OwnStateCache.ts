/**
 * What we last wrote under our membership state keys, until the client's view of the room catches up. Several
 * calls of one room share our state key (user-id mode); without this, the second of two quick writes would start
 * from the view before the first one's echo and put back what the first removed.
 */
import { SerialQueue } from "../core/SerialQueue.js";

interface Written {
  /** Event ids the view may still show while our latest write is on its way: where our writes started, and our earlier writes. */
  stale: Set<string | undefined>;
  content: Record<string, unknown>;
}

/** @internal One per VoIP, shared by its sessions' publishers. */
export class OwnStateCache {
  readonly #written = new Map<string, Written>();
  readonly #queues = new Map<string, SerialQueue>();
  /** Our latest write's event id per key. */
  readonly #previous = new Map<string, string[]>();

  /** Runs read-modify-write sections on one room's state keys one at a time (across calls). */
  public serial<T>(roomId: string, section: () => Promise<T>): Promise<T> {
    let queue = this.#queues.get(roomId);
    if (queue === undefined) {
      queue = new SerialQueue();
      this.#queues.set(roomId, queue);
    }
    return queue.run(section);
  }

  /**
   * The content to start a write from: our latest write while the view still shows an event from before it (the
   * one we started from, or one of our earlier writes), else the view's (it caught up, or someone wrote after us).
   */
  public current(
    roomId: string,
    stateKey: string,
    view: { eventId: string; content: Record<string, unknown> } | undefined,
  ): Record<string, unknown> | undefined {
    const key = `${roomId}\u0000${stateKey}`;
    const written = this.#written.get(key);
    if (written?.stale.has(view?.eventId) === true) {
      return written.content;
    }
    this.#written.delete(key);
    return view?.content;
  }

  /** Records our write `eventId` of `content`, started from the view's `baseEventId`. */
  public wrote(
    roomId: string,
    stateKey: string,
    baseEventId: string | undefined,
    content: Record<string, unknown>,
    eventId: string | undefined,
  ): void {
    const key = `${roomId}\u0000${stateKey}`;
    const written = this.#written.get(key);
    const stale = written?.stale.has(baseEventId) === true ? written.stale : new Set([baseEventId]);
    if (eventId !== undefined) {
      // Our previous write becomes "before the latest" once this one is sent.
      for (const id of this.#previous.get(key) ?? []) {
        stale.add(id);
      }
      this.#previous.set(key, [eventId]);
    }
    this.#written.set(key, { stale, content });
  }
}
