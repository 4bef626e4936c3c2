// Mesh setup benchmark: N members call enter() together (t0) until every pair is connected on both sides (t1),
// over LocalHomeserver with real media; beside it the limit row: the same N·(N−1)/2 bare peer connections with the
// same media, signalled in memory, in the same run. Two layouts:
// - one process: every member in one process (bench/meshRowChild.ts, a child process per (N, media) row, so that
//   a row whose process dies, e.g. out of file descriptors, is reported as such);
// - a process per member (bench/meshPerProcess.ts): each member in its own process, as on real devices, the
//   homeserver in the parent; the limit's bare connections likewise, their signalling relayed by the parent.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { MemberProcesses, type PerProcessRun } from "./meshPerProcess.js";
import type { RowChildRun } from "./meshRowChild.js";
import type { MeshRunResult } from "./meshRuns.js";
import type { PhaseSummary } from "./meshTimeline.js";
import { median } from "./stats.js";

/** Where the members of a row run. */
export type MeshLayout = "one process" | "process per member";

/** One row: N members, audio only or with video, in one layout. */
export interface MeshSetupRow {
  members: number;
  video: boolean;
  layout: MeshLayout;
  /** Mesh runs that completed (the medians are over these). */
  runs: number;
  /** enter() together → every pair connected on both sides: median ms (NaN without a completed run). */
  p50Ms: number;
  /** The same connections, bare peer connections signalled in memory: median ms. */
  limitP50Ms: number;
  /** p50 / limit p50. */
  ratio: number;
  /** To-device messages sent per member's join (median over runs). */
  toDevicePerJoin: number;
  /** Process CPU over the mesh setup, as % of all cores (median). */
  cpuPercent: number;
  /** Where the time went in the median run: per phase, the median pair and the last pair (ms after t0). */
  phases: PhaseSummary[];
  /** One process: open file descriptors of the row's process before its first run and after its last, and the peak
   * sampled (empty for a process per member). */
  fds: { start?: number; end?: number; peak?: number };
  /** Runs that failed and why, and how the row's process ended if it died. */
  failures: string[];
}

/** Options of {@link measureMeshSetup}. */
export interface MeshSetupOptions {
  sizes?: readonly number[];
  /** Default: both. */
  layouts?: readonly MeshLayout[];
  runs?: number;
  /**
   * Warm-up runs per row before the counted ones (a mesh run and a limit run each; default
   * {@link DEFAULT_MESH_WARMUP}): the first run in a fresh process pays for the JIT and `@roamhq/wrtc`'s start-up,
   * which only the mesh row would otherwise carry.
   */
  warmup?: number;
  /** Sample the open file descriptors every 250 ms for the peak (debug; costs a little CPU). */
  samplePeakFds?: boolean;
  /** Called after each run. */
  onRun?: (what: string) => void;
}

/** Warm-up runs per mesh row when {@link MeshSetupOptions.warmup} is not given. */
export const DEFAULT_MESH_WARMUP = 1;

/** A row's process gets this long per run before it is killed. */
const ROW_TIMEOUT_PER_RUN_MS = 120_000;

/**
 * Measures every (layout, N, video) row: after `warmup` warm-up runs, `runs` mesh runs and `runs` limit runs each,
 * alternating.
 */
export async function measureMeshSetup(opts: MeshSetupOptions = {}): Promise<MeshSetupRow[]> {
  const rows: MeshSetupRow[] = [];
  for (const layout of opts.layouts ?? MESH_LAYOUTS) {
    for (const video of [false, true]) {
      for (const n of opts.sizes ?? [2, 4, 6, 8]) {
        rows.push(
          layout === "one process"
            ? await measureRow(n, video, opts)
            : await measurePerMemberRow(n, video, opts),
        );
      }
    }
  }
  return rows;
}

/** Both layouts, in the order they run. */
export const MESH_LAYOUTS: readonly MeshLayout[] = ["one process", "process per member"];

