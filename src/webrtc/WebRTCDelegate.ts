import type { CallSession } from "../call/CallSession.js";
import type { GroupCallSession } from "../group/GroupCallSession.js";
import type { EncryptionKeyProvider } from "../group/EncryptionKeyProvider.js";

/**
 * The media-device part of a {@link WebRTCDelegate}. `navigator.mediaDevices` fits as it is. (DESIGN writes
 * `ondevicechange?: (() => void) | null`; the handler takes the DOM's optional event so the browser's own object
 * is assignable.)
 */
export type DelegateMediaDevices = Pick<MediaDevices, "getUserMedia"> &
  Partial<Pick<MediaDevices, "getDisplayMedia" | "enumerateDevices">> & {
    /** Set by `VoIP` (calling any handler that was there before) to move calls to the new default devices. */
    ondevicechange?: ((event: Event) => unknown) | null;
  };

/**
 * The platform (peer connections, media devices) plus the app's callbacks, as in the product README.
 * Browser apps can build one from `globalThis`; Node gets one from `famedly-calls/node`.
 *
 * Callback order (reference §9): outgoing `registerListeners` → `handleNewCall`; incoming `playRingtone` →
 * `registerListeners` → `handleNewCall`; busy → `handleMissedCall` only; any answer → `stopRingtone`; end →
 * `handleCallEnded` (+ `handleMissedCall` when the remote ended a call that never connected).
 */
export interface WebRTCDelegate {
  /** Local media: `getUserMedia` (camera/microphone), `getDisplayMedia` (screen sharing), `ondevicechange`. */
  readonly mediaDevices: DelegateMediaDevices;
  /** Creates a call's peer connection; `config.iceServers` are the homeserver's TURN servers (maybe none). */
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection | Promise<RTCPeerConnection>;
  /** True in browsers. */
  readonly isWeb: boolean;
  /** False while the app cannot take another call (busy); absent = true. */
  canHandleNewCall?: boolean | (() => boolean);
  /** SFU mode: where received and own media keys go. */
  keyProvider?: EncryptionKeyProvider;
  /** An incoming call arrived: start ringing (called before local media is acquired). */
  playRingtone?(): void | Promise<void>;
  /** Stop ringing: the call was answered (by us or the peer), or a call that rang ended. */
  stopRingtone?(): void | Promise<void>;
  /** A new call exists: subscribe to its events before it goes further. */
  registerListeners?(call: CallSession): void | Promise<void>;
  /** A call is set up: an outgoing one after its media and peer connection, an incoming one once it rings. */
  handleNewCall?(call: CallSession): void | Promise<void>;
  /** A 1:1 call ended (`call.hangupReason` says why). */
  handleCallEnded?(call: CallSession): void | Promise<void>;
  /** An incoming call ended unanswered: the caller gave up, it timed out, or we were busy. */
  handleMissedCall?(call: CallSession): void | Promise<void>;
  /** A group call was discovered in a room, or entered. */
  handleNewGroupCall?(group: GroupCallSession): void | Promise<void>;
  /** We left a group call. */
  handleGroupCallEnded?(group: GroupCallSession): void | Promise<void>;
}
