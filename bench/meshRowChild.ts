// The child process of one mesh setup row (bench/meshSetup.ts forks it): `warmup` warm-up runs, then `runs` mesh
// runs and limit runs, alternating, each reported to the parent as it completes, with the process's open file
// descriptors before and after it. A row runs in a process of its own so that a crash of @roamhq/wrtc (a native abort when the descriptors run
// out, a segfault) ends only that row, and each row starts from a clean process.
import { installExitGuard } from "../src/node/index.js";
import { limitRun, meshRun, type MeshRunResult } from "./meshRuns.js";
import { openFds } from "./fds.js";

/** What the child sends after each run. */
export interface RowChildRun {
  kind: "run";
  mesh: MeshRunResult | { error: string };
  limit: { ms: number } | { error: string };
  /** Open file descriptors before the mesh run, after it, and after the limit run (undefined without /proc). */
  fds: { before?: number; afterMesh?: number; afterLimit?: number; peak?: number };
  /** A warm-up run: its times are not counted (its descriptors and failures are). */
  warmup: boolean;
}

/** A failed run ends the row after this many failures (each may have waited for its timeout). */
const MAX_FAILED_RUNS = 2;

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function send(message: RowChildRun | { kind: "done" }): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) {
      process.stdout.write(`${JSON.stringify(message)}\n`);
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => {
      resolve();
    });
  });
}

async function main(): Promise<void> {
  const [n, video, runs, samplePeak, warmupRuns] = process.argv.slice(2);
  const warmup = Number(warmupRuns ?? 0);
  const members = Number(n);
  const withVideo = video === "video";
  let peak = 0;
  const sampler =
    samplePeak === "fds"
      ? setInterval(() => {
          peak = Math.max(peak, openFds() ?? 0);
        }, 250)
      : undefined;
  let failed = 0;
  for (let r = -warmup; r < Number(runs) && failed < MAX_FAILED_RUNS; r++) {
    peak = 0;
    const before = openFds();
    const mesh = await meshRun(members, withVideo).catch((error: unknown) => ({ error: errorText(error) }));
    const afterMesh = openFds();
    const limit = await limitRun(members, withVideo).then(
      (ms) => ({ ms }),
      (error: unknown) => ({ error: errorText(error) }),
    );
    const afterLimit = openFds();
    if ("error" in mesh || "error" in limit) {
      failed++;
    }
    await send({
      kind: "run",
      mesh,
      limit,
      fds: { before, afterMesh, afterLimit, ...(sampler ? { peak } : {}) },
      warmup: r < 0,
    });
  }
  clearInterval(sampler);
  await send({ kind: "done" });
}

installExitGuard();
main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`mesh row: ${errorText(error)}\n`);
    process.exit(1);
  },
);
