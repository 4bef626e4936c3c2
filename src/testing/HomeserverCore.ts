import type { Clock } from "../core/Clock.js";
import { systemClock } from "../core/Clock.js";
import { MatrixPortError } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { silentLogger } from "../core/Logger.js";
import type { RandomSource } from "../core/random.js";
import { randomAlphanumeric } from "../core/random.js";
import type { SyncBatch, TurnServers } from "../matrix/MatrixClientPort.js";
import { megolmCiphertext } from "./ciphertext.js";
import type { DelayedEntry } from "./DelayedEvents.js";
import { DelayedEventStore } from "./DelayedEvents.js";
import { DeviceEndpoint } from "./DeviceEndpoint.js";
import { FaultInjector } from "./FaultInjector.js";
import { DEFAULT_SEED, randomBase64, randomBase64Url, randomSourceFrom, seededRandom } from "./prng.js";
import { RealTimers } from "./RealTimers.js";
import type { ServerRoom } from "./ServerRoom.js";
import type { StoredEvent } from "./wire.js";
import type { HomeserverStats, LocalHomeserverOptions, TranscriptEntry } from "./types.js";
import { cloneContent, toRoomEvent, toStateEvent } from "./wire.js";

/** Who makes a request: the user and device behind the access token. */
export interface RequestContext {
  userId: string;
  deviceId: string;
}

/** The fields of a new event; the server adds id, timestamp and room. */
export interface NewEvent {
  type: string;
  sender: string;
  senderDevice: string | undefined;
  content: Record<string, unknown>;
  stateKey?: string;
  redacts?: string;
  /** Sent without Megolm even in an encrypted room (a client that does not encrypt). */
  cleartext?: boolean;
}

/**
 * The state of a {@link LocalHomeserver}: rooms, devices, transcript, faults, delayed events, and the request
 * machinery (fault injection, idempotency by request key). Request handlers live in `serverApi.ts`.
 */
export class HomeserverCore {
  public readonly clock: Clock;
  public readonly logger: Logger;
  public readonly serverName: string;
  public readonly timers = new RealTimers();
  public readonly faults: FaultInjector;
  public readonly ids: RandomSource;
  /** Jitter of the clients' retries. */
  public readonly retryRandom: RandomSource;
  public readonly delayed: DelayedEventStore;
  public readonly stats: HomeserverStats = {
    requests: 0,
    turnRequests: 0,
    rateLimited: 0,
    injectedFailures: 0,
    retries: 0,
    delayedEventsRejected: 0,
  };
  public readonly delayedEventsEnabled: boolean;
  public readonly delayedEventsPageSize: number;
  public readonly maxAttempts: number;
  public turnServers: TurnServers | "default" | null;
  readonly #initialTimelineLimit: number;
  readonly #rooms = new Map<string, ServerRoom>();
  readonly #devices = new Map<string, Map<string, DeviceEndpoint>>();
  readonly #transcript: TranscriptEntry[] = [];
  readonly #responses = new Map<string, unknown>();
  readonly #megolmSessions = new Map<string, string>();

