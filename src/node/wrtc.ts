import { createRequire } from "node:module";

import { VoipError, VoipErrorCode } from "../core/errors.js";

/** One chunk of PCM audio, as `@roamhq/wrtc`'s `RTCAudioSource` takes it and `RTCAudioSink` reports it. */
export interface WrtcAudioData {
  /** Interleaved signed 16-bit samples. */
  samples: Int16Array;
  /** Samples per second per channel, in Hz (e.g. 48000). */
  sampleRate: number;
  /** Bits per sample; 16 for these `Int16Array` samples. */
  bitsPerSample?: number;
  /** Number of interleaved channels; 1 when absent. */
  channelCount?: number;
  /** Samples per channel in this chunk. */
  numberOfFrames?: number;
}

/** One I420 video frame, as `@roamhq/wrtc`'s `RTCVideoSource` takes it and `RTCVideoSink` reports it. */
export interface WrtcVideoFrame {
  /** Frame width in pixels. */
  width: number;
  /** Frame height in pixels. */
  height: number;
  /** Y plane (width × height) followed by the U and V planes (width/2 × height/2 each). */
  data: Uint8Array;
}

/** `nonstandard.RTCAudioSource`: pushes PCM into the tracks it creates. */
export interface WrtcAudioSource {
  createTrack(): MediaStreamTrack;
  onData(data: WrtcAudioData): void;
}

/** `nonstandard.RTCVideoSource`: pushes I420 frames into the tracks it creates. */
export interface WrtcVideoSource {
  createTrack(): MediaStreamTrack;
  onFrame(frame: WrtcVideoFrame): void;
}

/** `nonstandard.RTCAudioSink`: reports the PCM a track carries. Must be stopped, or the process cannot exit. */
export interface WrtcAudioSink {
  ondata: ((data: WrtcAudioData) => void) | null;
  stop(): void;
}

/** `nonstandard.RTCVideoSink`: reports the frames a track carries. Must be stopped, or the process cannot exit. */
export interface WrtcVideoSink {
  onframe: ((event: { frame: WrtcVideoFrame }) => void) | null;
  stop(): void;
}

/** The part of `@roamhq/wrtc` this package uses, typed here so the optional peer's own typings are not needed. */
export interface WrtcModule {
  RTCPeerConnection: new (config?: RTCConfiguration) => RTCPeerConnection;
  MediaStream: new (tracks?: MediaStreamTrack[]) => MediaStream;
  nonstandard: {
    RTCAudioSource: new () => WrtcAudioSource;
    RTCVideoSource: new (init?: { isScreencast?: boolean }) => WrtcVideoSource;
    RTCAudioSink: new (track: MediaStreamTrack) => WrtcAudioSink;
    RTCVideoSink: new (track: MediaStreamTrack) => WrtcVideoSink;
  };
}

const PACKAGE = "@roamhq/wrtc";

let cached: WrtcModule | undefined;

/**
 * Loads `@roamhq/wrtc` (CommonJS, an optional peer dependency) on first use and caches it.
 *
 * @throws {VoipError} code `not_supported` when the package or its native binary cannot be loaded.
 */
export function loadWrtc(): WrtcModule {
  cached ??= loadWrtcWith(() => createRequire(import.meta.url)(PACKAGE) as unknown);
  return cached;
}

/**
 * Runs `load` and checks that the result looks like `@roamhq/wrtc`. Split out of {@link loadWrtc} so the failure
 * paths can be tested without uninstalling the package.
 *
 * @throws {VoipError} code `not_supported` when `load` throws or returns something else.
 */
export function loadWrtcWith(load: () => unknown): WrtcModule {
  let loaded: unknown;
  try {
    loaded = load();
  } catch (error) {
    const missing = (error as { code?: unknown } | null)?.code === "MODULE_NOT_FOUND";
    const message = missing
      ? `famedly-calls/node needs the optional peer dependency ${PACKAGE}: npm install ${PACKAGE}@~0.10.0`
      : `famedly-calls/node could not load ${PACKAGE} (is there a prebuilt binary for ${process.platform}-${process.arch}?)`;
    throw new VoipError(VoipErrorCode.NotSupported, message, { cause: error });
  }
  if (!looksLikeWrtc(loaded)) {
    throw new VoipError(
      VoipErrorCode.NotSupported,
      `${PACKAGE} loaded, but it lacks RTCPeerConnection or nonstandard`,
    );
  }
  return loaded;
}

function looksLikeWrtc(value: unknown): value is WrtcModule {
  if (typeof value !== "object" || value === null) {
    return false;
  }
  const candidate = value as Partial<Record<keyof WrtcModule, unknown>>;
  const nonstandard = candidate.nonstandard as Partial<Record<string, unknown>> | undefined;
  return (
    typeof candidate.RTCPeerConnection === "function" &&
    typeof candidate.MediaStream === "function" &&
    typeof nonstandard === "object" &&
    ["RTCAudioSource", "RTCVideoSource", "RTCAudioSink", "RTCVideoSink"].every(
      (name) => typeof nonstandard[name] === "function",
    )
  );
}
