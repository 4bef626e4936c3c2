// `npm run bench`: call setup latency with the reference's timings and fixed waits, then with our defaults.
import { cpus } from "node:os";
import { parseArgs } from "node:util";
import { REFERENCE_TIMEOUTS, type VoipOptions } from "../src/index.js";
import { installExitGuard } from "../src/node/index.js";
import { benchMembershipEvents } from "./membershipEvents.js";
import { measureSetupLatency, type SetupLatencyResult } from "./setupLatency.js";
import { formatSfuKeys, measureSfuKeys } from "./sfuKeys.js";

const USAGE = `Usage: npm run bench -- [--calls N] [--warmup N] [--variant JSON] [--json]

Call setup latency (two runs, more with --variant), then group-call membership processing (1,000 and 10,000
membership state events, one per sync batch).

  --calls N       measured calls per run (default 20)
  --warmup N      warm-up calls per run, not counted (default 2)
  --variant JSON  one more run with these VoipOptions, e.g. '{"timeouts":{"iceGatheringDelayMs":20}}' (repeatable)
  --json          print a JSON object as the last line`;

interface BenchRun {
  name: string;
  /** How the options read in the table and JSON. */
  options: string;
  voip: VoipOptions;
}

const RUNS: BenchRun[] = [
  {
    name: "reference timings, fixed waits",
    options: "{ timeouts: REFERENCE_TIMEOUTS, fixedWaits: true }",
    voip: { timeouts: REFERENCE_TIMEOUTS, fixedWaits: true },
  },
  { name: "our defaults", options: "{}", voip: {} },
];

function count(value: string | undefined, fallback: number, flag: string, min: number): number {
  const n = value === undefined ? fallback : Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new Error(`${flag} must be an integer >= ${min}, got "${value ?? ""}"`);
  }
  return n;
}

function parseVariant(text: string): VoipOptions {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`--variant must be JSON VoipOptions: ${(error as Error).message}`, { cause: error });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error(`--variant must be a JSON object of VoipOptions, got ${text}`);
  }
  return value;
}

function fmt(ms: number): string {
  return ms.toFixed(1);
}

async function main(): Promise<number> {
  let calls: number;
  let warmup: number;
  let json: boolean;
  const runs = [...RUNS];
  try {
    const { values } = parseArgs({
      args: process.argv.slice(2),
      strict: true,
      options: {
        calls: { type: "string" },
        warmup: { type: "string" },
        json: { type: "boolean", default: false },
        variant: { type: "string", multiple: true, default: [] },
        help: { type: "boolean", default: false },
      },
    });
    if (values.help) {
      console.log(USAGE);
      return 0;
    }
    calls = count(values.calls, 20, "--calls", 1);
    warmup = count(values.warmup, 2, "--warmup", 0);
    json = values.json;
    for (const variant of values.variant) {
      runs.push({ name: "variant", options: variant, voip: parseVariant(variant) });
    }
  } catch (error) {
    console.error(`bench: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  installExitGuard();
  const machine = { cpus: cpus().length, cpu: cpus()[0]?.model ?? "?", node: process.version };
  console.log(
    `call setup latency: inviteToCall → both connected; ${calls} calls (+${warmup} warm-up) per run`,
  );
  console.log(`LocalHomeserver, no TURN, no latency, real media (@roamhq/wrtc, 320×240 @ 15 fps + audio)`);
  console.log(`machine: ${machine.cpus} cores, ${machine.cpu}, Node ${machine.node}\n`);

  const results: (BenchRun & { result: SetupLatencyResult })[] = [];
  for (const run of runs) {
    process.stdout.write(`${run.name} ${run.options}: `);
    const result = await measureSetupLatency({
      calls,
      warmup,
      voip: run.voip,
      onCall: (i) => {
        process.stdout.write(i < 0 ? "w" : ".");
      },
    });
    process.stdout.write(` p50 ${fmt(result.p50)} ms\n`);
    results.push({ ...run, result });
  }

  const reference = results[0]!.result;
  const ratio = (r: SetupLatencyResult): string => (reference.p50 / r.p50).toFixed(2);
  console.log("\n| run | p50 ms | p95 ms | ratio p50 ref/ours |");
  console.log("|---|---:|---:|---:|");
  for (const { name, options, result } of results) {
    console.log(`| ${name} \`${options}\` | ${fmt(result.p50)} | ${fmt(result.p95)} | ${ratio(result)} |`);
  }

  console.log("\nwhere the time goes (median ms after inviteToCall; marks seen in every call):");
  for (const { name, result } of results) {
    console.log(`\n  ${name}`);
    for (const [phase, ms] of result.phases) {
      console.log(`    ${fmt(ms).padStart(7)}  ${phase}`);
    }
  }

  const sfuKeys = await measureSfuKeys();
  console.log(`\n${formatSfuKeys(sfuKeys).join("\n")}`);
  console.log("\ngroup calls: membership state events, one per sync batch, tracked by the call's session");
  const membership = await benchMembershipEvents();
  console.log("\n| membership events | best of 7 ms | median ms | best CPU ms | µs per event (best) |");
  console.log("|---:|---:|---:|---:|---:|");
  for (const size of membership.sizes) {
    console.log(
      `| ${size.events} | ${fmt(size.minMs)} | ${fmt(size.medianMs)} | ${fmt(size.minCpuMs)} | ${fmt(size.perEventUs)} |`,
    );
  }
  console.log(
    `\n10,000 / 1,000 (best runs): ${membership.ratio.toFixed(2)}x wall, ${membership.cpuRatio.toFixed(2)}x CPU (linear: about 10x)`,
  );

  if (json) {
    const ours = results[1]!.result;
    console.log(
      JSON.stringify({
        benchmark: "setup-latency",
        calls,
        warmup,
        machine,
        runs: results.map(({ name, options, result }) => ({ name, options, ...result })),
        ratioP50: reference.p50 / ours.p50,
        sfuKeys,
        membership,
      }),
    );
  }
  return 0;
}

process.exitCode = 1;
main().then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    console.error("bench: failed", error);
    process.exit(1);
  },
);
