import type { RoomEvent } from "../matrix/MatrixClientPort.js";
import { CallEventType } from "../matrix/eventTypes.js";

/** Types that end a call (or settle who answered it), reference §4 `callEndedEventTypes`. */
const ENDING_TYPES = new Set<string>([CallEventType.Hangup, CallEventType.Reject, CallEventType.Replaces]);

/** Types that are pointless for a call that ended in the same batch (reference `omitWhenCallEndedTypes`). */
const OMIT_WHEN_ENDED = new Set<string>([
  CallEventType.Invite,
  CallEventType.Candidates,
  CallEventType.Negotiate,
  CallEventType.SdpStreamMetadataChanged,
]);

/**
 * One call event of a batch, already validated (parsed content, sender and party checked): the filter reads
 * nothing from the raw content.
 */
export interface BatchItem {
  event: RoomEvent;
  /** The normalised `m.call.*` type. */
  type: CallEventType;
  /** The validated `call_id`. */
  callId: string;
  /** The validated `lifetime` of an invite. */
  lifetime?: number | undefined;
}

/** Why an event was dropped by {@link filterCallBatch}. */
export interface DroppedEvent<T extends BatchItem = BatchItem> {
  item: T;
  why: "ended_in_batch" | "answered_in_batch" | "invite_expired";
}

/**
 * The batch rules of reference §5.1, applied to the validated call events of one room in one sync batch:
 * - a call hung up, rejected or replaced within the batch: its invite, candidates, negotiation and metadata
 *   events are dropped; a call answered within the batch: its invite is dropped (nobody rings for it);
 * - an invite older than its `lifetime` (`unsigned.age`, else `now - origin_server_ts`) is dropped — that
 *   invite only (PROTOCOL D4; the reference drops the whole batch).
 *
 * Only validated events may be passed in (see `validateCallEvents`): a malformed or forged hangup must never
 * drop a valid invite. Events keep their order. Pure: `now` is passed in.
 */
export function filterCallBatch<T extends BatchItem>(
  items: readonly T[],
  now: number,
  defaultInviteLifetimeMs: number,
): { kept: T[]; dropped: DroppedEvent<T>[] } {
  const ended = new Set<string>();
  const answered = new Set<string>();
  for (const { type, callId } of items) {
    if (ENDING_TYPES.has(type)) {
      ended.add(callId);
    } else if (type === CallEventType.Answer) {
      answered.add(callId);
    }
  }
  const kept: T[] = [];
  const dropped: DroppedEvent<T>[] = [];
  for (const item of items) {
    const { type, callId, event } = item;
    if (OMIT_WHEN_ENDED.has(type) && ended.has(callId)) {
      dropped.push({ item, why: "ended_in_batch" });
      continue;
    }
    if (type === CallEventType.Invite && answered.has(callId)) {
      dropped.push({ item, why: "answered_in_batch" });
      continue;
    }
    if (type === CallEventType.Invite) {
      const age = event.unsigned?.age ?? now - event.originServerTs;
      if (age > (item.lifetime ?? defaultInviteLifetimeMs)) {
        dropped.push({ item, why: "invite_expired" });
        continue;
      }
    }
    kept.push(item);
  }
  return { kept, dropped };
}
