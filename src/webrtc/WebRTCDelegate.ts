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
  readonly mediaDevices: DelegateMediaDevices;
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection | Promise<RTCPeerConnection>;
  /** True in browsers. */
  readonly isWeb: boolean;
  /** False while the app cannot take another call (busy); absent = true. */
  canHandleNewCall?: boolean | (() => boolean);
  /** SFU mode: where received and own media keys go. */
  keyProvider?: EncryptionKeyProvider;
  playRingtone?(): void | Promise<void>;
  stopRingtone?(): void | Promise<void>;
  registerListeners?(call: CallSession): void | Promise<void>;
  handleNewCall?(call: CallSession): void | Promise<void>;
  handleCallEnded?(call: CallSession): void | Promise<void>;
  handleMissedCall?(call: CallSession): void | Promise<void>;
  handleNewGroupCall?(group: GroupCallSession): void | Promise<void>;
  handleGroupCallEnded?(group: GroupCallSession): void | Promise<void>;
}
