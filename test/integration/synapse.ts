// Starts and stops a throwaway Synapse (SQLite, 127.0.0.1, free port) for the integration suite.
// Runs in vitest's main process (globalSetup); the test workers only see a SynapseInfo (see inject("synapse")).
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** What tests need to know about the running Synapse. */
export interface SynapseInfo {
  /** `http://127.0.0.1:<port>`. */
  baseUrl: string;
  /** `localhost`: user ids are `@name:localhost`. */
  serverName: string;
  /** `registration_shared_secret`, for the admin register API. */
  sharedSecret: string;
  /** The configured TURN uris and shared secret (no TURN server runs). */
  turnUris: string[];
  turnSecret: string;
  /** The SQLite database (WAL mode: read it with a WAL-aware reader). */
  dbPath: string;
}

/** A Synapse process started by {@link startSynapse}. */
export interface SynapseServer extends SynapseInfo {
  /** Milliseconds from spawn to a healthy `/health`. */
  startMs: number;
  /** The data folder (config, database, log). */
  dataDir: string;
  /** Stops Synapse (SIGTERM, then SIGKILL after 10 s) and, unless `keepData`, deletes its data folder. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** The TURN uris written into the config (no TURN server runs; Synapse only hands out credentials). */
export const TURN_URIS = ["turn:127.0.0.1:3478?transport=udp", "turn:127.0.0.1:3478?transport=tcp"];

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

/**
 * Runs `scripts/synapse/provision.sh` (a no-op when the cached virtualenv already holds the pinned version) and
 * returns the virtualenv folder.
 */
export async function provisionSynapse(): Promise<string> {
  const script = join(REPO, "scripts/synapse/provision.sh");
  try {
    const { stdout } = await promisify(execFile)("bash", [script], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
    const venv = stdout.trim().split("\n").pop();
    if (venv === undefined || venv === "") {
      throw new Error("provision.sh printed no virtualenv path");
    }
    return venv;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`Synapse provisioning failed (${script}):\n${stderr || String(error)}`, { cause: error });
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => {
        resolvePort(port);
      });
    });
  });
}

/** The homeserver.yaml for tests (written as JSON, which is YAML). See reference/synapse-and-js-sdk-notes.md §1. */
export function synapseConfig(dir: string, port: number, secrets: { shared: string; turn: string }): object {
  const relaxed = { per_second: 9999, burst_count: 9999 };
  return {
    server_name: "localhost",
    public_baseurl: `http://127.0.0.1:${port}/`,
    report_stats: false,
    pid_file: join(dir, "homeserver.pid"),
    signing_key_path: join(dir, "localhost.signing.key"),
    media_store_path: join(dir, "media_store"),
    database: { name: "sqlite3", args: { database: join(dir, "homeserver.db") } },
    listeners: [
      {
        port,
        type: "http",
        tls: false,
        bind_addresses: ["127.0.0.1"],
        x_forwarded: false,
        resources: [{ names: ["client"], compress: false }],
      },
    ],
    registration_shared_secret: secrets.shared,
    enable_registration: false,
    bcrypt_rounds: 4,
    trusted_key_servers: [],
    suppress_key_server_warning: true,
    presence: { enabled: false },
    caches: { sync_response_cache_duration: 0 },
    default_room_version: "10",
    max_event_delay_duration: "24h",
    turn_uris: TURN_URIS,
    turn_shared_secret: secrets.turn,
    turn_user_lifetime: "1h",
    url_preview_enabled: false,
    enable_metrics: false,
    rc_message: relaxed,
    rc_registration: relaxed,
    rc_login: { address: relaxed, account: relaxed, failed_attempts: relaxed },
    rc_admin_redaction: relaxed,
    rc_joins: { local: relaxed, remote: relaxed },
    rc_joins_per_room: relaxed,
    rc_3pid_validation: relaxed,
    rc_invites: { per_room: relaxed, per_user: relaxed, per_issuer: relaxed },
    rc_presence: { per_user: relaxed },
    rc_delayed_event_mgmt: relaxed,
    rc_room_creation: relaxed,
    rc_user_directory: relaxed,
    rc_key_requests: relaxed,
  };
}

// Started through this launcher so that Synapse gets SIGTERM if our process dies without cleaning up
// (PR_SET_PDEATHSIG survives exec); on platforms without prctl it just execs.
const LAUNCHER = `
import ctypes, os, signal, sys
parent, config = int(sys.argv[1]), sys.argv[2]
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
except Exception:
    pass
if os.getppid() != parent:
    sys.exit("parent exited before Synapse started")
os.execv(sys.executable, [sys.executable, "-m", "synapse.app.homeserver", "-c", config])
`;

/** Writes a config into a fresh temp folder, starts Synapse from `venv` and waits until it is healthy. */
export async function startSynapse(
  venv: string,
  opts: { startTimeoutMs?: number } = {},
): Promise<SynapseServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "famedly-calls-synapse-"));
  const port = await freePort();
  const secrets = { shared: "test-only-shared-secret", turn: "test-only-turn-secret" };
  const configPath = join(dataDir, "homeserver.yaml");
  writeFileSync(configPath, JSON.stringify(synapseConfig(dataDir, port, secrets), null, 2));
  const logPath = join(dataDir, "synapse.log");
  const logFd = openSync(logPath, "a");
  const started = Date.now();
  const child = spawn(join(venv, "bin/python"), ["-c", LAUNCHER, String(process.pid), configPath], {
    cwd: dataDir,
    stdio: ["ignore", logFd, logFd],
    env: { ...process.env, PYTHONUNBUFFERED: "1" },
  });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolveExit) => {
    child.once("exit", (code) => {
      resolveExit(code);
    });
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  let stopped = false;
  const stop = async (stopOpts: { keepData?: boolean } = {}): Promise<void> => {
    if (!stopped) {
      stopped = true;
      process.off("exit", killOnExit);
      await terminate(child, exited);
    }
    if (stopOpts.keepData !== true) {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);

  try {
    await waitForHealth(baseUrl, exited, opts.startTimeoutMs ?? 90_000);
  } catch (error) {
    await stop({ keepData: true });
    throw new Error(`${(error as Error).message}\n--- ${logPath} (last lines) ---\n${tail(logPath, 40)}`, {
      cause: error,
    });
  }
  return {
    baseUrl,
    serverName: "localhost",
    sharedSecret: secrets.shared,
    turnUris: TURN_URIS,
    turnSecret: secrets.turn,
    dbPath: join(dataDir, "homeserver.db"),
    dataDir,
    startMs: Date.now() - started,
    stop,
  };
}

async function waitForHealth(
  baseUrl: string,
  exited: Promise<number | null>,
  timeoutMs: number,
): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`Synapse exited during start-up (code ${String(exitCode)})`);
    }
    try {
      const response = await fetch(`${baseUrl}/health`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Synapse did not become healthy within ${timeoutMs} ms`);
}

async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  child.kill("SIGTERM");
  const timeout = new Promise<"timeout">((r) => {
    setTimeout(() => {
      r("timeout");
    }, 10_000).unref();
  });
  if ((await Promise.race([exited, timeout])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

function tail(path: string, lines: number): string {
  try {
    return readFileSync(path, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return "(no log)";
  }
}
