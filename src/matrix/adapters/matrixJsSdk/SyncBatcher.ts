import type { MatrixClient, MatrixEvent, SyncStateData } from "matrix-js-sdk";
import { ClientEvent, MatrixEventEvent, SyncState } from "matrix-js-sdk";
import type { Clock } from "../../../core/Clock.js";
import type { Logger } from "../../../core/Logger.js";
import type { RoomEvent, StateEvent, SyncBatch, SyncRoom, ToDeviceEvent } from "../../MatrixClientPort.js";
import { toRoomEvent, toStateEvent } from "./events.js";

/** A sync listener of the port. */
export type SyncListener = (batch: SyncBatch) => void | Promise<void>;

/** Turns js-sdk to-device events into the port's shape; `undefined` drops the event. */
export type ToDeviceConverter = (event: MatrixEvent) => Promise<ToDeviceEvent | undefined>;

/** What a {@link SyncBatcher} needs. */
export interface SyncBatcherOptions {
  client: MatrixClient;
  clock: Clock;
  logger: Logger;
  convertToDevice: ToDeviceConverter;
  /**
   * How long an incremental batch waits for the keys of an event that failed to decrypt before dropping it (the
   * initial batch does not wait: history from before our device existed stays undecryptable).
   */
  decryptionTimeoutMs: number;
  /** Called after every delivered batch (the device cache watches membership changes). */
  afterBatch?: (batch: SyncBatch) => void;
}

interface RawRoom {
  roomId: string;
  timeline: MatrixEvent[];
  state: MatrixEvent[];
}

interface RawBatch {
  initial: boolean;
  rooms: Map<string, RawRoom>;
  toDevice: MatrixEvent[];
}

/**
 * Groups what js-sdk reports while it processes one `/sync` response into one {@link SyncBatch}, and delivers
 * the batches in order.
 *
 * - Collects `ClientEvent.Event` (every event of the response: the state block, the timeline, our own remote
 *   echoes included) and `ClientEvent.ToDeviceEvent` (already Olm-decrypted), then flushes on `ClientEvent.Sync`,
 *   which js-sdk emits once the response is processed.
 * - In a batch, `state` holds every state event of the response (state block and timeline, in that order) and
 *   `timeline` the other timeline events; each event appears once.
 * - A batch is delivered once each encrypted room event in it is decrypted; an event that stays undecryptable (in
 *   an incremental batch: for `decryptionTimeoutMs`) is dropped with a warning. Batches are prepared concurrently but delivered serially:
 *   the next batch only after every listener of the previous one has settled. Empty batches are skipped.
 * - Rooms are `initial` in the batch of the client's first sync.
 */
export class SyncBatcher {
  readonly #opts: SyncBatcherOptions;
  readonly #listeners = new Set<SyncListener>();
  #buffer: RawBatch = emptyBatch(false);
  #chain: Promise<void> = Promise.resolve();
  #disposed = false;

