/** Whether a call carries video. */
export enum CallType {
  Voice = "voice",
  Video = "video",
}

/** Who placed the call. */
export enum CallDirection {
  Incoming = "incoming",
  Outgoing = "outgoing",
}

/** The state of a {@link CallSession}; the legal transitions are in `callState.ts`. */
export enum CallState {
  Fledgling = "fledgling",
  InviteSent = "invite_sent",
  CreateOffer = "create_offer",
  CreateAnswer = "create_answer",
  Connecting = "connecting",
  Connected = "connected",
  Ringing = "ringing",
  Ending = "ending",
  Ended = "ended",
}

/** Why a call ended. The values are the wire values of `m.call.hangup` `reason`. */
export enum CallErrorCode {
  UserHangup = "user_hangup",
  LocalOfferFailed = "local_offer_failed",
  UserMediaFailed = "user_media_failed",
  UnknownDevice = "unknown_device",
  CreateAnswer = "create_answer",
  SetRemoteDescription = "set_remote_description",
  SetLocalDescription = "set_local_description",
  AnsweredElsewhere = "answered_elsewhere",
  IceFailed = "ice_failed",
  InviteTimeout = "invite_timeout",
  Replaced = "replaced",
  IceTimeout = "ice_timeout",
  UserBusy = "user_busy",
  Transferred = "transferred",
  UnknownError = "unknown_error",
}

const CALL_ERROR_CODES = new Map<string, CallErrorCode>(
  Object.values(CallErrorCode).map((code) => [code, code]),
);

/**
 * Maps an inbound hangup/reject `reason` to a {@link CallErrorCode}: the wire values, the reference's literal
 * `userHangup` (PROTOCOL D1), and matrix-js-sdk's spellings. Unknown or absent reasons give `undefined`.
 */
export function callErrorCodeFromWire(reason: unknown): CallErrorCode | undefined {
  if (typeof reason !== "string") {
    return undefined;
  }
  const exact = CALL_ERROR_CODES.get(reason);
  if (exact !== undefined) {
    return exact;
  }
  switch (reason) {
    case "userHangup":
      return CallErrorCode.UserHangup;
    case "no_user_media":
      return CallErrorCode.UserMediaFailed;
    case "unknown_devices":
      return CallErrorCode.UnknownDevice;
    case "signalling_timeout":
      return CallErrorCode.IceTimeout;
    default:
      return undefined;
  }
}
