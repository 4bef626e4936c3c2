import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { DelegateMediaDevices, WebRTCDelegate } from "./WebRTCDelegate.js";

/** What this module reads from `globalThis`; every member may be absent (Node, workers, insecure contexts). */
interface BrowserGlobals {
  RTCPeerConnection?: typeof RTCPeerConnection;
  navigator?: { mediaDevices?: MediaDevices };
}

/**
 * A {@link WebRTCDelegate} for browsers: peer connections from `globalThis.RTCPeerConnection`, media from
 * `navigator.mediaDevices`, `isWeb: true`, and the app's callbacks (`playRingtone`, `handleNewCall`, …) taken from
 * `options`.
 *
 * `options.mediaDevices` and `options.createPeerConnection` replace the browser's own when given (a custom
 * device picker, a peer-connection wrapper); `isWeb` is always true. Nothing is touched before this is called:
 * importing the module has no side effects.
 *
 * ```ts
 * const delegate = createBrowserDelegate({ handleNewCall: (call) => showCallScreen(call) });
 * const voip = new VoIP(client, delegate);
 * ```
 *
 * @throws {VoipError} `not_supported` when the page has no `RTCPeerConnection` or no `navigator.mediaDevices`
 *   (not a browser, or an insecure context: media devices need HTTPS or localhost).
 */
export function createBrowserDelegate(options: Partial<WebRTCDelegate> = {}): WebRTCDelegate {
  const globals = globalThis as BrowserGlobals;
  const mediaDevices: DelegateMediaDevices | undefined =
    options.mediaDevices ?? globals.navigator?.mediaDevices;
  if (!mediaDevices) {
    throw new VoipError(
      VoipErrorCode.NotSupported,
      "navigator.mediaDevices is not available: not a browser, or not a secure context (use HTTPS or localhost)",
    );
  }
  let createPeerConnection = options.createPeerConnection;
  if (!createPeerConnection) {
    const PeerConnection = globals.RTCPeerConnection;
    if (typeof PeerConnection !== "function") {
      throw new VoipError(
        VoipErrorCode.NotSupported,
        "RTCPeerConnection is not available in this environment",
      );
    }
    createPeerConnection = (config: RTCConfiguration) => new PeerConnection(config);
  }
  return { ...options, mediaDevices, createPeerConnection, isWeb: true };
}