  readonly #onEvent = (event: MatrixEvent): void => {
    this.#collectRoomEvent(event);
  };
  readonly #onToDevice = (event: MatrixEvent): void => {
    this.#buffer.toDevice.push(event);
  };
  readonly #onSync = (state: SyncState, _previous: SyncState | null, data?: SyncStateData): void => {
    const initial =
      state === SyncState.Prepared || data?.fromCache === true || data?.oldSyncToken === undefined;
    this.#flush(initial);
  };

  public constructor(opts: SyncBatcherOptions) {
    this.#opts = opts;
    opts.client.on(ClientEvent.Event, this.#onEvent);
    opts.client.on(ClientEvent.ToDeviceEvent, this.#onToDevice);
    opts.client.on(ClientEvent.Sync, this.#onSync);
  }

  /** Adds a listener for the following batches; returns its unsubscribe function. */
  public subscribe(listener: SyncListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Resolves once every batch flushed so far was delivered (tests). */
  public whenIdle(): Promise<void> {
    return this.#chain;
  }

  /** Detaches from the client and drops undelivered batches. */
  public dispose(): void {
    this.#disposed = true;
    this.#listeners.clear();
    this.#opts.client.off(ClientEvent.Event, this.#onEvent);
    this.#opts.client.off(ClientEvent.ToDeviceEvent, this.#onToDevice);
    this.#opts.client.off(ClientEvent.Sync, this.#onSync);
  }

  #collectRoomEvent(event: MatrixEvent): void {
    const roomId = event.getRoomId();
    if (event.getId() === undefined || roomId === undefined || event.getSender() === undefined) {
      return; // ephemeral, account data, presence, stripped invite state
    }
    let room = this.#buffer.rooms.get(roomId);
    if (room === undefined) {
      room = { roomId, timeline: [], state: [] };
      this.#buffer.rooms.set(roomId, room);
    }
    if (event.isState()) {
      room.state.push(event);
    } else {
      room.timeline.push(event);
      if (event.isEncrypted()) {
        // Start decrypting now; js-sdk maps sync timeline events without decrypting them.
        void this.#opts.client.decryptEventIfNeeded(event).catch(() => undefined);
      }
    }
  }

  #flush(initial: boolean): void {
    const raw = this.#buffer;
    this.#buffer = emptyBatch(false);
    if (raw.rooms.size === 0 && raw.toDevice.length === 0) {
      return;
    }
    raw.initial = initial;
    const prepared = this.#prepare(raw);
    this.#chain = this.#chain.then(async () => {
      const batch = await prepared.catch((error: unknown) => {
        this.#opts.logger.error("sync batch preparation failed", { error: String(error) });
        return undefined;
      });
      if (batch !== undefined && !this.#disposed) {
        await this.#deliver(batch);
      }
    });
  }

  async #prepare(raw: RawBatch): Promise<SyncBatch> {
    const rooms = await Promise.all(
      [...raw.rooms.values()].map((room) => this.#prepareRoom(room, raw.initial)),
    );
    const toDevice: ToDeviceEvent[] = [];
    for (const event of raw.toDevice) {
      const converted = await this.#opts.convertToDevice(event);
      if (converted !== undefined) {
        toDevice.push(converted);
      }
    }
    return { rooms: rooms.filter((room) => room.timeline.length > 0 || room.state.length > 0), toDevice };
  }

  async #prepareRoom(raw: RawRoom, initial: boolean): Promise<SyncRoom> {
    const decrypted = await Promise.all(raw.timeline.map((event) => this.#decrypted(event, !initial)));
    const timeline: RoomEvent[] = [];
    for (const event of decrypted) {
      const converted = event === undefined ? undefined : toRoomEvent(event);
      if (converted !== undefined) {
        timeline.push(converted);
      }
    }
    const state: StateEvent[] = [];
    for (const event of raw.state) {
      const converted = toStateEvent(event);
      if (converted !== undefined) {
        state.push(converted);
      }
    }
    return { roomId: raw.roomId, initial, timeline, state };
  }

  /** The event once decrypted; `undefined` if it stayed undecryptable. */
  async #decrypted(event: MatrixEvent, waitForKeys: boolean): Promise<MatrixEvent | undefined> {
    if (!event.isEncrypted()) {
      return event;
    }
    await this.#opts.client.decryptEventIfNeeded(event).catch(() => undefined);
    if (!event.isDecryptionFailure() && event.getType() !== "m.room.encrypted") {
      return event;
    }
    const ok = waitForKeys && (await this.#waitForLateDecryption(event));
    if (!ok) {
      this.#opts.logger.warn("dropping undecryptable room event", {
        eventId: event.getId(),
        roomId: event.getRoomId(),
        sender: event.getSender(),
      });
      return undefined;
    }
    return event;
  }

  /** Waits for js-sdk to retry decryption when the keys arrive. */
  #waitForLateDecryption(event: MatrixEvent): Promise<boolean> {
    const { clock, decryptionTimeoutMs } = this.#opts;
    return new Promise((resolve) => {
      const finish = (ok: boolean): void => {
        clock.clearTimer(timer);
        event.off(MatrixEventEvent.Decrypted, onDecrypted);
        resolve(ok);
      };
      const onDecrypted = (): void => {
        if (!event.isDecryptionFailure()) {
          finish(true);
        }
      };
      event.on(MatrixEventEvent.Decrypted, onDecrypted);
      const timer = clock.setTimeout(() => {
        finish(false);
      }, decryptionTimeoutMs);
    });
  }

  async #deliver(batch: SyncBatch): Promise<void> {
    const results = await Promise.allSettled([...this.#listeners].map(async (listener) => listener(batch)));
    for (const result of results) {
      if (result.status === "rejected") {
        this.#opts.logger.warn("sync listener failed", { error: String(result.reason) });
      }
    }
    try {
      this.#opts.afterBatch?.(batch);
    } catch (error) {
      this.#opts.logger.warn("afterBatch hook failed", { error: String(error) });
    }
  }
}

function emptyBatch(initial: boolean): RawBatch {
  return { initial, rooms: new Map(), toDevice: [] };
}
