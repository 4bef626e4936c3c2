import { VoipError, VoipErrorCode } from "../../core/errors.js";
import type { WebRTCDelegate } from "../../voip/WebRTCDelegate.js";
import type { DelegateMediaDevices } from "../WebRTCDelegate.js";

/** What this module reads from `globalThis`; every member may be absent (Node, workers, insecure contexts). */
interface BrowserGlobals {
  RTCPeerConnection?: typeof RTCPeerConnection;
  navigator?: { mediaDevices?: MediaDevices };
}

type DeviceChangeHandler = (event: Event) => unknown;

/**
 * One delegate's view of the page's `MediaDevices`: calls go to the browser's object, but `ondevicechange` is a
 * slot of its own, fed by a `devicechange` listener only while a handler is set. Several delegates (one `VoIP`
 * each) and the app's own `navigator.mediaDevices.ondevicechange` thus never overwrite one another.
 */
function devicesView(devices: MediaDevices): DelegateMediaDevices {
  let handler: DeviceChangeHandler | null = null;
  const forward = (event: Event): void => {
    handler?.(event);
  };
  // Optional members stay absent where the browser lacks them (no screen capture on most mobile browsers).
  const partial = devices as Partial<MediaDevices>;
  return {
    getUserMedia: (constraints) => devices.getUserMedia(constraints),
    ...(typeof partial.getDisplayMedia === "function"
      ? { getDisplayMedia: (options?: DisplayMediaStreamOptions) => devices.getDisplayMedia(options) }
      : {}),
    ...(typeof partial.enumerateDevices === "function"
      ? { enumerateDevices: () => devices.enumerateDevices() }
      : {}),
    get ondevicechange(): DeviceChangeHandler | null {
      return handler;
    },
    set ondevicechange(next: DeviceChangeHandler | null | undefined) {
      if (next && !handler) {
        devices.addEventListener("devicechange", forward);
      } else if (!next && handler) {
        devices.removeEventListener("devicechange", forward);
      }
      handler = next ?? null;
    },
  };
}

/**
 * A {@link WebRTCDelegate} for browsers: peer connections from `globalThis.RTCPeerConnection`, media from
 * `navigator.mediaDevices`, `isWeb: true`, and the app's callbacks (`playRingtone`, `handleNewCall`, …) taken from
 * `options`.
 *
 * Each delegate gets its own view of `navigator.mediaDevices` with its own `ondevicechange` slot, so several
 * `VoIP` instances and the app's own handler coexist. `options.mediaDevices` and `options.createPeerConnection`
 * replace the browser's when given (a custom device picker, a peer-connection wrapper); `isWeb` is always true.
 * Nothing is touched before this is called: importing the module has no side effects.
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
  const browserDevices = globals.navigator?.mediaDevices;
  const mediaDevices = options.mediaDevices ?? (browserDevices ? devicesView(browserDevices) : undefined);
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
