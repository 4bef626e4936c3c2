import { describe, expect, it } from "vitest";
import { formatMeshSetup, type MeshSetupRow } from "../../bench/meshSetup.js";
import { median, percentile } from "../../bench/stats.js";
import { lastJsonLine, runScript } from "./run.js";

interface BenchJson {
  benchmark: string;
  calls: number;
  machine: { cpus: number; node: string };
  rows: {
    id: string;
    samples: number[];
    p50: number;
    p95: number;
    cpuP50: number;
    cpuSamples: number[];
    phases: [string, number][];
  }[];
  ratios: {
    name: string;
    numerator: string;
    denominator: string;
    value: number;
    target?: number;
    met?: boolean;
  }[];
  sfuKeys: {
    rows: { members: number; requestsPerRotation: number; recipientsPerRotation: number; cpuMsP50: number }[];
    membershipChanges: { members: number; changes: number; totalMs: number }[];
  };
  membership: {
    repeats: number;
    sizes: { events: number; minMs: number; medianMs: number; samplesMs: number[]; samplesCpuMs: number[] }[];
    ratio: number;
    cpuRatio: number;
  };
}

/** One mesh setup row of `--json`. */
interface MeshRowJson {
  members: number;
  video: boolean;
  layout: string;
  runs: number;
  p50Ms: number;
  limitP50Ms: number;
  ratio: number;
  toDevicePerJoin: number;
  phases: { phase: string }[];
  failures: string[];
}