/** A row with each member in its own process: the same N processes for every run of the row. */
async function measurePerMemberRow(n: number, video: boolean, opts: MeshSetupOptions): Promise<MeshSetupRow> {
  const runs = opts.runs ?? 5;
  const mesh: PerProcessRun[] = [];
  const limit: number[] = [];
  const failures: string[] = [];
  let members: MemberProcesses | undefined;
  try {
    members = await MemberProcesses.start(n, video);
    for (let r = -(opts.warmup ?? DEFAULT_MESH_WARMUP); r < runs && failures.length < 2; r++) {
      const name = r < 0 ? "warm-up" : `run ${String(r + 1)}`;
      try {
        const run = await members.meshRun();
        if (r >= 0) {
          mesh.push(run);
        }
      } catch (error) {
        failures.push(`${name} mesh: ${errorText(error)}`);
      }
      try {
        const run = await members.limitRun();
        if (r >= 0) {
          limit.push(run.ms);
        }
      } catch (error) {
        failures.push(`${name} limit: ${errorText(error)}`);
      }
      opts.onRun?.(".");
    }
  } catch (error) {
    failures.push(`the members' processes: ${errorText(error)}`);
    opts.onRun?.("x");
  } finally {
    await members?.close();
  }
  return summarize(n, video, "process per member", mesh, limit, {}, failures);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function measureRow(n: number, video: boolean, opts: MeshSetupOptions): Promise<MeshSetupRow> {
  const runs = await runRowProcess(n, video, opts);
  const failures = runs.failures;
  const mesh: MeshRunResult[] = [];
  const limit: number[] = [];
  let counted = 0;
  for (const run of runs.results) {
    const name = run.warmup ? "warm-up" : `run ${String(++counted)}`;
    if ("error" in run.mesh) {
      failures.push(`${name} mesh: ${run.mesh.error}`);
    } else if (!run.warmup) {
      mesh.push(run.mesh);
    }
    if ("error" in run.limit) {
      failures.push(`${name} limit: ${run.limit.error}`);
    } else if (!run.warmup) {
      limit.push(run.limit.ms);
    }
  }
  const peaks = runs.results.map((r) => r.fds.peak).filter((p) => p !== undefined);
  const fds = {
    ...optional("start", runs.results[0]?.fds.before),
    ...optional("end", runs.results.at(-1)?.fds.afterLimit),
    ...optional("peak", peaks.length > 0 ? Math.max(...peaks) : undefined),
  };
  return summarize(n, video, "one process", mesh, limit, fds, failures);
}

/** A row from its runs: medians, ratio, the median run's phases. */
function summarize(
  n: number,
  video: boolean,
  layout: MeshLayout,
  mesh: readonly Pick<MeshRunResult, "ms" | "toDevice" | "cpu" | "phases">[],
  limit: readonly number[],
  fds: MeshSetupRow["fds"],
  failures: string[],
): MeshSetupRow {
  const p50Ms = mesh.length > 0 ? median(mesh.map((m) => m.ms)) : Number.NaN;
  const limitP50Ms = limit.length > 0 ? median(limit) : Number.NaN;
  return {
    members: n,
    video,
    layout,
    runs: mesh.length,
    p50Ms,
    limitP50Ms,
    ratio: p50Ms / limitP50Ms,
    toDevicePerJoin: mesh.length > 0 ? median(mesh.map((m) => m.toDevice)) : Number.NaN,
    cpuPercent: mesh.length > 0 ? median(mesh.map((m) => m.cpu)) : Number.NaN,
    phases: mesh.length > 0 ? medianRun(mesh).phases : [],
    fds,
    failures,
  };
}

function optional<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** Forks the row's process (with this process's loader, e.g. tsx) and collects its runs until it ends. */
function runRowProcess(
  n: number,
  video: boolean,
  opts: MeshSetupOptions,
): Promise<{ results: RowChildRun[]; failures: string[] }> {
  const runs = opts.runs ?? 5;
  const warmup = opts.warmup ?? DEFAULT_MESH_WARMUP;
  const entry = fileURLToPath(new URL("./meshRowChild.ts", import.meta.url));
  const args = [
    String(n),
    video ? "video" : "audio",
    String(runs),
    opts.samplePeakFds === true ? "fds" : "",
    String(warmup),
  ];
  const child = fork(entry, args, { stdio: ["ignore", "ignore", "pipe", "ipc"] });
  const results: RowChildRun[] = [];
  let stderr = "";
  let done = false;
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  child.on("message", (message: RowChildRun | { kind: "done" }) => {
    if (message.kind === "done") {
      done = true;
    } else {
      results.push(message);
      opts.onRun?.(".");
    }
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), (runs + warmup) * ROW_TIMEOUT_PER_RUN_MS);
  return new Promise((resolve) => {
    child.on("exit", (code, signal) => {
      clearTimeout(killer);
      const failures: string[] = [];
      if (!done) {
        const lastLines = stderr.trim().split("\n").slice(-3).join(" / ");
        failures.push(
          `the row's process died after ${results.length} of ${runs} runs (${signal ?? `exit ${String(code)}`})${lastLines ? `: ${lastLines}` : ""}`,
        );
        opts.onRun?.("x");
      }
      resolve({ results, failures });
    });
  });
}

