import { describe, expect, it } from "vitest";
import { median, percentile } from "../../bench/stats.js";
import { lastJsonLine, runScript } from "./run.js";

interface BenchJson {
  benchmark: string;
  calls: number;
  runs: { name: string; samples: number[]; p50: number; p95: number; phases: [string, number][] }[];
  ratioP50: number;
  sfuKeys: {
    rows: { members: number; requestsPerRotation: number; recipientsPerRotation: number; cpuMsP50: number }[];
    membershipChanges: { members: number; changes: number; totalMs: number }[];
  };
  membership: {
    sizes: { events: number; minMs: number; medianMs: number; samplesMs: number[] }[];
    ratio: number;
  };
}

describe("npm run bench", () => {
  it("measures setup latency with the reference's fixed waits and with our defaults", async () => {
    const run = await runScript("bench/run.ts", ["--calls", "2", "--warmup", "0", "--json"], 90_000);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\| run \| p50 ms \| p95 ms \| ratio p50 ref\/ours \|$/m);
    const result = lastJsonLine(run.stdout) as BenchJson;
    expect(result.benchmark).toBe("setup-latency");
    expect(result.runs.map((r) => r.name)).toEqual(["reference timings, fixed waits", "our defaults"]);
    const [reference, ours] = result.runs;
    for (const r of result.runs) {
      expect(r.samples).toHaveLength(2);
      expect(r.p50).toBeGreaterThan(0);
      expect(r.p95).toBeGreaterThanOrEqual(r.p50);
      expect(r.phases.map(([name]) => name)).toEqual(
        expect.arrayContaining([
          "caller.send.m.call.invite",
          "callee.send.m.call.answer",
          "callee.state.connected",
        ]),
      );
    }
    // The reference waits 100 ms before the offer, 200 ms for gathering and 200 ms before the answer.
    expect(reference!.p50).toBeGreaterThanOrEqual(500);
    expect(ours!.p50).toBeLessThan(reference!.p50);
    expect(result.ratioP50).toBeCloseTo(reference!.p50 / ours!.p50, 6);
    // SFU keys: one sendToDevice per rotation whatever the size of the call, every other member a recipient.
    expect(result.sfuKeys.rows.map((r) => r.members)).toEqual([10, 100, 500]);
    for (const row of result.sfuKeys.rows) {
      expect(row.requestsPerRotation).toBe(1);
      expect(row.recipientsPerRotation).toBeGreaterThanOrEqual(row.members - 2);
      expect(row.cpuMsP50).toBeGreaterThan(0);
    }
    expect(result.sfuKeys.membershipChanges.map((m) => [m.members, m.changes])).toEqual([
      [50, 1000],
      [500, 1000],
    ]);
    expect(run.stdout).toMatch(/^\| 500 \| 1 \| /m);
    expect(run.stdout).toMatch(
      /^\| membership events \| best of 7 ms \| median ms \| best CPU ms \| µs per event \(best\) \|$/m,
    );
    expect(result.membership.sizes.map((s) => [s.events, s.samplesMs.length])).toEqual([
      [1000, 7],
      [10000, 7],
    ]);
    expect(result.membership.ratio).toBeCloseTo(
      result.membership.sizes[1]!.minMs / result.membership.sizes[0]!.minMs,
      6,
    );
  }, 120_000);

  it("rejects a bad --calls", async () => {
    const run = await runScript("bench/run.ts", ["--calls", "0"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--calls must be an integer >= 1/);
  }, 30_000);
});

describe("bench percentiles", () => {
  it("interpolates between ranks", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([1, 2, 3, 4])).toBe(2.5);
    expect(percentile([10, 20, 30, 40, 50], 95)).toBeCloseTo(48, 10);
    expect(percentile([7], 95)).toBe(7);
    expect(percentile([], 50)).toBeNaN();
  });
});