describe("npm run bench", () => {
  it("measures the limit, ours over the in-memory homeserver and the reference's timings, interleaved, with ratios", async () => {
    const run = await runScript(
      "bench/run.ts",
      ["--calls", "2", "--warmup", "0", "--mesh-runs", "0", "--json"],
      150_000,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^\| row \| p50 ms \| p95 ms \| CPU ms\/call p50 \|$/m);
    expect(run.stdout).toMatch(/^\| ours in-memory \/ limit \| \d+\.\d\d \| ≤ 1\.50 (met|missed) \|$/m);
    const result = lastJsonLine(run.stdout) as BenchJson;
    expect(result.benchmark).toBe("setup-latency");
    expect(result.machine.cpus).toBeGreaterThan(0);
    expect(result.rows.map((r) => r.id)).toEqual(["limit", "local.ours", "local.reference"]);
    const byId = Object.fromEntries(result.rows.map((r) => [r.id, r]));
    for (const r of result.rows) {
      expect(r.samples).toHaveLength(2);
      expect(r.cpuSamples).toHaveLength(2);
      expect(r.p50).toBeGreaterThan(0);
      expect(r.cpuP50).toBeGreaterThan(0);
      expect(r.p95).toBeGreaterThanOrEqual(r.p50);
    }
    expect(byId.limit!.phases.map(([name]) => name)).toEqual(
      expect.arrayContaining(["caller.state.connected", "callee.state.connected"]),
    );
    for (const id of ["local.ours", "local.reference"]) {
      expect(byId[id]!.phases.map(([name]) => name)).toEqual(
        expect.arrayContaining([
          "caller.send.m.call.invite",
          "callee.send.m.call.answer",
          "callee.state.connected",
        ]),
      );
    }
    // The reference waits 100 ms before the offer, 200 ms for gathering and 200 ms before the answer.
    expect(byId["local.reference"]!.p50).toBeGreaterThanOrEqual(500);
    const ratio = result.ratios.find((r) => r.name === "ours in-memory / limit")!;
    expect(ratio.value).toBeCloseTo(byId["local.ours"]!.p50 / byId.limit!.p50, 6);
    expect(ratio.met).toBe(ratio.value <= 1.5);
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
      /^\| membership events \| median ms \| best ms \| median CPU ms \| best CPU ms \| µs per event \(median\) \|$/m,
    );
    expect(run.stdout).toMatch(
      /^10000 \/ 1000 \(medians\): \d+\.\d\dx wall, \d+\.\d\dx CPU; .*\(target ≤ 10x: (met|missed)\)$/m,
    );
    expect(result.membership.repeats).toBe(9);
    expect(result.membership.sizes.map((s) => [s.events, s.samplesMs.length, s.samplesCpuMs.length])).toEqual(
      [
        [1000, 9, 9],
        [10000, 9, 9],
      ],
    );
    const [small, large] = result.membership.sizes;
    expect(small!.medianMs).toBeCloseTo(median(small!.samplesMs), 6);
    expect(large!.minMs).toBe(Math.min(...large!.samplesMs));
    expect(result.membership.ratio).toBeCloseTo(large!.medianMs / small!.medianMs, 6);
    expect(result.membership.cpuRatio).toBeCloseTo(
      median(large!.samplesCpuMs) / median(small!.samplesCpuMs),
      6,
    );
  }, 180_000);

  it("measures the mesh setup in both layouts, each row beside its limit, with the targets", async () => {
    const run = await runScript(
      "bench/run.ts",
      ["--mesh-only", "--mesh-sizes", "2,3", "--mesh-runs", "1", "--json"],
      240_000,
    );
    expect(run.code, run.stderr).toBe(0);
    const result = lastJsonLine(run.stdout) as { meshSetup: MeshRowJson[]; rows: unknown[] };
    expect(result.rows).toEqual([]);
    expect(result.meshSetup.map((r) => [r.layout, r.video, r.members])).toEqual([
      ["one process", false, 2],
      ["one process", false, 3],
      ["one process", true, 2],
      ["one process", true, 3],
      ["process per member", false, 2],
      ["process per member", false, 3],
      ["process per member", true, 2],
      ["process per member", true, 3],
    ]);
    for (const row of result.meshSetup) {
      expect(row.failures, `${row.layout} ${row.members}`).toEqual([]);
      expect(row.runs).toBe(1);
      expect(row.p50Ms).toBeGreaterThan(0);
      expect(row.limitP50Ms).toBeGreaterThan(0);
      expect(row.ratio).toBeCloseTo(row.p50Ms / row.limitP50Ms, 6);
      // Each pair: an invite, an answer and a select_answer at least (the candidates may all be inside the
      // descriptions); at least one message per join.
      expect(row.toDevicePerJoin).toBeGreaterThanOrEqual(1);
      expect(row.phases.map((p) => p.phase)).toEqual(
        expect.arrayContaining(["invite sent", "answer received", "caller connected", "callee connected"]),
      );
    }
    for (const layout of ["one process", "process per member"]) {
      expect(run.stdout).toMatch(
        new RegExp(`^targets, ${layout}: every ratio ≤ 3: (met|missed) .*; 6 with video: not measured$`, "m"),
      );
    }
    expect(run.stdout).toMatch(/^\| 3 \| audio \+ video \| process per member \| 1 \| /m);
    // One warm-up run per row first, not counted (the runs column says 1).
    expect(run.stdout).toContain("mesh setup, 1 runs per row (+1 warm-up)");
  }, 300_000);

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

describe("mesh setup targets", () => {
  const row = (
    members: number,
    video: boolean,
    layout: MeshSetupRow["layout"],
    p50Ms: number,
    limitP50Ms: number,
  ) =>
    ({
      members,
      video,
      layout,
      runs: 5,
      p50Ms,
      limitP50Ms,
      ratio: p50Ms / limitP50Ms,
      toDevicePerJoin: 1.5,
      cpuPercent: 50,
      phases: [],
      fds: {},
      failures: [],
    }) satisfies MeshSetupRow;

  it("names the highest ratio and the 6-with-video time beside its own limit, per layout", () => {
    const lines = formatMeshSetup([
      row(2, false, "one process", 30, 10),
      row(6, true, "one process", 1_342, 1_396),
      row(2, false, "process per member", 40, 12),
      row(6, true, "process per member", 728, 637),
    ]);
    expect(lines).toContain(
      "targets, one process: every ratio ≤ 3: met (highest: N = 2 audio, 3.00); 6 with video 1342 ms, its limit 1396 ms (target < 1000 ms: missed)",
    );
    expect(lines).toContain(
      "targets, process per member: every ratio ≤ 3: missed (highest: N = 2 audio, 3.33); 6 with video 728 ms, its limit 637 ms (target < 1000 ms: met)",
    );
  });
});
