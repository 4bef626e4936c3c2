/**
 * What the library needs from a Matrix client. Adapters: `LocalHomeserver` clients (`famedly-calls/testing`) and
 * `createMatrixJsSdkPort` (`famedly-calls/matrix-js-sdk`).
 *
 * The port owns transaction ids and retries transport errors idempotently. A failed request rejects with a
 * `MatrixPortError { errcode, httpStatus, retryAfterMs? }`. The library retries rate limits (429) of the sends it
 * makes itself and hands each such send a {@link SendBudget} shared by both kinds of retry.
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
  sendRoomEvent(
    roomId: string,
    type: string,
    content: object,
    opts?: {
      /** The send's request allowance, shared with the library's rate-limit retries. */
      budget?: SendBudget;
    },
  ): Promise<{
    /** The id of the sent event. */
    eventId: string;
  }>;
  /** Sends a state event; with `delayMs`, schedules it as an MSC4140 delayed event and returns its `delayId`. */
  sendStateEvent(
    roomId: string,
    type: string,
    stateKey: string,
    content: object,
    opts?: { delayMs?: number },
  ): Promise<{
    /** The id of the sent event (sent now, without `delayMs`). */
    eventId?: string;
    /** The id of the scheduled delayed event (with `delayMs`). */
    delayId?: string;
  }>;
  /** Cancels, restarts or sends now an MSC4140 delayed event. */
  updateDelayedEvent(delayId: string, action: "cancel" | "restart" | "send"): Promise<void>;
  /** Our scheduled delayed events, every page. */
  listDelayedEvents(): Promise<DelayedEvent[]>;
  /** Redacts an event; `content` may carry extra fields (reason, routing metadata). */
  redactEvent(
    roomId: string,
    eventId: string,
    content?: object,
  ): Promise<{
    /** The id of the redaction event. */
    eventId: string;
  }>;
  /** Events relating to `eventId` with `relType` and of `eventType`. */
  getRelations(roomId: string, eventId: string, relType: string, eventType: string): Promise<RoomEvent[]>;
  /**
   * Sends to-device messages: `messages[userId][deviceId] = content`. With `encrypted`, each is Olm-encrypted for
   * its device (the send rejects if a device cannot be encrypted to).
   */
  sendToDevice(
    type: string,
    messages: Record<string, Record<string, object>>,
    opts?: {
      /** Olm-encrypt each message for its device. */
      encrypted?: boolean;
      /** The send's request allowance, shared with the library's rate-limit retries. */
      budget?: SendBudget;
    },
  ): Promise<void>;
  /** Whether an Olm-encrypted to-device message can be sent to that device now. */
  canEncryptToDevice(userId: string, deviceId: string): boolean;
  /** The homeserver's TURN servers (`GET /voip/turnServer`), or `undefined` when it has none. */
  getTurnServers(): Promise<TurnServers | undefined>;
  /** Server feature flags the library depends on. */
  getServerFeatures(): Promise<{
    /** True when the server supports MSC4140 delayed events. */
    delayedEvents: boolean;
  }>;
}

/** A TURN answer; `ttl` in seconds. */
export interface TurnServers {
  /** The TURN/STUN server URIs (`turn:`, `turns:`, `stun:`). */
  uris: string[];
  /** The TURN username, when the server gave one. */
  username?: string;
  /** The TURN password (credential), when the server gave one. */
  password?: string;
  /** How long the credentials stay valid, in seconds. */
  ttl?: number;
}

/** One sync response, as the library sees it. */
export interface SyncBatch {
  /** The rooms with new timeline or state events in this batch. */
  rooms: SyncRoom[];
  /** The to-device events of this batch, decrypted, in arrival order. */
  toDevice: ToDeviceEvent[];
}

