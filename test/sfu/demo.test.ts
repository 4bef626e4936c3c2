/**
 * `npm run demo -- --scenario sfu --livekit --json` as a user runs it: its own LiveKit server (the cached build),
 * three members whose encrypted media decodes, a leave with rotation; the summary reports frames and key indexes.
 */
import { describe, expect, it } from "vitest";
import type { DemoSummary } from "../../demo/summary.js";
import { runScript } from "../demo/run.js";

describe("demo --scenario sfu --livekit", () => {
  it("decodes everyone's media, rotates on a leave, and reports frames and key indexes", async () => {
    const run = await runScript("demo/cli.ts", ["--scenario", "sfu", "--livekit", "--json"], 90_000);
    expect(run.code, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as DemoSummary;
    expect(summary).toMatchObject({ scenario: "sfu", ok: true, keysConsistent: true });
    expect(summary.participants).toHaveLength(3);
    for (const p of summary.participants) {
      expect(p.videoFramesReceived, `${p.userId} video`).toBeGreaterThan(0);
      expect(p.audioFramesDecoded, `${p.userId} audio`).toBeGreaterThan(0);
      expect(p.keyIndex, `${p.userId} key index`).toBeGreaterThanOrEqual(0);
    }
    // The two who stayed encrypt with keys the leaver does not hold.
    const [a, b, leaver] = summary.participants.map((p) => `${p.userId}:${p.deviceId}`);
    const held = new Map(summary.keys![leaver!]);
    for (const [i, who] of [a!, b!].entries()) {
      expect(held.get(who)).not.toBe(summary.participants[i]!.keyIndex);
    }
    expect(run.stdout).toContain("the leaver reports MISSING_KEY");
  });
});
