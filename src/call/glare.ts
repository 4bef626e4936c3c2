/** What to do when an invite arrives while we have our own call to the same peer in that room. */
export type GlareDecision =
  /** No competing call of ours: ring as usual. */
  | "no_glare"
  /** Our call survives; the incoming call is hung up with `replaced`. */
  | "keep_existing"
  /** The incoming call survives (and keeps ringing); ours is hung up with `replaced`. */
  | "keep_incoming";

/**
 * Glare resolution (PROTOCOL D6, reference §5.7). When both invites are on the wire, the call with the smaller
 * `call_id` in UTF-16 code-unit order survives, so both sides decide alike without talking. When our invite has
 * not been sent yet, the incoming call survives whatever the ids.
 */
export function resolveGlare(
  existing: { callId: string; inviteSent: boolean } | undefined,
  incomingCallId: string,
): GlareDecision {
  if (existing === undefined || existing.callId === incomingCallId) {
    return "no_glare";
  }
  if (!existing.inviteSent) {
    return "keep_incoming";
  }
  return incomingCallId < existing.callId ? "keep_incoming" : "keep_existing";
}
