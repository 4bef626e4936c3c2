/**
 * Pure generators for the synthetic media: a sine tone in 10 ms PCM chunks and I420 frames with a moving bar.
 * No WebRTC here, so the shapes are testable on their own.
 */

/** Sample rate of the synthetic tone. */
export const TONE_SAMPLE_RATE = 48_000;
/** Length of one audio chunk in milliseconds, the size `RTCAudioSource` expects. */
export const TONE_CHUNK_MS = 10;
/** Samples in one chunk: 10 ms at 48 kHz, mono. */
export const TONE_CHUNK_SAMPLES = (TONE_SAMPLE_RATE * TONE_CHUNK_MS) / 1000;
/** Frequency of the synthetic tone (concert A). */
export const TONE_FREQUENCY_HZ = 440;

/** A continuous sine tone, handed out chunk by chunk with no phase jump between chunks. */
export class ToneGenerator {
  private phase = 0;
  private readonly step: number;

  /**
   * @param frequencyHz - tone frequency.
   * @param amplitude - peak level as a fraction of full scale (0..1].
   */
  public constructor(
    frequencyHz: number = TONE_FREQUENCY_HZ,
    private readonly amplitude = 0.3,
  ) {
    this.step = (2 * Math.PI * frequencyHz) / TONE_SAMPLE_RATE;
  }

  /** The next 10 ms of the tone: {@link TONE_CHUNK_SAMPLES} signed 16-bit mono samples. */
  public next(): Int16Array {
    const samples = new Int16Array(TONE_CHUNK_SAMPLES);
    const peak = this.amplitude * 32_767;
    for (let i = 0; i < samples.length; i++) {
      samples[i] = Math.round(peak * Math.sin(this.phase));
      this.phase += this.step;
    }
    this.phase %= 2 * Math.PI;
    return samples;
  }
}

/** Size and rate of a synthetic video track. Width and height are even (I420 subsamples chroma by 2). */
export interface VideoFormat {
  /** Frame width in pixels (even, up to 4096). */
  width: number;
  /** Frame height in pixels (even, up to 4096). */
  height: number;
  /** Frames per second, 1 to 60. */
  fps: number;
}

/** The two synthetic pictures: a camera (vertical bar moving right) and a screen (horizontal bar moving down). */
export type PatternKind = "camera" | "screen";

/** Bytes in one I420 frame of the given size. */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * (width / 2) * (height / 2);
}

/** Where the moving bar starts in frame `frameIndex`: it advances `step` pixels a frame and wraps at `extent`. */
export function barOffset(frameIndex: number, extent: number, step: number): number {
  return (frameIndex * step) % extent;
}

const CAMERA = { background: 40, bar: 235, u: 128, v: 128 };
const SCREEN = { background: 220, bar: 30, u: 150, v: 110 };

/**
 * Paints frame `frameIndex` of a pattern into `data` (an I420 buffer of {@link i420Size} bytes).
 * The camera is a dark picture with a bright vertical bar (1/10 of the width) moving right;
 * the screen is a light, tinted picture with a dark horizontal bar (1/10 of the height) moving down.
 */
export function paintPattern(
  kind: PatternKind,
  data: Uint8Array,
  width: number,
  height: number,
  frameIndex: number,
): void {
  const colours = kind === "camera" ? CAMERA : SCREEN;
  const lumaSize = width * height;
  data.fill(colours.background, 0, lumaSize);
  data.fill(colours.u, lumaSize, lumaSize + lumaSize / 4);
  data.fill(colours.v, lumaSize + lumaSize / 4, lumaSize + lumaSize / 2);
  if (kind === "camera") {
    const barWidth = Math.max(2, Math.floor(width / 10));
    const x0 = barOffset(frameIndex, width, Math.max(2, Math.floor(width / 40)));
    for (let y = 0; y < height; y++) {
      const row = y * width;
      for (let dx = 0; dx < barWidth; dx++) {
        data[row + ((x0 + dx) % width)] = colours.bar;
      }
    }
  } else {
    const barHeight = Math.max(2, Math.floor(height / 10));
    const y0 = barOffset(frameIndex, height, Math.max(2, Math.floor(height / 40)));
    for (let dy = 0; dy < barHeight; dy++) {
      const row = ((y0 + dy) % height) * width;
      data.fill(colours.bar, row, row + width);
    }
  }
}

/**
 * Checks a video format: positive even width and height up to 4096, fps in 1..60.
 * Returns a message describing the first problem, or undefined when the format is fine.
 */
export function videoFormatProblem(format: VideoFormat): string | undefined {
  const { width, height, fps } = format;
  for (const [name, value] of [
    ["width", width],
    ["height", height],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0 || value > 4096 || value % 2 !== 0) {
      return `video.${name} must be an even integer in 2..4096, got ${String(value)}`;
    }
  }
  if (!Number.isFinite(fps) || fps < 1 || fps > 60) {
    return `video.fps must be in 1..60, got ${String(fps)}`;
  }
  return undefined;
}
