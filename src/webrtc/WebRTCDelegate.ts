/**
 * The WebRTC port: what the library needs of the platform. The full `WebRTCDelegate` (this plus the app's
 * callbacks that take a call or a group call) is declared by the facade, `voip/WebRTCDelegate.ts`, so that this
 * port depends on nothing but `core`.
 */

/**
 * The media-device part of a `WebRTCDelegate`. `navigator.mediaDevices` fits as it is. (DESIGN writes
 * `ondevicechange?: (() => void) | null`; the handler takes the DOM's optional event so the browser's own object
 * is assignable.)
 */
export type DelegateMediaDevices = Pick<MediaDevices, "getUserMedia"> &
  Partial<Pick<MediaDevices, "getDisplayMedia" | "enumerateDevices">> & {
    /** Set by `VoIP` (calling any handler that was there before) to move calls to the new default devices. */
    ondevicechange?: ((event: Event) => unknown) | null;
  };

/**
 * The platform part of a `WebRTCDelegate` (peer connections, media devices) and the app callbacks that take
 * no call: all a call's peer connection and media need.
 */
export interface WebRTCPlatform {
  /** Local media: `getUserMedia` (camera/microphone), `getDisplayMedia` (screen sharing), `ondevicechange`. */
  readonly mediaDevices: DelegateMediaDevices;
  /** Creates a call's peer connection; `config.iceServers` are the homeserver's TURN servers (maybe none). */
  createPeerConnection(config: RTCConfiguration): RTCPeerConnection | Promise<RTCPeerConnection>;
  /** True in browsers. */
  readonly isWeb: boolean;
  /** False while the app cannot take another call (busy); absent = true. */
  canHandleNewCall?: boolean | (() => boolean);
  /** An incoming call arrived: start ringing (called before local media is acquired). */
  playRingtone?(): void | Promise<void>;
  /** Stop ringing: the call was answered (by us or the peer), or a call that rang ended. */
  stopRingtone?(): void | Promise<void>;
}
