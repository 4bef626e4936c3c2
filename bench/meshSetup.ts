// Mesh setup benchmark: N members call enter() together (t0) until every pair is connected on both sides (t1),
// over LocalHomeserver with real media; beside it the limit row: the same N·(N−1)/2 bare peer connections with the
// same media, signalled in memory, in the same run. Each (N, media) row runs in a child process of its own
// (bench/meshRowChild.ts): a row whose process dies (e.g. out of file descriptors) is reported as such.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { RowChildRun } from "./meshRowChild.js";
import type { MeshRunResult } from "./meshRuns.js";
import type { PhaseSummary } from "./meshTimeline.js";
import { median } from "./stats.js";

/** One row: N members, audio only or with video. */
export interface MeshSetupRow {
  members: number;
  video: boolean;
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
  /** Open file descriptors of the row's process before its first run and after its last, and the peak sampled. */
  fds: { start?: number; end?: number; peak?: number };
  /** Runs that failed and why, and how the row's process ended if it died. */
  failures: string[];
}

/** Options of {@link measureMeshSetup}. */
export interface MeshSetupOptions {
  sizes?: readonly number[];
  runs?: number;
  /** Sample the open file descriptors every 250 ms for the peak (debug; costs a little CPU). */
  samplePeakFds?: boolean;
  /** Called after each run. */
  onRun?: (what: string) => void;
}

/** A row's process gets this long per run before it is killed. */
const ROW_TIMEOUT_PER_RUN_MS = 120_000;

/** Measures every (N, video) row: `runs` mesh runs and `runs` limit runs each, alternating, one process per row. */
export async function measureMeshSetup(opts: MeshSetupOptions = {}): Promise<MeshSetupRow[]> {
  const rows: MeshSetupRow[] = [];
  for (const video of [false, true]) {
    for (const n of opts.sizes ?? [2, 4, 6, 8]) {
      rows.push(await measureRow(n, video, opts));
    }
  }
  return rows;
}

async function measureRow(n: number, video: boolean, opts: MeshSetupOptions): Promise<MeshSetupRow> {
  const runs = await runRowProcess(n, video, opts);
  const failures = runs.failures;
  const mesh: MeshRunResult[] = [];
  const limit: number[] = [];
  runs.results.forEach((run, i) => {
    if ("error" in run.mesh) {
      failures.push(`run ${i + 1} mesh: ${run.mesh.error}`);
    } else {
      mesh.push(run.mesh);
    }
    if ("error" in run.limit) {
      failures.push(`run ${i + 1} limit: ${run.limit.error}`);
    } else {
      limit.push(run.limit.ms);
    }
  });
  const peaks = runs.results.map((r) => r.fds.peak).filter((p) => p !== undefined);
  const p50Ms = mesh.length > 0 ? median(mesh.map((m) => m.ms)) : Number.NaN;
  const limitP50Ms = limit.length > 0 ? median(limit) : Number.NaN;
  return {
    members: n,
    video,
    runs: mesh.length,
    p50Ms,
    limitP50Ms,
    ratio: p50Ms / limitP50Ms,
    toDevicePerJoin: mesh.length > 0 ? median(mesh.map((m) => m.toDevice)) : Number.NaN,
    cpuPercent: mesh.length > 0 ? median(mesh.map((m) => m.cpu)) : Number.NaN,
    phases: mesh.length > 0 ? medianRun(mesh).phases : [],
    fds: {
      ...optional("start", runs.results[0]?.fds.before),
      ...optional("end", runs.results.at(-1)?.fds.afterLimit),
      ...optional("peak", peaks.length > 0 ? Math.max(...peaks) : undefined),
    },
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
  const entry = fileURLToPath(new URL("./meshRowChild.ts", import.meta.url));
  const args = [String(n), video ? "video" : "audio", String(runs), opts.samplePeakFds === true ? "fds" : ""];
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
  const killer = setTimeout(() => child.kill("SIGKILL"), runs * ROW_TIMEOUT_PER_RUN_MS);
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
function medianRun(runs: readonly MeshRunResult[]): MeshRunResult {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const run = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!run) {
    throw new Error("no mesh runs");
  }
  return run;
}

const num = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "—");

/** The table rows of {@link measureMeshSetup}. */
export function formatMeshSetup(rows: readonly MeshSetupRow[]): string[] {
  const lines = [
    "mesh setup: N members enter() together → every pair connected on both sides (median of runs); limit: bare",
    "peer connections for the same pairs with the same media, signalled in memory, in the same run; one process",
    "per row, its open file descriptors before the first run → after the last (peak sampled with --mesh-fds)",
    "",
    "| N | media | runs | p50 ms | limit p50 ms | ratio | to-device per join | CPU % of all cores | fds |",
    "|---:|---|---:|---:|---:|---:|---:|---:|---|",
  ];
  for (const r of rows) {
    const fds = `${r.fds.start ?? "?"} → ${r.fds.end ?? "?"}${r.fds.peak === undefined ? "" : ` (peak ${r.fds.peak})`}`;
    lines.push(
      `| ${r.members} | ${r.video ? "audio + video" : "audio"} | ${r.runs} | ${num(r.p50Ms, 1)} | ${num(r.limitP50Ms, 1)} | ${num(r.ratio, 2)} | ${num(r.toDevicePerJoin, 1)} | ${num(r.cpuPercent, 0)} | ${fds} |`,
    );
  }
  for (const r of rows.filter((x) => x.failures.length > 0)) {
    lines.push("", `  failed, N = ${r.members} ${r.video ? "audio + video" : "audio"}:`);
    lines.push(...r.failures.map((f) => `    ${f}`));
  }
  lines.push(
    "",
    "where the time goes (the median run of each row; ms after enter(), median pair / last pair):",
  );
  for (const r of rows) {
    lines.push("", `  N = ${r.members}, ${r.video ? "audio + video" : "audio"}`);
    for (const p of r.phases) {
      lines.push(`    ${p.medianMs.toFixed(1).padStart(8)} / ${p.maxMs.toFixed(1).padStart(8)}  ${p.phase}`);
    }
  }
  return lines;
}
