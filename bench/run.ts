// `npm run bench`: call setup latency, every row interleaved in one run (A, B, C, A, B, C …) so that the machine's
// noise hits all alike. Default: the in-memory rows (the limit and ours); `--synapse` adds the Synapse rows.
import { cpus, loadavg } from "node:os";
import { parseArgs } from "node:util";
import { installExitGuard } from "../src/node/index.js";
import { localGroup } from "./localRows.js";
import { benchMembershipEvents } from "./membershipEvents.js";
import { computeRatios, runInterleaved, type RatioResult, type RowGroup, type RowResult } from "./rows.js";
import { DEFAULT_MESH_WARMUP, formatMeshSetup, measureMeshSetup, type MeshLayout } from "./meshSetup.js";
import { formatSfuKeys, measureSfuKeys } from "./sfuKeys.js";

const USAGE = `Usage: npm run bench -- [--calls N] [--warmup N] [--synapse] [--no-reference] [--json]

Call setup latency (rows interleaved), then the SFU key rows and group-call membership processing (1,000 and
10,000 membership state events, one per sync batch).

  --calls N        measured calls per row (default 20)
  --warmup N       warm-up rounds, not counted (default 2)
  --synapse        add the Synapse rows (provisions and starts Synapse as the integration suite does)
  --no-reference   leave out the row with the reference's timings and fixed waits
  --mesh-runs N    mesh setup rows: runs per (N, media) (default 5; 0 leaves them out)
  --mesh-warmup N  mesh setup rows: warm-up runs first, not counted (default 1)
  --mesh-sizes L   mesh sizes, comma-separated (default 2,4,6,8)
  --mesh-fds       sample each mesh row's open file descriptors for the peak (debug)
  --mesh-layouts L "one" (all members in one process), "per-member" (a process per member) or both
                   (default "one,per-member")
  --mesh-only      only the mesh setup rows
  --json           print a JSON object with every row and ratio as the last line`;

interface Flags {
  synapse: boolean;
  reference: boolean;
  meshRuns: number;
  meshWarmup: number;
  meshSizes: number[];
  meshFds: boolean;
  meshLayouts: MeshLayout[];
  meshOnly: boolean;
}

/** The row groups, in the order they run in each round. Add a group here to add rows to the benchmark. */
const GROUPS: {
  name: string;
  enabled: (flags: Flags) => boolean;
  open: (flags: Flags) => Promise<RowGroup>;
}[] = [
  {
    name: "in-memory",
    enabled: (flags) => !flags.meshOnly,
    open: (flags) => localGroup({ referenceTimings: flags.reference }),
  },
  {
    name: "synapse",
    enabled: (flags) => flags.synapse && !flags.meshOnly,
    open: async () => (await import("./synapseRows.js")).synapseGroup(),
  },
];

/**
 * Measurements that are not call rows, run after the rows: each prints its own lines and adds `json` under its key.
 */
