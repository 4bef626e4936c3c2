// Counting for `npm test` (scripts/test.mjs): reads vitest JSON reports into one closing line.
import { readFileSync } from "node:fs";
import { relative } from "node:path";

/**
 * Reads one vitest JSON report. A test file that failed to load (a syntax error, a missing fixture, a throwing
 * import) has no failed test of its own: it counts as one failure and is named in `problems`.
 * @param {string} file the report's path
 * @param {string} root paths in `problems` are relative to this folder
 * @returns {{ passed: number, failed: number, skipped: number, problems: string[] } | undefined} undefined when
 *   the report is missing or unreadable
 */
export function readVitestReport(file, root) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
  const counts = {
    passed: report.numPassedTests ?? 0,
    failed: report.numFailedTests ?? 0,
    skipped: (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0),
    problems: [],
  };
  for (const result of report.testResults ?? []) {
    const failedTests = (result.assertionResults ?? []).filter((a) => a.status === "failed").length;
    if (result.status === "failed" && failedTests === 0) {
      counts.failed += 1;
      const firstLine = String(result.message ?? "").split("\n")[0];
      counts.problems.push(`${relative(root, result.name)} failed to load: ${firstLine}`);
    }
  }
  return counts;
}

/**
 * The plain closing line CI reads (`N passed, N failed, N skipped`, one word with a colon before it).
 * @param {{ passed: number, failed: number, skipped: number }} totals
 */
export function closingLine(totals) {
  return `tests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`;
}
