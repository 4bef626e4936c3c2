#!/usr/bin/env node
// `npm test`: the unit suite (vitest.config.ts), then the Synapse integration suite (vitest.integration.config.ts)
// when python3 is available. With CI=true the integration suite always runs, so a machine that cannot provision
// Synapse fails loudly instead of skipping it. A test file that fails to load counts as a failure; a suite that
// cannot run here is named before the closing line. Exits non-zero whenever anything failed.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
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

/** Runs vitest with `args`; returns its exit code (1 if it died from a signal). */
function vitestRun(label, name, args) {
  const report = join(resultsDir, `${name}.json`);
  const fullArgs = [...args, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
  console.log(`\n[test] ${label}: vitest ${args.join(" ")}`);
  const started = Date.now();
  const failedBefore = totals.failed;
  rmSync(report, { force: true }); // never count an earlier run's report
  const result = spawnSync(vitest, fullArgs, { cwd: repo, stdio: "inherit" });
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

console.log("");
for (const line of problems) {
  console.log(`[test] FAILED ${line}`);
}
for (const line of skippedSuites) {
  console.log(`[test] SKIPPED suite ${line}`);
}
const failed = unit !== 0 || integration !== 0 || totals.failed > 0;
// The plain closing line CI reads: the last line of the output.
console.log(closingLine(totals));
process.exit(failed ? unit || integration || 1 : 0);
