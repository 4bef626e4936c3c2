// Runs a repo script in a child process (as a user would, through npx tsx) and collects its output.
import { spawn } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository root. */
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/** What a finished child process left behind. */
export interface ScriptRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npx tsx <script> <args>` in the repository root; killed after `timeoutMs`. */
export function runScript(script: string, args: string[], timeoutMs = 60_000): Promise<ScriptRun> {
  return new Promise((resolveRun, reject) => {
    const child = spawn("npx", ["tsx", script, ...args], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(`${script} ${args.join(" ")} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`),
      );
    }, timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
  });
}

/** The last non-empty line of `text`, parsed as JSON. */
export function lastJsonLine(text: string): unknown {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  const last = lines.at(-1);
  if (last === undefined) {
    throw new Error("no output");
  }
  return JSON.parse(last);
}
