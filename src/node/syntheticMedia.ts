/**
 * Synthetic media tracks backed by `@roamhq/wrtc` sources, and their lifetime.
 *
 * Each track handed out has its own source and feeding timer. The timer runs while at least one track of that
 * source is live: `stop()` and `clone()` are wrapped on every track (and on every clone), so the source is
 * refcounted by live tracks. Clones made by wrtc itself, bypassing those wrappers, are not counted; the streams
 * made here therefore replace `MediaStream.clone()` with one that clones each track through its wrapper.
 * Timers are `unref()`-ed: a forgotten track never keeps the process alive on its own.
 */
import {
  ToneGenerator,
  TONE_CHUNK_MS,
  TONE_CHUNK_SAMPLES,
  TONE_SAMPLE_RATE,
  i420Size,
  paintPattern,
  type PatternKind,
  type VideoFormat,
} from "./frames.js";
import type { WrtcModule } from "./wrtc.js";

let runningSources = 0;

/** How many synthetic sources are feeding right now (for tests: 0 once every track is stopped). */
export function activeSourceCount(): number {
  return runningSources;
}

/** After a stall longer than this many audio chunks, the tone skips ahead instead of bursting to catch up. */
const MAX_CATCH_UP_CHUNKS = 20;

/** A feeding loop: `start()` resets its pacing and returns the per-tick function. */
interface Feeder {
  readonly intervalMs: number;
  start(): () => void;
}

/** A source's feeding timer, running while any of its tracks is live. */
class SourceLifetime {
  private liveTracks = 0;
  private timer: ReturnType<typeof setInterval> | undefined;

  public constructor(
    private readonly feeder: Feeder,
    private readonly label: string,
  ) {}

  /** Counts `track` as live (unless already ended) and wraps its `stop` and `clone`. */
  public adopt(track: MediaStreamTrack): MediaStreamTrack {
    const nativeStop = track.stop.bind(track);
    const nativeClone = track.clone.bind(track);
    let counted = track.readyState === "live";
    if (counted) {
      this.retain();
    }
    define(track, "label", this.label);
    define(track, "stop", () => {
      nativeStop();
      if (counted) {
        counted = false;
        this.release();
      }
    });
    define(track, "clone", () => this.adopt(nativeClone()));
    return track;
  }

  private retain(): void {
    this.liveTracks++;
    if (this.timer === undefined) {
      const tick = this.feeder.start();
      this.timer = setInterval(tick, this.feeder.intervalMs);
      this.timer.unref();
      runningSources++;
    }
  }

  private release(): void {
    this.liveTracks--;
    if (this.liveTracks === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
      runningSources--;
    }
  }
}

function define(track: MediaStreamTrack, key: "label" | "stop" | "clone", value: unknown): void {
  Object.defineProperty(track, key, { value, configurable: true, writable: true, enumerable: false });
}

/**
 * A live audio track carrying a 440 Hz sine tone: 10 ms chunks of 480 samples at 48 kHz, 16-bit mono, paced by
 * elapsed time so the rate stays at 48 000 samples a second even when the timer fires late.
 */
export function createToneTrack(wrtc: WrtcModule): MediaStreamTrack {
  const source = new wrtc.nonstandard.RTCAudioSource();
  const feeder: Feeder = {
    intervalMs: TONE_CHUNK_MS,
    start: () => {
      const tone = new ToneGenerator();
      const startedAt = performance.now();
      let sent = 0;
      return () => {
        const due = Math.floor((performance.now() - startedAt) / TONE_CHUNK_MS) + 1;
        if (due - sent > MAX_CATCH_UP_CHUNKS) {
          sent = due - 1;
        }
        for (; sent < due; sent++) {
          source.onData({
            samples: tone.next(),
            sampleRate: TONE_SAMPLE_RATE,
            bitsPerSample: 16,
            channelCount: 1,
            numberOfFrames: TONE_CHUNK_SAMPLES,
          });
        }
      };
    },
  };
  return new SourceLifetime(feeder, "Synthetic 440 Hz tone").adopt(source.createTrack());
}

/**
 * A live video track showing a moving pattern (see {@link paintPattern}) at `format`'s size and rate. The screen
 * pattern uses a screencast source, as a real screen share would.
 */
export function createPatternTrack(
  wrtc: WrtcModule,
  format: VideoFormat,
  kind: PatternKind,
): MediaStreamTrack {
  const source = new wrtc.nonstandard.RTCVideoSource({ isScreencast: kind === "screen" });
  const { width, height, fps } = format;
  const feeder: Feeder = {
    intervalMs: Math.max(1, Math.round(1000 / fps)),
    start: () => {
      const data = new Uint8Array(i420Size(width, height));
      let frameIndex = 0;
      return () => {
        paintPattern(kind, data, width, height, frameIndex++);
        source.onFrame({ width, height, data });
      };
    },
  };
  const label =
    kind === "camera" ? `Synthetic camera ${width}x${height}` : `Synthetic screen ${width}x${height}`;
  return new SourceLifetime(feeder, label).adopt(source.createTrack());
}

/** A `MediaStream` of `tracks` whose `clone()` clones each track through its wrapper (so clones are counted). */
export function createSyntheticStream(wrtc: WrtcModule, tracks: MediaStreamTrack[]): MediaStream {
  const stream = new wrtc.MediaStream(tracks);
  Object.defineProperty(stream, "clone", {
    value: () =>
      createSyntheticStream(
        wrtc,
        stream.getTracks().map((track) => track.clone()),
      ),
    configurable: true,
    writable: true,
    enumerable: false,
  });
  return stream;
}
