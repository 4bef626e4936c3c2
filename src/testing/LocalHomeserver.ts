import type { Clock } from "../core/Clock.js";
import type { MatrixClientPort, TurnServers } from "../matrix/MatrixClientPort.js";
import { HomeserverCore } from "./HomeserverCore.js";
import { LocalClient } from "./LocalClient.js";
import { createRoom, setMembership } from "./roomSetup.js";
import { publishDelayed, sendRoomEvent } from "./serverApi.js";
import type {
  CreateRoomOptions,
  Faults,
  HomeserverStats,
  LocalHomeserverOptions,
  RoomStateEntry,
  TranscriptEntry,
} from "./types.js";
import { cloneContent } from "./wire.js";

/**
 * An in-memory homeserver for tests and the demo. It behaves like a homeserver where the library can tell:
 * per-client sync batches delivered asynchronously and in order, room state with power levels, `unsigned.age`,
 * to-device per device, MSC4140 delayed events, a TURN answer, simulated encryption (the server stores only
 * ciphertext), and injectable faults.
 *
 * ```ts
 * const hs = new LocalHomeserver({ clock });
 * const alice = hs.createClient("@alice:local", "ALICE");
 * const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], encrypted: true });
 * …
 * await hs.close();
 * ```
 */
export class LocalHomeserver {
  readonly #core: HomeserverCore;

  public constructor(options: LocalHomeserverOptions = {}) {
    this.#core = new HomeserverCore(options, publishDelayed);
  }

  /** The server part of room ids. */
  public get serverName(): string {
    return this.#core.serverName;
  }

  /** The clock behind timestamps and delayed events. */
  public get clock(): Clock {
    return this.#core.clock;
  }

  /** Live counters: requests, TURN requests, injected failures, retries. */
  public get stats(): Readonly<HomeserverStats> {
    return this.#core.stats;
  }

  /** Whether {@link LocalHomeserver.close} was called. */
  public get closed(): boolean {
    return this.#core.timers.closed;
  }

  /**
   * A client for one (user, device); its view starts with the current state of the user's rooms. Throws if that
   * device has a client already.
   */
  public createClient(userId: string, deviceId: string): MatrixClientPort {
    this.#assertOpen();
    return new LocalClient(this.#core, this.#core.registerDevice(userId, deviceId));
  }

  /**
   * Creates a room with every member joined; resolves with its id once the members' clients have received it
   * (their `getRoom` knows it; their sync listeners get the room's state).
   */
  public async createRoom(options: CreateRoomOptions): Promise<string> {
    this.#assertOpen();
    const roomId = createRoom(this.#core, options);
    await this.#received();
    return roomId;
  }

  /** Joins `userId` to a room (a harness action); resolves once the clients have received it. */
  public async joinRoom(roomId: string, userId: string): Promise<void> {
    this.#assertOpen();
    setMembership(this.#core, roomId, userId, "join");
    await this.#received();
  }

  /** Makes `userId` leave a room (a harness action); resolves once the clients have received it. */
  public async leaveRoom(roomId: string, userId: string): Promise<void> {
    this.#assertOpen();
    setMembership(this.#core, roomId, userId, "leave");
    await this.#received();
  }

  /**
   * A room event sent by a client that does not encrypt (a harness action, as a misbehaving or hostile client
   * would): it goes out in cleartext even in an encrypted room, authorised under its own type, and its recipients
   * get it without `encrypted`. Resolves once the clients have received it.
   */
  public async sendCleartextRoomEvent(
    roomId: string,
    sender: { userId: string; deviceId: string },
    type: string,
    content: object,
  ): Promise<{
    /** The id of the sent event. */
    eventId: string;
  }> {
    this.#assertOpen();
    const result = sendRoomEvent(this.#core, sender, roomId, type, content, true);
    await this.#received();
    return result;
  }

  /** Replaces the injected faults; takes effect for the next request or delivery. `{}` turns every fault off. */
  public setFaults(faults: Faults): void {
    this.#core.faults.set(faults);
  }

  /** The current faults. */
  public getFaults(): Faults {
    return this.#core.faults.get();
  }

  /** Whether other devices can Olm-encrypt to that device (default `true`). */
  public setDeviceEncryptable(userId: string, deviceId: string, encryptable: boolean): void {
    const endpoint = this.#core.device(userId, deviceId);
    if (!endpoint) {
      throw new Error(`Unknown device ${userId} / ${deviceId}`);
    }
    endpoint.encryptable = encryptable;
  }

  /**
   * The answer of `GET /voip/turnServer`: a fixed answer, `undefined` for none, or `"default"` (a fresh
   * `turn:127.0.0.1:3478` credential with a 24 h ttl per request).
   */
  public setTurnServers(answer: TurnServers | undefined | "default"): void {
    this.#core.turnServers =
      answer === undefined ? null : answer === "default" ? answer : structuredClone(answer);
  }

  /** The room's full current state (cleartext: state is never encrypted). Throws for an unknown room. */
  public getRoomState(roomId: string): RoomStateEntry[] {
    const room = this.#core.room(roomId);
    if (!room) {
      throw new Error(`Unknown room ${roomId}`);
    }
    return room.stateEvents().map((event) => ({
      type: event.type,
      stateKey: event.stateKey ?? "",
      sender: event.sender,
      content: cloneContent(event.content),
      eventId: event.eventId,
      originServerTs: event.originServerTs,
    }));
  }

  /** Everything the server accepted, in order (a copy). */
  public transcript(): TranscriptEntry[] {
    return this.#core.transcript();
  }

  /** Number of MSC4140 delayed events still scheduled. */
  public get pendingDelayedEvents(): number {
    return this.#core.delayed.size;
  }

  /**
   * Waits (in real time) until no request is in flight, nothing is on its way to a client and every sync listener
   * has finished, including whatever those listeners sent in turn. Rejects after `timeoutMs` (default 5000).
   */
  public async flush(options: { timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    const busy = (): boolean =>
      this.#core.timers.pendingWaits > 0 || this.#core.allDevices().some((endpoint) => !endpoint.idle);
    let quietRounds = 0;
    while (quietRounds < 3 && !this.closed) {
      if (Date.now() > deadline) {
        throw new Error(`LocalHomeserver.flush: still busy after ${options.timeoutMs ?? 5000} ms`);
      }
      await new Promise<void>((resolve) => setTimeout(resolve, busy() ? 1 : 0));
      quietRounds = busy() ? 0 : quietRounds + 1;
    }
  }

  /**
   * Shuts down: stops every delivery and timer (delayed events included), and rejects pending and later requests
   * with `MatrixPortError("M_UNKNOWN", 0, "LocalHomeserver is closed")`. Leaves no handle behind. Idempotent.
   */
  public async close(): Promise<void> {
    this.#core.close();
    await Promise.resolve();
  }

  async #received(): Promise<void> {
    await Promise.all(this.#core.allDevices().map((endpoint) => endpoint.inbox.whenIdle()));
  }

  #assertOpen(): void {
    if (this.closed) {
      throw new Error("LocalHomeserver is closed");
    }
  }
}
