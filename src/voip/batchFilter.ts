import type { RoomEvent } from "../matrix/MatrixClientPort.js";
import { CallEventType, normalizeCallEventType } from "../matrix/eventTypes.js";

/** Types that end a call (or settle who answered it), reference §4 `callEndedEventTypes`. */
const ENDING_TYPES = new Set<string>([CallEventType.Hangup, CallEventType.Reject, CallEventType.Replaces]);

/** Types that are pointless for a call that ended in the same batch (reference `omitWhenCallEndedTypes`). */
const OMIT_WHEN_ENDED = new Set<string>([
  CallEventType.Invite,
  CallEventType.Candidates,
  CallEventType.Negotiate,
  CallEventType.SdpStreamMetadataChanged,
]);

/** Why an event was dropped by {@link filterCallBatch}. */
export interface DroppedEvent {
  event: RoomEvent;
  why: "ended_in_batch" | "answered_in_batch" | "invite_expired";
}

function field(event: RoomEvent, name: string): unknown {
  const content: unknown = event.content;
  return typeof content === "object" && content !== null
    ? (content as Record<string, unknown>)[name]
    : undefined;
}

function callIdOf(event: RoomEvent): string | undefined {
  const id = field(event, "call_id");
  return typeof id === "string" ? id : undefined;
}

/**
 * The batch rules of reference §5.1, applied to the call events of one room in one sync batch:
 * - a call hung up, rejected or replaced within the batch: its invite, candidates, negotiation and metadata
 *   events are dropped; a call answered within the batch: its invite is dropped (nobody rings for it);
 * - an invite older than its `lifetime` (`unsigned.age`, else `now - origin_server_ts`) is dropped — that
 *   invite only (PROTOCOL D4; the reference drops the whole batch).
 *
 * Events keep their order. Pure: `now` is passed in.
 */
export function filterCallBatch(
  events: readonly RoomEvent[],
  now: number,
  defaultInviteLifetimeMs: number,
): { kept: RoomEvent[]; dropped: DroppedEvent[] } {
  const ended = new Set<string>();
  const answered = new Set<string>();
  for (const event of events) {
    const type = normalizeCallEventType(event.type);
    const callId = callIdOf(event);
    if (type === undefined || callId === undefined) {
      continue;
    }
    if (ENDING_TYPES.has(type)) {
      ended.add(callId);
    } else if (type === CallEventType.Answer) {
      answered.add(callId);
    }
  }
  const kept: RoomEvent[] = [];
  const dropped: DroppedEvent[] = [];
  for (const event of events) {
    const type = normalizeCallEventType(event.type);
    const callId = callIdOf(event);
    if (type !== undefined && callId !== undefined && OMIT_WHEN_ENDED.has(type) && ended.has(callId)) {
      dropped.push({ event, why: "ended_in_batch" });
      continue;
    }
    if (type === CallEventType.Invite && callId !== undefined && answered.has(callId)) {
      dropped.push({ event, why: "answered_in_batch" });
      continue;
    }
    if (type === CallEventType.Invite) {
      const age = event.unsigned?.age ?? now - event.originServerTs;
      const declared = field(event, "lifetime");
      const lifetime = typeof declared === "number" ? declared : defaultInviteLifetimeMs;
      if (age > lifetime) {
        dropped.push({ event, why: "invite_expired" });
        continue;
      }
    }
    kept.push(event);
  }
  return { kept, dropped };
}