/** The part of a sync batch for one room. */
export interface SyncRoom {
  /** The room's id, e.g. `!abc:example.org`. */
  roomId: string;
  /** True for the first sync of this client (events already in the past when we started). */
  initial: boolean;
  /** New timeline events of the room in this batch, oldest first. */
  timeline: RoomEvent[];
  /** State events of the room in this batch (in an initial batch, its full state). */
  state: StateEvent[];
}

/** A (decrypted) room event. */
export interface RoomEvent {
  /** The event id, e.g. `$abc`. */
  eventId: string;
  /** The room the event belongs to. */
  roomId: string;
  /** The event type, e.g. `m.call.invite` (the decrypted type for encrypted events). */
  type: string;
  /** The sender's user id. */
  sender: string;
  /** The (decrypted) event content, unvalidated. */
  content: Record<string, unknown>;
  /** `origin_server_ts`: when the sender's homeserver sent it, in ms since the Unix epoch. */
  originServerTs: number;
  /** Unsigned data added by the homeserver. */
  unsigned?: {
    /** Milliseconds since the event was sent, as reported by the homeserver. */
    age?: number;
  };
  /** For `m.room.redaction`: the id of the redacted event (top level or in the content, by room version). */
  redacts?: string;
  /**
   * `true` when the event arrived Megolm-encrypted (and was decrypted by the client). Absent or `false`: it came in
   * cleartext, or the port cannot tell; the library then treats it as cleartext (it never accepts a media key
   * from a cleartext room event in an encrypted room, PROTOCOL K3).
   */
  encrypted?: boolean;
}

/** A room state event. */
export interface StateEvent extends RoomEvent {
  /** The state key (`""` for room-wide state). */
  stateKey: string;
}

/** A (decrypted) to-device event. */
export interface ToDeviceEvent {
  /** The event type (the decrypted type for an Olm-encrypted message). */
  type: string;
  /** The sender's user id. */
  sender: string;
  /** The (decrypted) content, unvalidated. */
  content: Record<string, unknown>;
  /** Whether it arrived Olm-encrypted. */
  encrypted: boolean;
  /** The Olm-verified sending device, when encrypted. */
  senderDevice?: string;
}

/** What we know of a room. */
export interface RoomInfo {
  /** The room's id. */
  roomId: string;
  /** True when the room has `m.room.encryption` state: room events are sent encrypted. */
  encrypted: boolean;
  /** True for a direct-message room (listed in `m.direct`, or invited with `is_direct`). */
  isDirect: boolean;
  /** The room version from `m.room.create`, e.g. `"10"`. */
  roomVersion: string;
  /** Our membership: `join`, `invite`, `leave`, … */
  myMembership: string;
  /** User ids of the members whose membership is `join`. */
  joinedMembers: string[];
  /** Content of `m.room.power_levels`, when known. */
  powerLevels?: Record<string, unknown>;
}

/** A scheduled MSC4140 delayed event. */
export interface DelayedEvent {
  /** The server's id of the delayed event, for `updateDelayedEvent`. */
  delayId: string;
  /** The room it will be sent to. */
  roomId: string;
  /** Its event type. */
  type: string;
  /** Its state key, for a delayed state event. */
  stateKey?: string;
  /** How long after `runningSince` it is sent, in milliseconds. */
  delayMs: number;
  /** When its delay (re)started, in ms since the Unix epoch (a restart resets it). */
  runningSince: number;
  /** The content it will be sent with. */
  content: Record<string, unknown>;
}

/**
 * One send's allowance of requests, shared by the port's transport retries and the library's rate-limit retries:
 * the port spends one unit per request it makes (each retry included) and retries no more once none is left; the
 * library retries a 429 only while some are left. So a send costs at most the library's `maxAttempts` requests,
 * however its 5xx and 429 answers mix. A port may ignore it: each layer then bounds only its own retries.
 */
export interface SendBudget {
  /** Requests the send may still make. */
  readonly remaining: number;
  /** Spends one request; call it once per request made, the first included. */
  spend(): void;
}
