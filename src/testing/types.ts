import type { Clock } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { TurnServers } from "../matrix/MatrixClientPort.js";
import type { RandomFn } from "./prng.js";

/** Options of {@link LocalHomeserver}. */
export interface LocalHomeserverOptions {
  /**
   * Timestamps (`originServerTs`, `unsigned.age`) and delayed-event timers. Default: the system clock. Sync
   * delivery never waits on it: it uses real macrotasks.
   */
  clock?: Clock;
  /** The server part of room ids. Default `local`. */
  serverName?: string;
  /** Seed of the PRNG behind ids, ciphertext and faults. Default {@link DEFAULT_SEED}: runs are reproducible. */
  seed?: number;
  /** Randomness for fault decisions (loss, errors, reorder, duplicates); overrides `seed` for those. */
  random?: RandomFn;
  /** Whether MSC4140 delayed events are supported. Default `true`. */
  delayedEvents?: boolean;
  /** Page size of the delayed-events listing (the client follows `next_batch`). Default 10. */
  delayedEventsPageSize?: number;
  /** The TURN answer: `"default"` (a fresh credential per request), a fixed answer, or `null` for none. */
  turnServers?: TurnServers | "default" | null;
  /** How many recent timeline events of each room a new subscription's initial batch carries. Default 10. */
  initialTimelineLimit?: number;
  /** Attempts per request before a client gives up on transport errors (5xx, network loss). Default 4. */
  maxAttempts?: number;
  /** Where the server logs dropped input and listener failures. Default: silent. */
  logger?: Logger;
}

/** Options of {@link LocalHomeserver.createRoom}. */
export interface CreateRoomOptions {
  /** The creator (power level 100). */
  creator: string;
  /** Other users, all joined. */
  members?: string[];
  /** Adds `m.room.encryption` (Megolm): room events are stored as opaque ciphertext. */
  encrypted?: boolean;
  /** Marks the room as a direct chat. */
  isDirect?: boolean;
  /** Default `"10"`; an `org.matrix.msc3757.*` version enables owned state keys `@user:hs_suffix`. */
  roomVersion?: string;
  /**
   * Merged into Synapse's default power levels. `users` and `events` are merged key by key (unlike Synapse's
   * shallow override), so `{ events: { "com.famedly.call.member": 0 } }` keeps the other defaults.
   */
  powerLevels?: Record<string, unknown>;
}

/**
 * Faults injected into the traffic; {@link LocalHomeserver.setFaults} may change them at any time. Rates are
 * probabilities in `[0, 1]` drawn from the seeded PRNG.
 */
export interface Faults {
  /** Real-time delay (ms) before a sync batch or to-device message reaches a client. */
  latencyMs?: number;
  /** Probability that a request is lost on the way in or its response on the way out (the port retries). */
  lossRate?: number;
  /** Deliver to-device messages in shuffled order across batches. */
  reorder?: boolean;
  /** Probability that a to-device message is delivered twice. */
  duplicateRate?: number;
  /** Every Nth request is answered with 429 `M_LIMIT_EXCEEDED`. */
  rateLimitEvery?: number;
  /** `retry_after_ms` of those 429 answers. Default 100. */
  retryAfterMs?: number;
  /** Probability of a 500 answer, before or after the server applied the request (the port retries). */
  serverErrorRate?: number;
  /** Deterministic: the next N requests are applied by the server, then their response is lost. */
  dropNextResponses?: number;
}

/** One entry of {@link LocalHomeserver.getRoomState}. */
export interface RoomStateEntry {
  /** The event type. */
  type: string;
  /** The state key (`""` for room-wide state). */
  stateKey: string;
  /** The user id that set this state. */
  sender: string;
  /** The content, cleartext (state is never encrypted), a copy. */
  content: Record<string, unknown>;
  /** The id of the state event. */
  eventId: string;
  /** When the server accepted it, in ms (the injected clock). */
  originServerTs: number;
}

/** A device addressed by a to-device message. */
export interface DeviceAddress {
  /** The recipient's user id. */
  userId: string;
  /** The recipient's device id. */
  deviceId: string;
}

/**
 * One thing the server accepted, as {@link LocalHomeserver.transcript} lists it. For encrypted room events and
 * to-device messages `content` is opaque ciphertext and `type` the inner (cleartext) type.
 */
export interface TranscriptEntry {
  /** What was accepted: a room event, a state event or a to-device message. */
  kind: "room" | "state" | "toDevice";
  /** The sender's user id. */
  sender: string;
  /** The sending device; `undefined` for events the test harness created (room creation, joins). */
  senderDevice: string | undefined;
  /** Room and state events: the room. */
  roomId?: string;
  /** Room and state events: the event id. */
  eventId?: string;
  /** The inner type (the cleartext type of an encrypted event). */
  type: string;
  /** State events: the state key. */
  stateKey?: string;
  /** Cleartext, or for encrypted events an opaque ciphertext object. To-device: the first recipient's message. */
  content: Record<string, unknown>;
  /** Whether the server only ever saw ciphertext. */
  encrypted: boolean;
  /** Redactions: the redacted event. */
  redacts?: string;
  /** To-device: the devices it reached (after `"*"` expansion; unknown devices dropped). */
  recipients?: DeviceAddress[];
  /** To-device: every message as stored, `perDevice[userId][deviceId]` (ciphertext when encrypted). */
  perDevice?: Record<string, Record<string, Record<string, unknown>>>;
  /** A delayed event, listed when the server published it. */
  delayed?: boolean;
  /** Server time of acceptance (the injected clock). */
  ts: number;
}

/** Counters for assertions; live values. */
export interface HomeserverStats {
  /** Every request attempt that reached the server (retries included). */
  requests: number;
  /** `GET /voip/turnServer` requests. */
  turnRequests: number;
  /** Requests answered with 429. */
  rateLimited: number;
  /** Requests failed by `lossRate`, `serverErrorRate` or `dropNextResponses`. */
  injectedFailures: number;
  /** Retries made by clients after transport errors. */
  retries: number;
  /** Delayed events that fired but were rejected (power levels, membership). */
  delayedEventsRejected: number;
}
