import type { CallSession } from "../call/CallSession.js";
import type { EncryptionKeyProvider } from "../group/EncryptionKeyProvider.js";
import type { GroupCallSession } from "../group/GroupCallSession.js";
import type { WebRTCPlatform } from "../webrtc/WebRTCDelegate.js";

/**
 * The platform (peer connections, media devices) plus the app's callbacks, as in the product README.
 * Browser apps can build one from `globalThis`; Node gets one from `famedly-calls/node`.
 *
 * Callback order (reference §9): outgoing `registerListeners` → `handleNewCall`; incoming `playRingtone` →
 * `registerListeners` → `handleNewCall`; busy → `handleMissedCall` only; any answer → `stopRingtone`; end →
 * `handleCallEnded` (+ `handleMissedCall` when the remote ended a call that never connected).
 *
 * The platform part ({@link WebRTCPlatform}) is the WebRTC port in `webrtc/`; the callbacks that take a call or a
 * group call are declared here, by the facade that calls them, so that the port depends on no domain layer.
 */
export interface WebRTCDelegate extends WebRTCPlatform {
  /** SFU mode: where received and own media keys go. */
  keyProvider?: EncryptionKeyProvider;
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