  public constructor(
    options: LocalHomeserverOptions,
    publishDelayed: (core: HomeserverCore, entry: DelayedEntry) => void,
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.serverName = options.serverName ?? "local";
    const seed = options.seed ?? DEFAULT_SEED;
    this.ids = randomSourceFrom(seededRandom(seed));
    this.retryRandom = randomSourceFrom(seededRandom(seed ^ 0x2545f491));
    this.faults = new FaultInjector(options.random ?? seededRandom(seed ^ 0x9e3779b9));
    this.delayedEventsEnabled = options.delayedEvents ?? true;
    this.delayedEventsPageSize = Math.max(1, options.delayedEventsPageSize ?? 10);
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 4);
    this.turnServers = options.turnServers === undefined ? "default" : options.turnServers;
    this.#initialTimelineLimit = Math.max(0, options.initialTimelineLimit ?? 10);
    this.delayed = new DelayedEventStore(
      this.clock,
      () => `syd_${randomAlphanumeric(this.ids, 20)}`,
      (entry) => {
        publishDelayed(this, entry);
      },
      (entry, error) => {
        this.stats.delayedEventsRejected++;
        this.logger.warn("delayed event rejected when it fired", { delayId: entry.delayId, error });
      },
    );
  }

  // ── devices ────────────────────────────────────────────────────────────────────────────────────────────────

  /** Registers a device; its view starts with the current state of the user's rooms. */
  public registerDevice(userId: string, deviceId: string): DeviceEndpoint {
    if (!/^@[^:]+:.+$/.test(userId) || deviceId.length === 0) {
      throw new Error(`Invalid user or device id: ${userId} / ${deviceId}`);
    }
    if (this.device(userId, deviceId)) {
      throw new Error(`A client for ${userId} / ${deviceId} exists already`);
    }
    const endpoint = new DeviceEndpoint(userId, deviceId, randomBase64(this.ids, 32), {
      clock: this.clock,
      timers: this.timers,
      logger: this.logger,
      latencyMs: () => this.faults.latencyMs,
      isDirect: (roomId) => this.#rooms.get(roomId)?.isDirect ?? false,
      initialTimelineLimit: this.#initialTimelineLimit,
    });
    endpoint.view.apply(this.#snapshotFor(userId));
    let devices = this.#devices.get(userId);
    if (!devices) {
      devices = new Map();
      this.#devices.set(userId, devices);
    }
    devices.set(deviceId, endpoint);
    return endpoint;
  }

  /** A registered device. */
  public device(userId: string, deviceId: string): DeviceEndpoint | undefined {
    return this.#devices.get(userId)?.get(deviceId);
  }

  /** Every registered device of `userId`. */
  public devicesOf(userId: string): DeviceEndpoint[] {
    return [...(this.#devices.get(userId)?.values() ?? [])];
  }

  /** Every registered device. */
  public allDevices(): DeviceEndpoint[] {
    return [...this.#devices.values()].flatMap((devices) => [...devices.values()]);
  }

  // ── rooms and events ───────────────────────────────────────────────────────────────────────────────────────

  /** A fresh `!…:server` room id. */
  public newRoomId(): string {
    return `!${randomAlphanumeric(this.ids, 18)}:${this.serverName}`;
  }

  /** Adds a room (harness use). */
  public addRoom(room: ServerRoom): void {
    this.#rooms.set(room.roomId, room);
  }

  /** A room by id. */
  public room(roomId: string): ServerRoom | undefined {
    return this.#rooms.get(roomId);
  }

  /** The room, if `userId` is joined to it; else 403 `M_FORBIDDEN`, as Synapse answers for unknown rooms too. */
  public joinedRoom(roomId: string, userId: string): ServerRoom {
    const room = this.#rooms.get(roomId);
    if (!room?.isJoined(userId)) {
      throw new MatrixPortError("M_FORBIDDEN", 403, `User ${userId} not in room ${roomId}`);
    }
    return room;
  }

  /**
   * Accepts an event (authorisation is the caller's job): stores it, records it in the transcript (as ciphertext
   * for a timeline event in an encrypted room), cancels overwritten delayed events and queues it for every device
   * of every member. A user who joins receives the room's full state.
   */
  public accept(room: ServerRoom, fields: NewEvent, options: { delayed?: boolean } = {}): StoredEvent {
    const before = new Set(room.joinedMembers());
    const { cleartext, ...rest } = fields;
    const event: StoredEvent = {
      ...rest,
      eventId: `$${randomBase64Url(this.ids, 32)}`,
      roomId: room.roomId,
      content: cloneContent(fields.content),
      originServerTs: this.clock.now(),
      redacted: false,
    };
    if (
      fields.stateKey === undefined &&
      room.encrypted &&
      fields.type !== "m.room.redaction" &&
      cleartext !== true
    ) {
      event.encrypted = true;
    }
    room.append(event);
    if (event.redacts !== undefined) {
      room.redact(event.redacts);
    }
    this.#record(room, event, options.delayed === true);
    if (event.stateKey !== undefined) {
      this.delayed.cancelOverwritten(room.roomId, event.type, event.stateKey, event.sender);
    }
    const joiner =
      event.type === "m.room.member" && event.stateKey !== undefined && !before.has(event.stateKey)
        ? event.stateKey
        : undefined;
    for (const userId of new Set([...before, ...room.joinedMembers()])) {
      const items = userId === joiner ? room.stateEvents() : [event];
      for (const endpoint of this.devicesOf(userId)) {
        for (const item of items) {
          endpoint.inbox.push({ kind: "room", event: item });
        }
      }
    }
    return event;
  }

  /** Appends an entry to the transcript. */
  public recordEntry(entry: TranscriptEntry): void {
    this.#transcript.push(entry);
  }

  /** A deep copy of the transcript. */
  public transcript(): TranscriptEntry[] {
    return structuredClone(this.#transcript);
  }

  #record(room: ServerRoom, event: StoredEvent, delayed: boolean): void {
    const isState = event.stateKey !== undefined;
    const encrypted = event.encrypted === true;
    const entry: TranscriptEntry = {
      kind: isState ? "state" : "room",
      sender: event.sender,
      senderDevice: event.senderDevice,
      roomId: room.roomId,
      eventId: event.eventId,
      type: event.type,
      content: encrypted ? this.#megolm(room.roomId, event) : cloneContent(event.content),
      encrypted,
      ts: event.originServerTs,
    };
    if (isState) {
      entry.stateKey = event.stateKey;
    }
    if (event.redacts !== undefined) {
      entry.redacts = event.redacts;
    }
    if (delayed) {
      entry.delayed = true;
    }
    this.#transcript.push(entry);
  }

  #megolm(roomId: string, event: StoredEvent): Record<string, unknown> {
    const sessionKey = `${roomId}|${event.sender}|${event.senderDevice ?? ""}`;
    let sessionId = this.#megolmSessions.get(sessionKey);
    if (sessionId === undefined) {
      sessionId = randomBase64(this.ids, 32);
      this.#megolmSessions.set(sessionKey, sessionId);
    }
    const device =
      event.senderDevice === undefined ? undefined : this.device(event.sender, event.senderDevice);
    return megolmCiphertext(this.ids, event.content, {
      curveKey: device?.curveKey ?? randomBase64(this.ids, 32),
      deviceId: event.senderDevice,
      sessionId,
    });
  }

  #snapshotFor(userId: string): SyncBatch {
    const now = this.clock.now();
    const rooms = [...this.#rooms.values()]
      .filter((room) => room.isJoined(userId))
      .map((room) => ({
        roomId: room.roomId,
        initial: true,
        state: room.stateEvents().map((event) => toStateEvent(event, now)),
        timeline: room.recentTimeline(this.#initialTimelineLimit).map((event) => toRoomEvent(event, now)),
      }));
    return { rooms, toDevice: [] };
  }

  // ── requests ───────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Serves one request attempt in a later macrotask, with the current faults. `key` makes it idempotent: a
   * successful result is remembered under it, so a retry after a lost response gets the same answer without
   * applying the request twice. {@link HomeserverCore.forget} drops it once the client is done.
   */
  public request<T>(key: string, handler: () => T): Promise<T> {
    return this.timers.waitFor<T>((resolve, reject) => {
      this.timers.immediate(() => {
        try {
          resolve(this.#serve(key, handler));
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  /** Forgets the remembered response of `key`. */
  public forget(key: string): void {
    this.#responses.delete(key);
  }

  #serve<T>(key: string, handler: () => T): T {
    this.stats.requests++;
    const fate = this.faults.nextRequest();
    if (fate === "rateLimited") {
      this.stats.rateLimited++;
      const retryAfterMs = this.faults.retryAfterMs;
      throw new MatrixPortError("M_LIMIT_EXCEEDED", 429, "Too Many Requests (simulated)", retryAfterMs);
    }
    if (fate === "lostRequest") {
      this.stats.injectedFailures++;
      throw new MatrixPortError("M_UNKNOWN", 0, "Network error: request lost (simulated)");
    }
    if (fate === "errorBefore") {
      this.stats.injectedFailures++;
      throw new MatrixPortError("M_UNKNOWN", 500, "Internal server error (simulated)");
    }
    let result: T;
    if (this.#responses.has(key)) {
      result = this.#responses.get(key) as T;
    } else {
      result = handler();
      this.#responses.set(key, result);
    }
    if (fate === "lostResponse") {
      this.stats.injectedFailures++;
      throw new MatrixPortError("M_UNKNOWN", 0, "Network error: response lost (simulated)");
    }
    if (fate === "errorAfter") {
      this.stats.injectedFailures++;
      throw new MatrixPortError("M_UNKNOWN", 500, "Internal server error after commit (simulated)");
    }
    return result;
  }

  /** Stops every delivery and timer and rejects everything pending. */
  public close(): void {
    this.timers.close();
    this.delayed.close();
    for (const endpoint of this.allDevices()) {
      endpoint.close();
    }
    this.#responses.clear();
  }
}