const SECTIONS: {
  key: string;
  enabled: (flags: Flags) => boolean;
  run: (flags: Flags) => Promise<{ lines: string[]; json: unknown }>;
}[] = [
  {
    key: "meshSetup",
    enabled: (flags) => flags.meshRuns > 0,
    run: async (flags) => {
      process.stdout.write(`\nmesh setup, ${flags.meshRuns} runs per row (+${flags.meshWarmup} warm-up) `);
      const rows = await measureMeshSetup({
        sizes: flags.meshSizes,
        runs: flags.meshRuns,
        warmup: flags.meshWarmup,
        samplePeakFds: flags.meshFds,
        layouts: flags.meshLayouts,
        onRun: (w) => process.stdout.write(w),
      });
      process.stdout.write("\n");
      return { lines: formatMeshSetup(rows), json: rows };
    },
  },
  {
    key: "sfuKeys",
    enabled: (flags) => !flags.meshOnly,
    run: async () => {
      const result = await measureSfuKeys();
      return { lines: formatSfuKeys(result), json: result };
    },
  },
  {
    key: "membership",
    enabled: (flags) => !flags.meshOnly,
    run: async () => {
      const loadBefore = loadavg();
      const membership = await benchMembershipEvents();
      const load = [loadBefore, loadavg()].map((l) => l.map((x) => x.toFixed(2)).join(" "));
      const [small, large] = membership.sizes;
      const lines = [
        "group calls: membership state events, one per sync batch, tracked by the call's session",
        `${membership.repeats} runs per size, each after a full GC and ending with a scavenge; CPU is the process's (GC threads included)`,
        "",
        "| membership events | median ms | best ms | median CPU ms | best CPU ms | µs per event (median) |",
        "|---:|---:|---:|---:|---:|---:|",
        ...membership.sizes.map(
          (size) =>
            `| ${size.events} | ${fmt(size.medianMs)} | ${fmt(size.minMs)} | ${fmt(size.medianCpuMs)} | ${fmt(size.minCpuMs)} | ${fmt(size.perEventUs)} |`,
        ),
        "",
        `${large?.events ?? "?"} / ${small?.events ?? "?"} (medians): ${membership.ratio.toFixed(2)}x wall, ${membership.cpuRatio.toFixed(2)}x CPU; best runs ${membership.bestRatio.toFixed(2)}x wall (target ≤ 10x: ${membership.ratio <= 10 ? "met" : "missed"})`,
        `without the closing scavenge (events alone): medians ${fmt(small?.medianLoopMs ?? NaN)} / ${fmt(large?.medianLoopMs ?? NaN)} ms, ${membership.loopRatio.toFixed(2)}x wall, ${membership.loopCpuRatio.toFixed(2)}x CPU`,
        `load average before ${load[0] ?? ""}, after ${load[1] ?? ""}`,
      ];
      return { lines, json: membership };
    },
  },
];

function count(value: string | undefined, fallback: number, flag: string, min: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`${flag} must be an integer >= ${min}, got "${value ?? ""}"`);
  }
  return n;
}

/** `--mesh-layouts`: "one" and/or "per-member", comma-separated. */
function meshLayouts(value: string | undefined): MeshLayout[] {
  const names: Record<string, MeshLayout> = { one: "one process", "per-member": "process per member" };
  return (value ?? "one,per-member").split(",").map((name) => {
    const layout = names[name];
    if (layout === undefined) {
      throw new Error(`--mesh-layouts takes "one" and/or "per-member", got "${name}"`);
    }
    return layout;
  });
}

const fmt = (ms: number): string => ms.toFixed(1);
const out = (line = ""): void => {
  process.stdout.write(`${line}\n`);
};

/** matrix-js-sdk and its Rust crypto log through console.*; the benchmark prints through stdout only. */
function quietConsole(): void {
  const quiet = (): void => undefined;
  console.debug = quiet;
  console.info = quiet;
  console.log = quiet;
  console.warn = quiet;
  console.error = quiet;
}

function printTable(results: RowResult[], ratios: RatioResult[]): void {
  out("| row | p50 ms | p95 ms | CPU ms/call p50 |");
  out("|---|---:|---:|---:|");
  for (const r of results) {
    out(`| ${r.label} | ${fmt(r.p50)} | ${fmt(r.p95)} | ${fmt(r.cpuP50)} |`);
  }
  out("\n| ratio (p50) | value | target |");
  out("|---|---:|---:|");
  for (const r of ratios) {
    const target =
      r.target === undefined ? "" : `≤ ${r.target.toFixed(2)} ${r.met === true ? "met" : "missed"}`;
    out(`| ${r.name} | ${r.value.toFixed(2)} | ${target} |`);
  }
}

