import { describe, expect, it } from "vitest";

import {
  TONE_CHUNK_SAMPLES,
  TONE_SAMPLE_RATE,
  ToneGenerator,
  barOffset,
  i420Size,
  paintPattern,
  videoFormatProblem,
} from "./frames.js";

/** Frequency from upward zero crossings. */
function estimateFrequency(samples: Int16Array, sampleRate: number): number {
  let crossings = 0;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i - 1]! < 0 && samples[i]! >= 0) {
      crossings++;
    }
  }
  return (crossings * sampleRate) / samples.length;
}

describe("ToneGenerator", () => {
  it("produces 10 ms chunks of a 440 Hz sine with no jump between chunks", () => {
    const tone = new ToneGenerator();
    const chunks = Array.from({ length: 100 }, () => tone.next());
    expect(chunks[0]).toHaveLength(TONE_CHUNK_SAMPLES);
    const all = new Int16Array(chunks.length * TONE_CHUNK_SAMPLES);
    chunks.forEach((chunk, i) => {
      all.set(chunk, i * TONE_CHUNK_SAMPLES);
    });
    expect(estimateFrequency(all, TONE_SAMPLE_RATE)).toBeCloseTo(440, -1);
    const peak = all.reduce((max, s) => Math.max(max, Math.abs(s)), 0);
    expect(peak).toBeGreaterThan(9000);
    expect(peak).toBeLessThan(11_000);
    // A 440 Hz sine at 48 kHz moves at most ~5.8 % of its peak per sample: a phase jump would show.
    let largestStep = 0;
    for (let i = 1; i < all.length; i++) {
      largestStep = Math.max(largestStep, Math.abs(all[i]! - all[i - 1]!));
    }
    expect(largestStep).toBeLessThan(peak * 0.06);
  });
});

describe("paintPattern", () => {
  const width = 320;
  const height = 240;

  function brightestColumn(data: Uint8Array): number {
    let best = 0;
    let bestValue = -1;
    for (let x = 0; x < width; x++) {
      if (data[x]! > bestValue) {
        bestValue = data[x]!;
        best = x;
      }
    }
    return best;
  }

  it("draws a bright vertical bar that moves right each camera frame", () => {
    const data = new Uint8Array(i420Size(width, height));
    expect(data).toHaveLength(115_200);
    paintPattern("camera", data, width, height, 0);
    const first = brightestColumn(data);
    paintPattern("camera", data, width, height, 1);
    const second = brightestColumn(data);
    expect(second).toBeGreaterThan(first);
    // Every row shows the bar at the same column; chroma is neutral.
    expect(data[(height - 1) * width + second]).toBe(235);
    expect(data[width * height]).toBe(128);
  });

  it("draws a dark horizontal bar that moves down each screen frame", () => {
    const data = new Uint8Array(i420Size(640, 360));
    paintPattern("screen", data, 640, 360, 3);
    const barRow = barOffset(3, 360, 9);
    expect(data[barRow * 640]).toBe(30);
    expect(data[barRow * 640 + 639]).toBe(30);
    expect(data[(barRow + 40) * 640]).toBe(220);
  });

  it("wraps the bar around", () => {
    expect(barOffset(0, 320, 8)).toBe(0);
    expect(barOffset(41, 320, 8)).toBe(8);
  });
});

describe("videoFormatProblem", () => {
  it("accepts even sizes and sane rates, and names the first problem otherwise", () => {
    expect(videoFormatProblem({ width: 320, height: 240, fps: 15 })).toBeUndefined();
    expect(videoFormatProblem({ width: 321, height: 240, fps: 15 })).toMatch(/video\.width/);
    expect(videoFormatProblem({ width: 320, height: 0, fps: 15 })).toMatch(/video\.height/);
    expect(videoFormatProblem({ width: 320, height: 240, fps: 0 })).toMatch(/video\.fps/);
    expect(videoFormatProblem({ width: 320, height: 240, fps: Number.NaN })).toMatch(/video\.fps/);
  });
});