/** The run whose time is the median (the lower middle one for an even count). */
function medianRun<T extends { ms: number }>(runs: readonly T[]): T {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const run = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!run) {
    throw new Error("no mesh runs");
  }
  return run;
}

const num = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "—");

/** The issue's targets: every ratio within 3×, and 6 members with video under 1 s. */
export const MESH_TARGETS = { maxRatio: 3, sixWithVideoMs: 1_000 } as const;

/** The table rows of {@link measureMeshSetup}. */
export function formatMeshSetup(rows: readonly MeshSetupRow[]): string[] {
  const lines = [
    "mesh setup: N members enter() together → every pair connected on both sides (median of the runs counted,",
    "after the warm-up); limit: bare peer connections for the same pairs with the same media, signalled in memory",
    "(a process per member: relayed by the parent), in the same run. One process: all members in one process (its",
    "open file descriptors before the warm-up → after the last run; peak sampled with --mesh-fds). A process per",
    "member: as on real devices, the homeserver in the parent process; CPU is every process's.",
    "",
    "| N | media | layout | runs | p50 ms | limit p50 ms | ratio | to-device per join | CPU % of all cores | fds |",
    "|---:|---|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const fds =
      r.fds.start === undefined && r.fds.end === undefined
        ? ""
        : `${r.fds.start ?? "?"} → ${r.fds.end ?? "?"}${r.fds.peak === undefined ? "" : ` (peak ${r.fds.peak})`}`;
    lines.push(
      `| ${r.members} | ${r.video ? "audio + video" : "audio"} | ${r.layout} | ${r.runs} | ${num(r.p50Ms, 1)} | ${num(r.limitP50Ms, 1)} | ${num(r.ratio, 2)} | ${num(r.toDevicePerJoin, 1)} | ${num(r.cpuPercent, 0)} | ${fds} |`,
    );
  }
  lines.push("", ...formatTargets(rows));
  for (const r of rows.filter((x) => x.failures.length > 0)) {
    lines.push("", `  failed, N = ${r.members} ${r.video ? "audio + video" : "audio"}, ${r.layout}:`);
    lines.push(...r.failures.map((f) => `    ${f}`));
  }
  lines.push(
    "",
    "where the time goes (the median run of each row; ms after enter(), median pair / last pair):",
  );
  for (const r of rows) {
    lines.push("", `  N = ${r.members}, ${r.video ? "audio + video" : "audio"}, ${r.layout}`);
    for (const p of r.phases) {
      lines.push(`    ${p.medianMs.toFixed(1).padStart(8)} / ${p.maxMs.toFixed(1).padStart(8)}  ${p.phase}`);
    }
  }
  return lines;
}

/** One line per layout: whether every row completed within 3× of its limit, and the 6-with-video time. */
function formatTargets(rows: readonly MeshSetupRow[]): string[] {
  const layouts = [...new Set(rows.map((r) => r.layout))];
  return layouts.map((layout) => {
    const own = rows.filter((r) => r.layout === layout);
    const worst = own.reduce<MeshSetupRow | undefined>(
      (w, r) => (w === undefined || !(r.ratio <= w.ratio) ? r : w),
      undefined,
    );
    const allWithin = own.every((r) => r.ratio <= MESH_TARGETS.maxRatio);
    const six = own.find((r) => r.members === 6 && r.video);
    const sixText =
      six === undefined
        ? "6 with video: not measured"
        : `6 with video ${num(six.p50Ms, 0)} ms, its limit ${num(six.limitP50Ms, 0)} ms (target < ${MESH_TARGETS.sixWithVideoMs} ms: ${six.p50Ms < MESH_TARGETS.sixWithVideoMs ? "met" : "missed"})`;
    const worstText =
      worst === undefined
        ? ""
        : ` (highest: N = ${worst.members} ${worst.video ? "with video" : "audio"}, ${num(worst.ratio, 2)})`;
    return `targets, ${layout}: every ratio ≤ ${MESH_TARGETS.maxRatio}: ${allWithin ? "met" : "missed"}${worstText}; ${sixText}`;
  });
}
