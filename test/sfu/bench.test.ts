/**
 * `npm run bench:sfu` (one run instead of five): the SFU media benchmark runs end to end through its own LiveKit
 * server and reports both figures.
 */
import { describe, expect, it } from "vitest";
import { runScript } from "../demo/run.js";

describe("bench:sfu", () => {
  it("measures join → first decoded frame and leave → new keys decoded", async () => {
    const run = await runScript("bench/sfuMedia.ts", ["--runs", "1", "--json"], 120_000);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as {
      runs: number;
      joinToFirstDecodedFrameMs: { p50: number; all: number[] };
      leaveToNewKeyDecodedMs: { p50: number; all: number[] };
      keyDelaysMs: { leaveDebounce: number; useKey: number };
    };
    expect(result.runs).toBe(1);
    expect(result.joinToFirstDecodedFrameMs.all).toHaveLength(1);
    expect(result.joinToFirstDecodedFrameMs.p50).toBeGreaterThan(0);
    // The rotation cannot be faster than the key manager's deliberate delays.
    expect(result.leaveToNewKeyDecodedMs.p50).toBeGreaterThanOrEqual(
      result.keyDelaysMs.leaveDebounce + result.keyDelaysMs.useKey,
    );
  });
});
