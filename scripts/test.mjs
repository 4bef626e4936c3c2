#!/usr/bin/env node
// `npm test`: the unit suite (vitest.config.ts), then the Synapse integration suite (vitest.integration.config.ts)
// when python3 is available. With CI=true the integration suite always runs, so a machine that cannot provision
// Synapse fails loudly instead of skipping it. Exits non-zero if either suite fails.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const vitest = join(repo, "node_modules", ".bin", process.platform === "win32" ? "vitest.cmd" : "vitest");
if (!existsSync(vitest)) {
  console.error(`[test] ${vitest} not found: run npm ci first`);
  process.exit(1);
}

const resultsDir = join(repo, ".cache", "test-results");
mkdirSync(resultsDir, { recursive: true });
const totals = { passed: 0, failed: 0, skipped: 0 };

/** Adds the counts of a vitest JSON report to `totals`; false when the report is missing. */
function addCounts(file) {
  try {
    const report = JSON.parse(readFileSync(file, "utf8"));
    totals.passed += report.numPassedTests ?? 0;
    totals.failed += report.numFailedTests ?? 0;
    totals.skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    return true;
  } catch {
    return false;
  }
}

/** Runs vitest with `args`; returns its exit code (1 if it died from a signal). */
function vitestRun(label, name, args) {
  const report = join(resultsDir, `${name}.json`);
  const fullArgs = [...args, "--reporter=default", "--reporter=json", `--outputFile.json=${report}`];
  console.log(`\n[test] ${label}: vitest ${args.join(" ")}`);
  const started = Date.now();
  const result = spawnSync(vitest, fullArgs, { cwd: repo, stdio: "inherit" });
  const code = result.status ?? 1;
  if (result.error) {
    console.error(`[test] ${label}: could not start vitest: ${result.error.message}`);
  }
  console.log(
    `[test] ${label}: exit ${code}${result.signal ? ` (${result.signal})` : ""} after ${Date.now() - started} ms`,
  );
  if (!addCounts(report)) {
    console.log(`[test] ${label}: no JSON report (${report})`);
  }
  return code;
}

const ci = process.env.CI === "true" || process.env.CI === "1";
const python = spawnSync("python3", ["--version"], { stdio: "ignore" }).status === 0;

const unit = vitestRun("unit", "unit", ["run"]);
let integration = 0;
if (python || ci) {
  integration = vitestRun("integration (Synapse)", "integration", [
    "run",
    "-c",
    "vitest.integration.config.ts",
  ]);
} else {
  console.log(
    "\n[test] integration (Synapse): SKIPPED, python3 not found (install Python >= 3.10 to run it)",
  );
}
// The plain closing line CI reads.
console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(unit !== 0 ? unit : integration);
