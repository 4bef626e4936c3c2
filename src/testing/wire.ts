import type { RoomEvent, StateEvent } from "../matrix/MatrixClientPort.js";

/** An event as the server stores it: cleartext content (what the room's members can decrypt). */
export interface StoredEvent {
  eventId: string;
  roomId: string;
  type: string;
  sender: string;
  /** The sending device; `undefined` for events the harness created. */
  senderDevice: string | undefined;
  content: Record<string, unknown>;
  originServerTs: number;
  stateKey?: string;
  redacts?: string;
  redacted: boolean;
  /** Whether it went out Megolm-encrypted (a timeline event in an encrypted room, unless sent in cleartext). */
  encrypted?: boolean;
}

/** A deep copy of JSON-like content, so that nobody can change what the server stored. */
export function cloneContent(content: object): Record<string, unknown> {
  return structuredClone(content) as Record<string, unknown>;
}

/** Whether `value` is a plain JSON object (not null, not an array). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The event as a client receives it at `now`: cleartext, a copy, `unsigned.age` filled in. */
export function toRoomEvent(event: StoredEvent, now: number): RoomEvent {
  const out: RoomEvent = {
    eventId: event.eventId,
    roomId: event.roomId,
    type: event.type,
    sender: event.sender,
    content: cloneContent(event.content),
    originServerTs: event.originServerTs,
    unsigned: { age: Math.max(0, now - event.originServerTs) },
  };
  if (event.redacts !== undefined) {
    out.redacts = event.redacts;
  }
  if (event.encrypted === true) {
    out.encrypted = true;
  }
  return out;
}

/** A state event as a client receives it at `now`. */
export function toStateEvent(event: StoredEvent, now: number): StateEvent {
  return { ...toRoomEvent(event, now), stateKey: event.stateKey ?? "" };
}
