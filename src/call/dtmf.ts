import { VoipError, VoipErrorCode } from "../core/errors.js";

/**
 * @internal Sends DTMF `tones` on the audio sender of `pc`.
 * @throws {VoipError} `invalid_state` when there is no audio sender or it refuses the tones; `not_supported` when
 *   the platform has no DTMF sender; `invalid_argument` for tones the platform calls invalid.
 */
export function insertDtmf(pc: RTCPeerConnection | undefined, tones: string): void {
  const sender = pc?.getSenders().find((s) => s.track?.kind === "audio");
  if (!sender) {
    throw new VoipError(VoipErrorCode.InvalidState, "no audio sender to send DTMF on");
  }
  const dtmf = (sender as Partial<Pick<RTCRtpSender, "dtmf">>).dtmf;
  if (!dtmf) {
    throw new VoipError(VoipErrorCode.NotSupported, "this platform has no DTMF sender");
  }
  try {
    dtmf.insertDTMF(tones);
  } catch (error) {
    const invalidTones = error instanceof Error && error.name === "InvalidCharacterError";
    throw new VoipError(
      invalidTones ? VoipErrorCode.InvalidArgument : VoipErrorCode.InvalidState,
      invalidTones ? `invalid DTMF tones: ${JSON.stringify(tones)}` : "the DTMF sender refused the tones",
      { cause: error },
    );
  }
}
