import {
  loadWrtc,
  type WrtcAudioData,
  type WrtcAudioSink,
  type WrtcVideoFrame,
  type WrtcVideoSink,
} from "./wrtc.js";

/** Counts what arrived on a remote stream. Call {@link RemoteMediaProbe.stop} when done: live sinks keep the process alive. */
export interface RemoteMediaProbe {
  /** Audio samples (per channel) received so far, over all audio tracks. */
  audioSamples(): number;
  /** Decoded video frames received so far, over all video tracks. */
  videoFrames(): number;
  /** Detaches the sinks. Idempotent; the tracks themselves are left alone (their peer connection owns them). */
  stop(): void;
}

/** Optional hooks of {@link probeRemoteMedia}, to look at the content and not only count it. */
export interface RemoteMediaProbeOptions {
  /** Each chunk of decoded PCM (signed 16-bit, interleaved when `channelCount` > 1). */
  onAudioData?(data: WrtcAudioData, track: MediaStreamTrack): void;
  /** Each decoded I420 frame. The buffer may be reused by wrtc: copy what you keep. */
  onVideoFrame?(frame: WrtcVideoFrame, track: MediaStreamTrack): void;
}

/**
 * Attaches `@roamhq/wrtc` sinks (`nonstandard.RTCAudioSink` / `RTCVideoSink`) to the tracks of a remote stream
 * (as received in `ontrack` or from a call's remote feed) to prove that media actually arrives and decodes.
 * Only the tracks present when it is called are probed; tracks that have already ended are skipped.
 * Meant for tests, the demo and the benchmark.
 *
 * @throws {VoipError} code `not_supported` when `@roamhq/wrtc` cannot be loaded.
 */
export function probeRemoteMedia(
  stream: MediaStream,
  options: RemoteMediaProbeOptions = {},
): RemoteMediaProbe {
  const { RTCAudioSink, RTCVideoSink } = loadWrtc().nonstandard;
  const sinks: (WrtcAudioSink | WrtcVideoSink)[] = [];
  let samples = 0;
  let frames = 0;
  let stopped = false;

  for (const track of stream.getAudioTracks()) {
    if (track.readyState === "ended") {
      continue;
    }
    const sink = new RTCAudioSink(track);
    sink.ondata = (data) => {
      samples += data.numberOfFrames ?? data.samples.length / (data.channelCount ?? 1);
      options.onAudioData?.(data, track);
    };
    sinks.push(sink);
  }
  for (const track of stream.getVideoTracks()) {
    if (track.readyState === "ended") {
      continue;
    }
    const sink = new RTCVideoSink(track);
    sink.onframe = ({ frame }) => {
      frames++;
      options.onVideoFrame?.(frame, track);
    };
    sinks.push(sink);
  }

  return {
    audioSamples: () => samples,
    videoFrames: () => frames,
    stop: () => {
      if (stopped) {
        return;
      }
      stopped = true;
      for (const sink of sinks) {
        sink.stop();
      }
    },
  };
}
