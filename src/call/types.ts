/** Whether a call carries video. */
export enum CallType {
  /** Audio only. */
  Voice = "voice",
  /** Audio and video. */
  Video = "video",
}

/** Who placed the call. */
export enum CallDirection {
  /** The peer invited us. */
  Incoming = "incoming",
  /** We invited the peer. */
  Outgoing = "outgoing",
}

/** The state of a {@link CallSession}; the legal transitions are in `callState.ts`. */
export enum CallState {
  /** Just created, nothing done yet; leads to `CreateOffer` (outgoing) or `Ringing` (incoming invite). */
  Fledgling = "fledgling",
  /**
   * Outgoing: the invite is sent; an answer leads to `Connecting`, the invite lifetime running out to a
   * hangup (`invite_timeout`).
   */
  InviteSent = "invite_sent",
  /** Outgoing: acquiring local media and creating the offer; leads to `InviteSent` once the invite is sent. */
  CreateOffer = "create_offer",
  /** Incoming: `answer()` was called and the answer is being created and sent; leads to `Connecting`. */
  CreateAnswer = "create_answer",
  /** Offer and answer are exchanged; ICE connecting leads to `Connected`. */
  Connecting = "connecting",
  /** ICE is connected and media flows; only the end leads out of it. */
  Connected = "connected",
  /**
   * Incoming: the offer is applied and the call rings; `answer()` leads to `CreateAnswer`, `reject()` or the
   * invite lifetime running out (`invite_timeout`) to the end.
   */
  Ringing = "ringing",
  /** A local `hangup()`/`reject()` is under way; always followed by `Ended`. */
  Ending = "ending",
  /** Final: the call is over (see `CallSession.hangupReason`); nothing leads out of it. */
  Ended = "ended",
}

export { CallErrorCode, callErrorCodeFromWire } from "../core/callErrorCode.js";
