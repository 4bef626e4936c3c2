/**
 * What the library needs from a Matrix client. Adapters: `LocalHomeserver` clients (`famedly-calls/testing`) and
 * `createMatrixJsSdkPort` (`famedly-calls/matrix-js-sdk`).
 *
 * The port owns transaction ids and retries transport errors idempotently. A failed request rejects with a
 * `MatrixPortError { errcode, httpStatus, retryAfterMs? }`.
 */
export interface MatrixClientPort {
  /** Our user id, e.g. `@alice:example.org`. */
  readonly userId: string;
  /** Our device id. */
  readonly deviceId: string;
  /** Subscribes to sync batches: every batch, in order, after decryption. Returns an unsubscribe function. */
  onSync(listener: (batch: SyncBatch) => void | Promise<void>): () => void;
  /** Rooms we are joined to. */
  getJoinedRoomIds(): string[];
  /** What we know of a room, or `undefined` if we do not know it. */
  getRoom(roomId: string): RoomInfo | undefined;
  /** Current state events of `type` in the room, every state key. */
  getStateEvents(roomId: string, type: string): StateEvent[];
  /** Sends a room event; encrypted by the client in encrypted rooms. */
  sendRoomEvent(roomId: string, type: string, content: object): Promise<{ eventId: string }>;
  /** Sends a state event; with `delayMs`, schedules it as an MSC4140 delayed event and returns its `delayId`. */
  sendStateEvent(
    roomId: string,
    type: string,
    stateKey: string,
    content: object,
    opts?: { delayMs?: number },
  ): Promise<{ eventId?: string; delayId?: string }>;
  /** Cancels, restarts or sends now an MSC4140 delayed event. */
  updateDelayedEvent(delayId: string, action: "cancel" | "restart" | "send"): Promise<void>;
  /** Our scheduled delayed events, every page. */
  listDelayedEvents(): Promise<DelayedEvent[]>;
  /** Redacts an event; `content` may carry extra fields (reason, routing metadata). */
  redactEvent(roomId: string, eventId: string, content?: object): Promise<{ eventId: string }>;
  /** Events relating to `eventId` with `relType` and of `eventType`. */
  getRelations(roomId: string, eventId: string, relType: string, eventType: string): Promise<RoomEvent[]>;
  /**
   * Sends to-device messages: `messages[userId][deviceId] = content`. With `encrypted`, each is Olm-encrypted for
   * its device (the send rejects if a device cannot be encrypted to).
   */
  sendToDevice(
    type: string,
    messages: Record<string, Record<string, object>>,
    opts?: { encrypted?: boolean },
  ): Promise<void>;
  /** Whether an Olm-encrypted to-device message can be sent to that device now. */
  canEncryptToDevice(userId: string, deviceId: string): boolean;
  /** The homeserver's TURN servers (`GET /voip/turnServer`), or `undefined` when it has none. */
  getTurnServers(): Promise<TurnServers | undefined>;
  /** Server feature flags the library depends on. */
  getServerFeatures(): Promise<{ delayedEvents: boolean }>;
}

/** A TURN answer; `ttl` in seconds. */
export interface TurnServers {
  uris: string[];
  username?: string;
  password?: string;
  ttl?: number;
}

/** One sync response, as the library sees it. */
export interface SyncBatch {
  rooms: SyncRoom[];
  toDevice: ToDeviceEvent[];
}

/** The part of a sync batch for one room. */
export interface SyncRoom {
  roomId: string;
  /** True for the first sync of this client (events already in the past when we started). */
  initial: boolean;
  timeline: RoomEvent[];
  state: StateEvent[];
}

/** A (decrypted) room event. */
export interface RoomEvent {
  eventId: string;
  roomId: string;
  type: string;
  sender: string;
  content: Record<string, unknown>;
  originServerTs: number;
  unsigned?: { age?: number };
  redacts?: string;
}

/** A room state event. */
export interface StateEvent extends RoomEvent {
  stateKey: string;
}

/** A (decrypted) to-device event. */
export interface ToDeviceEvent {
  type: string;
  sender: string;
  content: Record<string, unknown>;
  /** Whether it arrived Olm-encrypted. */
  encrypted: boolean;
  /** The Olm-verified sending device, when encrypted. */
  senderDevice?: string;
}

/** What we know of a room. */
export interface RoomInfo {
  roomId: string;
  encrypted: boolean;
  isDirect: boolean;
  roomVersion: string;
  /** Our membership: `join`, `invite`, `leave`, … */
  myMembership: string;
  joinedMembers: string[];
  /** Content of `m.room.power_levels`, when known. */
  powerLevels?: Record<string, unknown>;
}

/** A scheduled MSC4140 delayed event. */
export interface DelayedEvent {
  delayId: string;
  roomId: string;
  type: string;
  stateKey?: string;
  delayMs: number;
  runningSince: number;
  content: Record<string, unknown>;
}
