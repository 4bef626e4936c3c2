import type { MatrixEvent } from "matrix-js-sdk";
import type { RoomEvent, StateEvent } from "../../MatrixClientPort.js";

/**
 * Converts a (decrypted) js-sdk room event to the port's shape; `undefined` for anything that is not a room event
 * (ephemeral and account-data events carry no event id or room id) or that is still encrypted.
 */
export function toRoomEvent(event: MatrixEvent): RoomEvent | undefined {
  const eventId = event.getId();
  const roomId = event.getRoomId();
  const sender = event.getSender();
  if (eventId === undefined || roomId === undefined || sender === undefined) {
    return undefined;
  }
  if (event.getType() === "m.room.encrypted") {
    return undefined;
  }
  const content = { ...event.getContent() } as Record<string, unknown>;
  const out: RoomEvent = {
    eventId,
    roomId,
    type: event.getType(),
    sender,
    content,
    originServerTs: event.getTs(),
  };
  const age = (event.getUnsigned() as { age?: unknown }).age;
  if (typeof age === "number") {
    out.unsigned = { age };
  }
  const redacts = readRedacts(event, content);
  if (redacts !== undefined) {
    out.redacts = redacts;
  }
  // A decrypted room event keeps its `m.room.encrypted` wire event: `isEncrypted()` stays true (state never is).
  if (typeof event.isEncrypted === "function" && event.isEncrypted()) {
    out.encrypted = true;
  }
  return out;
}

/** Like {@link toRoomEvent}, for state events; `undefined` when the event has no state key. */
export function toStateEvent(event: MatrixEvent): StateEvent | undefined {
  const stateKey = event.getStateKey();
  if (stateKey === undefined) {
    return undefined;
  }
  const roomEvent = toRoomEvent(event);
  return roomEvent === undefined ? undefined : { ...roomEvent, stateKey };
}

function readRedacts(event: MatrixEvent, content: Record<string, unknown>): string | undefined {
  if (event.getType() !== "m.room.redaction") {
    return undefined;
  }
  // Room versions up to 10 carry `redacts` at the top level, 11 and later in the content.
  const topLevel = (event.event as { redacts?: unknown }).redacts;
  if (typeof topLevel === "string") {
    return topLevel;
  }
  return typeof content.redacts === "string" ? content.redacts : undefined;
}

/** What the decrypted Olm plaintext tells about its sender (see {@link readOlmEnvelope}). */
export interface OlmEnvelope {
  /** The sender's Ed25519 key, from the plaintext's `keys.ed25519`. */
  senderEd25519: string;
  /** The device id claimed by the MSC4147 `device_keys` in the plaintext, when its Ed25519 key matches. */
  claimedDeviceId?: string;
}

/**
 * Reads the Olm plaintext fields of a to-device event decrypted by js-sdk 37's Rust crypto. A decrypted event
 * keeps `keys.ed25519`, `recipient` and `recipient_keys` (and, from senders that support MSC4147,
 * `org.matrix.msc4147.device_keys`); a plaintext to-device event has only `type`, `sender` and `content`. In 37.x
 * these fields are the only sign of encryption (`isEncrypted()` is false after decryption). A malicious homeserver
 * could add them to a plaintext event, so the adapter also requires `keys.ed25519` to be the key of a device of
 * the sender that the crypto store knows (see `DeviceCache.findDeviceByEd25519`).
 */
export function readOlmEnvelope(raw: unknown): OlmEnvelope | undefined {
  if (!isRecord(raw) || !isRecord(raw.keys) || typeof raw.keys.ed25519 !== "string") {
    return undefined;
  }
  if (typeof raw.recipient !== "string" || !isRecord(raw.recipient_keys)) {
    return undefined;
  }
  const senderEd25519 = raw.keys.ed25519;
  const envelope: OlmEnvelope = { senderEd25519 };
  const deviceKeys = raw["org.matrix.msc4147.device_keys"] ?? raw.sender_device_keys;
  if (isRecord(deviceKeys) && typeof deviceKeys.device_id === "string" && isRecord(deviceKeys.keys)) {
    if (deviceKeys.keys[`ed25519:${deviceKeys.device_id}`] === senderEd25519) {
      envelope.claimedDeviceId = deviceKeys.device_id;
    }
  }
  return envelope;
}

/**
 * To-device types that js-sdk's crypto consumes itself. They are not handed to the library: some carry key
 * material, none concern calls.
 */
export const CRYPTO_INTERNAL_TO_DEVICE_TYPES: ReadonlySet<string> = new Set([
  "m.room_key",
  "m.forwarded_room_key",
  "m.room_key_request",
  "m.room_key.withheld",
  "m.secret.request",
  "m.secret.send",
  "m.dummy",
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
