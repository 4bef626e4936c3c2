import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { WebRTCDelegate } from "../voip/WebRTCDelegate.js";
import { videoFormatProblem, type VideoFormat } from "./frames.js";
import { createNodeMediaDevices } from "./nodeMediaDevices.js";
import { loadWrtc } from "./wrtc.js";

/** The synthetic-media options of {@link createNodeDelegate}. */
export interface NodeMediaOptions {
  /** Offer a microphone that plays a 440 Hz tone. Default true. */
  audio?: boolean;
  /** Offer a camera showing a moving bar at this size and rate, or none with `false`. Default 320×240 @ 15 fps. */
  video?: false | VideoFormat;
  /** Make every `getUserMedia` call reject with a `NotAllowedError`, as when the user denies permission. */
  failGetUserMedia?: boolean;
  /** Make every `getDisplayMedia` call reject with a `NotAllowedError`. */
  failGetDisplayMedia?: boolean;
}

/**
 * Options of {@link createNodeDelegate}: the synthetic media settings, plus any {@link WebRTCDelegate} member
 * (app callbacks, `canHandleNewCall`, `keyProvider`, or even `mediaDevices`), which is copied onto the delegate and
 * wins over the default.
 */
export type NodeDelegateOptions = Partial<WebRTCDelegate> & NodeMediaOptions;

/** Camera format when `video` is not given. */
export const DEFAULT_CAMERA_FORMAT: VideoFormat = { width: 320, height: 240, fps: 15 };
/** Screen-share format of `getDisplayMedia`. */
export const SCREEN_FORMAT: VideoFormat = { width: 640, height: 360, fps: 10 };

/**
 * A {@link WebRTCDelegate} for Node on `@roamhq/wrtc` (an optional peer dependency, loaded on the first call):
 * real peer connections, and synthetic media devices (a 440 Hz tone, a moving-bar camera and screen) whose tracks
 * carry real audio and video through real encoders.
 *
 * Track lifetime: each track has its own source and timer, which stops once the track and every clone made with
 * `track.clone()` or `stream.clone()` is stopped. Call `installExitGuard()` in programs that use it.
 *
 * @throws {VoipError} code `not_supported` when `@roamhq/wrtc` cannot be loaded; code `invalid_argument` for a
 *   malformed `video` format.
 */
export function createNodeDelegate(options: NodeDelegateOptions = {}): WebRTCDelegate {
  const { audio, video, failGetUserMedia, failGetDisplayMedia, ...overrides } = options;
  const camera = video ?? DEFAULT_CAMERA_FORMAT;
  if (camera !== false) {
    const problem = videoFormatProblem(camera);
    if (problem !== undefined) {
      throw new VoipError(VoipErrorCode.InvalidArgument, `createNodeDelegate: ${problem}`);
    }
  }
  const wrtc = loadWrtc();
  const delegate: WebRTCDelegate = {
    isWeb: false,
    createPeerConnection: (config) => new wrtc.RTCPeerConnection(config),
    mediaDevices: createNodeMediaDevices(wrtc, {
      audio: audio ?? true,
      video: camera === false ? false : { ...camera },
      screen: SCREEN_FORMAT,
      failGetUserMedia: failGetUserMedia ?? false,
      failGetDisplayMedia: failGetDisplayMedia ?? false,
    }),
  };
  return { ...delegate, ...definedOnly(overrides) };
}

/** The entries of `overrides` whose value is not undefined, so `{ isWeb: undefined }` keeps the default. */
function definedOnly(overrides: Partial<WebRTCDelegate>): Partial<WebRTCDelegate> {
  const entries: [string, unknown][] = Object.entries(overrides);
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined));
}