async function main(): Promise<number> {
  let calls: number;
  let warmup: number;
  let json: boolean;
  let flags: Flags;
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: {
        calls: { type: "string" },
        warmup: { type: "string" },
        synapse: { type: "boolean", default: false },
        "no-reference": { type: "boolean", default: false },
        "mesh-runs": { type: "string" },
        "mesh-warmup": { type: "string" },
        "mesh-sizes": { type: "string" },
        "mesh-fds": { type: "boolean", default: false },
        "mesh-layouts": { type: "string" },
        "mesh-only": { type: "boolean", default: false },
        json: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
    });
    if (values.help) {
      out(USAGE);
      return 0;
    }
    calls = count(values.calls, 20, "--calls", 1);
    warmup = count(values.warmup, 2, "--warmup", 0);
    json = values.json;
    flags = {
      synapse: values.synapse,
      reference: !values["no-reference"],
      meshRuns: count(values["mesh-runs"], 5, "--mesh-runs", 0),
      meshWarmup: count(values["mesh-warmup"], DEFAULT_MESH_WARMUP, "--mesh-warmup", 0),
      meshSizes: (values["mesh-sizes"] ?? "2,4,6,8").split(",").map((v) => count(v, 2, "--mesh-sizes", 2)),
      meshFds: values["mesh-fds"],
      meshLayouts: meshLayouts(values["mesh-layouts"]),
      meshOnly: values["mesh-only"],
    };
    if (flags.meshOnly && flags.meshRuns === 0) {
      throw new Error("--mesh-only needs --mesh-runs >= 1");
    }
  } catch (error) {
    process.stderr.write(`bench: ${(error as Error).message}\n\n${USAGE}\n`);
    return 2;
  }
  installExitGuard();
  if (flags.synapse) {
    quietConsole();
  }
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", node: process.version };
  const loadBefore = loadavg();
  if (!flags.meshOnly) {
    out(`call setup latency: the call placed → both sides connected, audio and video both ways`);
    out(`${calls} calls per row (+${warmup} warm-up rounds), rows interleaved`);
  }
  out(
    `machine: ${machine.cpus} cores, ${machine.cpu}, Node ${machine.node}; load ${loadBefore.map((l) => l.toFixed(2)).join(" ")}`,
  );

  const groups: RowGroup[] = [];
  try {
    for (const factory of GROUPS.filter((g) => g.enabled(flags))) {
      out(`opening ${factory.name} …`);
      groups.push(await factory.open(flags));
    }
    for (const group of groups) {
      out(`  ${group.name}: ${group.description}`);
    }
    let results: RowResult[] = [];
    let ratios: RatioResult[] = [];
    if (groups.length > 0) {
      const rowCount = groups.reduce((n, g) => n + g.rows.length, 0);
      let lastRound = Number.NaN;
      results = await runInterleaved(groups, {
        calls,
        warmup,
        onCall: (round) => {
          if (round !== lastRound) {
            lastRound = round;
            process.stdout.write(round < 0 ? "w" : round % 10 === 9 ? "|" : ".");
          }
        },
      });
      out(` ${rowCount} rows\n`);
      ratios = computeRatios(groups, results);
      printTable(results, ratios);

      out("\nwhere the time goes (median ms after the call was placed; marks seen in every call):");
      const wanted = new Set(groups.flatMap((g) => g.timelines ?? []));
      for (const r of results.filter((x) => wanted.has(x.id))) {
        out(`\n  ${r.label}`);
        for (const [phase, ms] of r.phases) {
          out(`    ${fmt(ms).padStart(7)}  ${phase}`);
        }
      }
    }
    const sections: Record<string, unknown> = {};
    for (const section of SECTIONS.filter((x) => x.enabled(flags))) {
      const { lines, json: data } = await section.run(flags);
      out(`\n${lines.join("\n")}`);
      sections[section.key] = data;
    }
    const loadAfter = loadavg();
    out(
      `\nload average before ${loadBefore.map((l) => l.toFixed(2)).join(" ")}, after ${loadAfter.map((l) => l.toFixed(2)).join(" ")}`,
    );
    if (json) {
      out(
        JSON.stringify({
          benchmark: "setup-latency",
          calls,
          warmup,
          machine,
          load: { before: loadBefore, after: loadAfter },
          rows: results,
          ratios,
          ...sections,
        }),
      );
    }
    return 0;
  } finally {
    for (const group of groups) {
      await group.close();
    }
  }
}

process.exitCode = 1;
main().then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(
      `bench: failed ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
