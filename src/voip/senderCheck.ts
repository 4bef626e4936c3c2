import { CallDirection } from "../call/types.js";
import { CallEventType } from "../matrix/eventTypes.js";

/** Who a call talks to, as far as known: from the live call, or from its invite earlier in the same batch. */
export interface CallBinding {
  direction: CallDirection;
  /** The peer's user id; undefined for an outgoing call anyone in the room may answer. */
  remoteUserId: string | undefined;
  /** The peer's party id, once bound. */
  remotePartyId: string | undefined;
}

/** Who we are: our user id and our party id (the VoIP session id). */
export interface OwnIdentity {
  userId: string;
  sessionId: string;
}

/**
 * What the router does with a validated 1:1 event, judged by its sender and party (reference §5.1):
 * - `echo`: our own event coming back (our user and our party id, PROTOCOL D10) — ignored;
 * - `invite`: a new call; the invite checks (invitee, busy, glare) follow;
 * - `unknown_call`: no call with that id — ignored;
 * - `answered_elsewhere`: another device of ours answered or rejected a call that rings here;
 * - `own_device_ignored`: anything else from another device of ours — ignored;
 * - `wrong_sender` / `other_party`: not from the peer (or not from the party bound to the call) — ignored;
 * - `peer`: from the peer: handled by the call.
 */
export type SenderVerdict =
  | "echo"
  | "invite"
  | "unknown_call"
  | "answered_elsewhere"
  | "own_device_ignored"
  | "wrong_sender"
  | "other_party"
  | "peer";

/** The verdicts whose events reach a call (or create one). */
export function isAccepted(verdict: SenderVerdict): boolean {
  return verdict === "invite" || verdict === "answered_elsewhere" || verdict === "peer";
}

/**
 * The one sender and party check of inbound 1:1 events, shared by the batch validation (before the batch filter)
 * and the router (at dispatch). Pure.
 */
export function checkSender(
  event: { sender: string; type: CallEventType; partyId: string | undefined },
  binding: CallBinding | undefined,
  me: OwnIdentity,
): SenderVerdict {
  if (event.sender === me.userId && event.partyId === me.sessionId) {
    return "echo";
  }
  if (event.type === CallEventType.Invite) {
    return "invite";
  }
  if (binding === undefined) {
    return "unknown_call";
  }
  if (event.sender === me.userId && binding.remoteUserId !== me.userId) {
    const settles = event.type === CallEventType.Answer || event.type === CallEventType.Reject;
    return settles && binding.direction === CallDirection.Incoming
      ? "answered_elsewhere"
      : "own_device_ignored";
  }
  if (binding.remoteUserId !== undefined && binding.remoteUserId !== event.sender) {
    return "wrong_sender";
  }
  if (binding.remotePartyId !== undefined && event.partyId !== binding.remotePartyId) {
    return "other_party";
  }
  return "peer";
}
