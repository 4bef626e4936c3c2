import type { Logger } from "../core/Logger.js";
import { CallDirection } from "../call/types.js";
import { CallEventType } from "../matrix/eventTypes.js";
import type { RoomEvent } from "../matrix/MatrixClientPort.js";
import { parseContent, type AnyParsedSignalling } from "../matrix/parse.js";
import type { BatchItem } from "./batchFilter.js";
import { checkSender, isAccepted, type CallBinding, type OwnIdentity } from "./senderCheck.js";

/** A call event that passed the parse step and the sender and party checks. */
export interface ValidCallEvent extends BatchItem {
  parsed: AnyParsedSignalling;
}

/**
 * The first half of the inbound path of one room's batch: every call event goes through the one parse step
 * (`parseContent`) and the sender and party checks of the router ({@link checkSender}), judged against the live
 * call or, for a call whose invite is in this batch, against that invite's sender and party. Only what passes
 * reaches the batch filter, so a malformed event or one forged by a third party can never drop a valid one.
 * Dropped events are logged at debug. Events keep their order.
 */
export function validateCallEvents(
  events: readonly RoomEvent[],
  me: OwnIdentity,
  liveBinding: (roomId: string, callId: string) => CallBinding | undefined,
  log: Logger,
): ValidCallEvent[] {
  const parsed: { event: RoomEvent; parsed: AnyParsedSignalling }[] = [];
  for (const event of events) {
    const result = parseContent(event.type, event.content, log, { transport: "room" });
    if (result.ok && result.kind === "signalling") {
      parsed.push({ event, parsed: result });
    }
  }
  const invited = new Map<string, CallBinding>();
  for (const { event, parsed: p } of parsed) {
    if (p.type === CallEventType.Invite && !invited.has(p.content.call_id)) {
      invited.set(p.content.call_id, {
        direction: CallDirection.Incoming,
        remoteUserId: event.sender,
        remotePartyId: p.content.party_id,
      });
    }
  }
  const valid: ValidCallEvent[] = [];
  for (const { event, parsed: p } of parsed) {
    const callId = p.content.call_id;
    const binding = liveBinding(event.roomId, callId) ?? invited.get(callId);
    const verdict = checkSender(
      { sender: event.sender, type: p.type, partyId: p.content.party_id },
      binding,
      me,
    );
    if (!isAccepted(verdict)) {
      log.debug("dropped call event before the batch filter", {
        type: p.type,
        callId,
        sender: event.sender,
        verdict,
      });
      continue;
    }
    valid.push({
      event,
      parsed: p,
      type: p.type,
      callId,
      lifetime: p.type === CallEventType.Invite ? p.content.lifetime : undefined,
    });
  }
  return valid;
}
