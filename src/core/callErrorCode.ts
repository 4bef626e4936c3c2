/** Why a call ended. The values are the wire values of `m.call.hangup` `reason`. */
export enum CallErrorCode {
  /** The user hung up or rejected; also assumed when an inbound hangup/reject has no known reason. */
  UserHangup = "user_hangup",
  /** Creating or sending our offer (the first one or a renegotiation) failed. */
  LocalOfferFailed = "local_offer_failed",
  /** Our camera/microphone could not be acquired (matrix-js-sdk sends `no_user_media`). */
  UserMediaFailed = "user_media_failed",
  /** The peer reported an unknown device (matrix-js-sdk sends `unknown_devices`); we never send it. */
  UnknownDevice = "unknown_device",
  /** Creating our answer failed. */
  CreateAnswer = "create_answer",
  /** The peer's offer or answer could not be applied (`setRemoteDescription` failed). */
  SetRemoteDescription = "set_remote_description",
  /** Applying our own offer or answer (`setLocalDescription`) failed. */
  SetLocalDescription = "set_local_description",
  /**
   * Another device answered or rejected the call (the caller selected another party, or another device of
   * ours took it).
   */
  AnsweredElsewhere = "answered_elsewhere",
  /** The ICE connection failed (or stayed disconnected) and every ICE restart failed too. */
  IceFailed = "ice_failed",
  /** Nobody answered within the invite's lifetime (outgoing `InviteSent` or incoming `Ringing`). */
  InviteTimeout = "invite_timeout",
  /** The call lost glare to another call between the same parties and was replaced by it. */
  Replaced = "replaced",
  /** Our ICE candidates could not be sent after every retry (matrix-js-sdk sends `signalling_timeout`). */
  IceTimeout = "ice_timeout",
  /** We were busy: the app could not take a new call, so the invite was refused. */
  UserBusy = "user_busy",
  /** The call was transferred; we only receive it (we announce no transfer capability). */
  Transferred = "transferred",
  /** Any other failure (for example, our answer could not be sent). */
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
