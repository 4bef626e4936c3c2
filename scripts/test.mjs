#!/usr/bin/env node
// `npm test`: the unit suite (vitest.config.ts), then the Synapse integration suite (vitest.integration.config.ts)
// when python3 is available, then the media suite (vitest.sfu.config.ts: a real LiveKit server and Chromium) when Go
// or a cached LiveKit build is there; as root it runs in a private network namespace (scripts/netns.mjs). With CI=true
// the integration and SFU suites always run, so a machine that cannot provision Synapse or LiveKit fails loudly
// instead of skipping them. A test file that fails to load counts as a failure; a suite that
// cannot run here is named before the closing line. Exits non-zero whenever anything failed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inNetns, netnsUnavailable } from "./netns.mjs";
import { closingLine, readVitestReport } from "./testSummary.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const vitest = join(repo, "node_modules", ".bin", process.platform === "win32" ? "vitest.cmd" : "vitest");
if (!existsSync(vitest)) {
  console.error(`[test] ${vitest} not found: run npm ci first`);
  process.exit(1);
}

const resultsDir = join(repo, ".cache", "test-results");
mkdirSync(resultsDir, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };
/** Lines repeated just before the closing line: files that failed to load, suites that did not run. */
const problems = [];
const skippedSuites = [];

/** Runs vitest with `args` (in a network namespace when `isolate`); returns its exit code (1 if it died from a signal). */
function vitestRun(label, name, args, { isolate = false, env = {} } = {}) {
  const report = join(resultsDir, `${name}.json`);
  const fullArgs = [...args, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
  console.log(`\n[test] ${label}: vitest ${args.join(" ")}`);
  const started = Date.now();
  const failedBefore = totals.failed;
  rmSync(report, { force: true }); // never count an earlier run's report
  const run = isolate ? inNetns(vitest, fullArgs) : { command: vitest, args: fullArgs };
  const result = spawnSync(run.command, run.args, {
    cwd: repo,
    stdio: "inherit",
    env: { ...process.env, ...env, ...(isolate ? { FAMEDLY_CALLS_NETNS: "1" } : {}) },
  });
  const code = result.status ?? 1;
  if (result.error) {
    console.error(`[test] ${label}: could not start vitest: ${result.error.message}`);
  }
  console.log(
    `[test] ${label}: exit ${code}${result.signal ? ` (${result.signal})` : ""} after ${Date.now() - started} ms`,
  );
  const counts = readVitestReport(report, repo);
  if (counts !== undefined) {
    totals.passed += counts.passed;
    totals.failed += counts.failed;
    totals.skipped += counts.skipped;
    problems.push(...counts.problems.map((p) => `${label}: ${p}`));
  }
  if (counts === undefined) {
    console.log(`[test] ${label}: no JSON report (${report})`);
    // Nothing was counted, so the run itself is the failure.
    totals.failed += 1;
    problems.push(`${label}: vitest exited ${code} without a report`);
  } else if (code !== 0 && totals.failed === failedBefore) {
    // vitest failed for a reason its report does not count (an unhandled error between tests, a crash).
    totals.failed += 1;
    problems.push(`${label}: vitest exited ${code} with no failed test in its report (see its output above)`);
  }
  return code;
}

const ci = process.env.CI === "true" || process.env.CI === "1";
const python = spawnSync("python3", ["--version"], { stdio: "ignore" }).status === 0;
const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!existsSync(chromium) && !ci) {
  // test/browser skips itself without Chromium (with CI=true it fails instead).
  skippedSuites.push(`browser (web demo): ${chromium} not found (apt-get install chromium)`);
}

const unit = vitestRun("unit", "unit", ["run"]);
let integration = 0;
if (python || ci) {
  integration = vitestRun("integration (Synapse)", "integration", [
    "run",
    "-c",
    "vitest.integration.config.ts",
  ]);
} else {
  skippedSuites.push("integration (Synapse): python3 not found (install Python >= 3.10 with venv)");
}

// The media suite: LiveKit must be built before we enter the namespace (which has no route to the module proxy).
const go = spawnSync("go", ["version"], { stdio: "ignore" }).status === 0;
const livekitCached =
  spawnSync("bash", ["scripts/livekit/provision.sh", "--check"], { cwd: repo, stdio: "ignore" }).status === 0;
let media = 0;
const netnsWhyNot = netnsUnavailable();
if (netnsWhyNot !== undefined) {
  if (ci) {
    console.error(`[test] CI must isolate the media suite in a network namespace: ${netnsWhyNot}`);
    problems.push(`media: no network namespace (${netnsWhyNot})`);
    totals.failed += 1;
    media = 1;
  } else {
    console.log(`[test] media suite on the host network (no namespace: ${netnsWhyNot})`);
  }
}
if (media === 0 && (go || livekitCached || ci)) {
  console.log("\n[test] provisioning livekit-server (cached after the first build, ~80 s)");
  const provision = spawnSync("bash", ["scripts/livekit/provision.sh"], {
    cwd: repo,
    stdio: ["ignore", "ignore", "inherit"],
  });
  if (provision.status === 0) {
    media = vitestRun("media (LiveKit SFU, Chromium)", "media", ["run", "-c", "vitest.sfu.config.ts"], {
      isolate: netnsWhyNot === undefined,
    });
  } else {
    problems.push("media: livekit-server could not be built (scripts/livekit/provision.sh)");
    totals.failed += 1;
    media = 1;
  }
} else if (media === 0) {
  skippedSuites.push("SFU (LiveKit): go not found and no cached livekit-server (install Go >= 1.26)");
  media = vitestRun(
    "media (Chromium only)",
    "media",
    ["run", "-c", "vitest.sfu.config.ts", "test/browser/"],
    {
      isolate: netnsWhyNot === undefined,
      env: { FAMEDLY_CALLS_NO_LIVEKIT: "1" },
    },
  );
}

console.log("");
for (const line of problems) {
  console.log(`[test] FAILED ${line}`);
}
for (const line of skippedSuites) {
  console.log(`[test] SKIPPED suite ${line}`);
}
const failed = unit !== 0 || integration !== 0 || media !== 0 || totals.failed > 0;
// The plain closing line CI reads: the last line of the output.
console.log(closingLine(totals));
process.exit(failed ? unit || integration || media || 1 : 0);
