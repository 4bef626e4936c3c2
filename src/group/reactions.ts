/**
 * In-call reactions (reference §3.5, §8.1): the content we send, the redaction content that removes one, and the
 * rules an inbound reaction must pass.
 */
import { GroupEventType } from "../matrix/eventTypes.js";
import type { RoomEvent } from "../matrix/MatrixClientPort.js";

/** Ephemeral reactions older than this are dropped on arrival (`CallConstants.ephemeralReactionTimeout`). */
export const EPHEMERAL_REACTION_TIMEOUT_MS = 2_000;
/** More than this many ephemeral reactions in flight (decaying by one per second) are refused. */
export const REACTION_THROTTLE = 10;

/** `com.famedly.call.member.reaction` content relating to our membership event. */
export function buildReactionContent(opts: {
  key: string;
  ephemeral: boolean;
  callId: string;
  deviceId: string;
  membershipEventId: string;
}): Record<string, unknown> {
  return {
    key: opts.key,
    is_ephemeral: opts.ephemeral,
    call_id: opts.callId,
    device_id: opts.deviceId,
    "m.relates_to": { rel_type: "m.reference", event_id: opts.membershipEventId },
  };
}

/** The content of the redaction that removes one of our reactions (receivers route on these fields). */
export function buildReactionRedactionContent(opts: {
  deviceId: string;
  callId: string;
  scope: string;
}): Record<string, unknown> {
  return {
    device_id: opts.deviceId,
    call_id: opts.callId,
    scope: opts.scope,
    redacts_type: GroupEventType.Reaction,
  };
}

/** How old an event is, by the server's `unsigned.age` or else its timestamp. */
export function eventAgeMs(event: RoomEvent, now: number): number {
  return event.unsigned?.age ?? now - event.originServerTs;
}

/** Keys of our permanent reactions among the relations of our membership event (not ephemeral, not redacted). */
export function permanentReactionKeys(
  relations: readonly RoomEvent[],
  userId: string,
  deviceId: string,
): string[] {
  const keys: string[] = [];
  for (const event of relations) {
    const content = event.content;
    if (
      event.type === GroupEventType.Reaction &&
      event.sender === userId &&
      content.device_id === deviceId &&
      content.is_ephemeral !== true &&
      typeof content.key === "string" &&
      content.key.length > 0
    ) {
      keys.push(content.key);
    }
  }
  return keys;
}
