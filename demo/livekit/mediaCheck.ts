// What proves that SFU media was decrypted: a 440 Hz tone in the audio, the sender's own colour in the video.
// Encrypted frames that reach a decoder without the right key come out as noise (audio) or not at all (video).

/** The tone every Node SFU participant publishes. */
export const TONE_HZ = 440;

/** Fraction of a frame's energy at {@link TONE_HZ} (Goertzel), 0 … 1; 0 for silence. */
export function toneRatio(samples: Int16Array, sampleRate: number): number {
  const n = samples.length;
  if (n === 0) {
    return 0;
  }
  const coeff = 2 * Math.cos((2 * Math.PI * TONE_HZ) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  let energy = 0;
  for (const sample of samples) {
    const x = sample / 32_768;
    energy += x * x;
    const s0 = x + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  if (energy < 1e-6 * n) {
    return 0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return Math.min(1, (2 * power) / (n * energy));
}

/**
 * Noise (encrypted Opus payloads decoded without the key) now and then has a 10 ms frame whose energy sits near
 * 440 Hz: measured about 1 such frame in 170. "Only noise" therefore means at most this fraction of frames tonal,
 * against 95 % or more for decrypted audio.
 */
export const NOISE_TONAL_FRACTION = 0.02;

/** True when a frame is mostly the tone (not silence, not noise). */
export function isTonal(samples: Int16Array, sampleRate: number): boolean {
  return toneRatio(samples, sampleRate) > 0.6;
}

/** An RGB colour. */
export type Rgb = readonly [number, number, number];

const PALETTE: readonly Rgb[] = [
  [230, 40, 40],
  [40, 200, 60],
  [40, 80, 230],
  [230, 200, 30],
  [200, 40, 200],
  [30, 200, 210],
];

/** The colour a participant paints its video with, derived from its identity (so receivers know what to expect). */
export function colourOf(identity: string): Rgb {
  let hash = 0;
  for (const char of identity) {
    hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  }
  return PALETTE[hash % PALETTE.length]!;
}

/** True when the RGBA pixel at `offset` is within `tolerance` of `colour` in every channel. */
export function pixelMatches(rgba: Uint8Array, offset: number, colour: Rgb, tolerance = 48): boolean {
  return (
    Math.abs(rgba[offset]! - colour[0]) <= tolerance &&
    Math.abs(rgba[offset + 1]! - colour[1]) <= tolerance &&
    Math.abs(rgba[offset + 2]! - colour[2]) <= tolerance
  );
}
