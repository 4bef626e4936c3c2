// Builds (cached) and starts a throwaway LiveKit server for the SFU suite: 127.0.0.1, free ports, dev key, and a config
// under which no client is ever handed a public STUN or TURN server (see livekitConfig). Runs in vitest's main process
// (globalSetup); test files only see a LiveKitInfo through inject("livekit").
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createSocket } from "node:dgram";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { freePort } from "../integration/synapse.js";

/** What tests need to know about the running server. */
export interface LiveKitInfo {
  /** `ws://127.0.0.1:<port>`: the URL clients connect to. */
  wsUrl: string;
  /** `http://127.0.0.1:<port>`: the same port, for the health check and server APIs. */
  httpUrl: string;
  /** The API key and secret tokens are signed with. */
  apiKey: string;
  apiSecret: string;
  /** The only STUN server in the config (loopback, nothing listens there). */
  stunServers: string[];
}

/** A server started by {@link startLiveKit}. */
export interface LiveKitServer extends LiveKitInfo {
  /** The server's process id. */
  pid: number;
  /** Milliseconds from spawn to `GET /` answering. */
  startMs: number;
  /** The temp folder with the config and the log. */
  dataDir: string;
  /** Stops the server (SIGTERM, a second SIGTERM after 1 s, SIGKILL after 3 s more) and deletes its folder. */
  stop(): Promise<void>;
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const API_KEY = "devkey";
const API_SECRET = "secret-only-for-the-local-test-server"; // LiveKit wants >= 32 characters outside --dev

/** Runs `scripts/livekit/provision.sh` (a no-op when the binary is cached) and returns the binary's path. */
export async function provisionLiveKit(): Promise<string> {
  const script = join(REPO, "scripts/livekit/provision.sh");
  try {
    const { stdout } = await promisify(execFile)("bash", [script], {
      cwd: REPO,
      maxBuffer: 16 * 1024 * 1024,
    });
    const bin = stdout.trim().split("\n").pop();
    if (bin === undefined || bin === "") {
      throw new Error("provision.sh printed no binary path");
    }
    return bin;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`LiveKit provisioning failed (${script}):\n${stderr || String(error)}`, { cause: error });
  }
}

/** A UDP port that was free a moment ago on 127.0.0.1. */
export async function freeUdpPort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const socket = createSocket("udp4");
    socket.once("error", reject);
    socket.bind(0, "127.0.0.1", () => {
      const { port } = socket.address();
      socket.close(() => {
        resolvePort(port);
      });
    });
  });
}

/** The ports the server listens on. */
export interface LiveKitPorts {
  http: number;
  rtcTcp: number;
  rtcUdp: number;
}

/**
 * The server config (JSON, which is YAML). Every rtc setting matters: without `stun_servers` the server hands clients
 * Google's public STUN servers; without `use_external_ip: false` it looks its public address up over STUN at start-up;
 * `node_ip` and the loopback interface make it advertise 127.0.0.1 only. TURN is off.
 */
export function livekitConfig(ports: LiveKitPorts, stunServers: string[]): object {
  return {
    port: ports.http,
    bind_addresses: ["127.0.0.1"],
    keys: { [API_KEY]: API_SECRET },
    log_level: "info",
    rtc: {
      tcp_port: ports.rtcTcp,
      udp_port: ports.rtcUdp,
      node_ip: "127.0.0.1",
      use_external_ip: false,
      enable_loopback_candidate: true,
      interfaces: { includes: ["lo"] },
      stun_servers: stunServers,
    },
    turn: { enabled: false },
    room: { empty_timeout: 30, departure_timeout: 5 },
  };
}

/**
 * setpriv(1) delivers SIGKILL to the server if our process dies without cleaning up (PR_SET_PDEATHSIG): nobody is left
 * to wait for a graceful shutdown, and one SIGTERM alone can leave the server draining for many seconds.
 */
function launcher(bin: string, args: string[]): { command: string; args: string[] } {
  const setpriv = spawnSync("setpriv", ["--help"], { encoding: "utf8" });
  if (setpriv.status === 0 && setpriv.stdout.includes("--pdeathsig")) {
    return { command: "setpriv", args: ["--pdeathsig", "KILL", "--", bin, ...args] };
  }
  return { command: bin, args };
}

/** Writes a config into a fresh temp folder, starts the server and waits until `GET /` answers. */
export async function startLiveKit(
  bin: string,
  opts: { startTimeoutMs?: number } = {},
): Promise<LiveKitServer> {
  const dataDir = mkdtempSync(join(tmpdir(), "famedly-calls-livekit-"));
  const ports: LiveKitPorts = {
    http: await freePort(),
    rtcTcp: await freePort(),
    rtcUdp: await freeUdpPort(),
  };
  const stunServers = ["127.0.0.1:3478"];
  const configPath = join(dataDir, "livekit.yaml");
  writeFileSync(configPath, JSON.stringify(livekitConfig(ports, stunServers), null, 2));
  const logPath = join(dataDir, "livekit.log");
  const logFd = openSync(logPath, "a");
  const started = Date.now();
  const { command, args } = launcher(bin, ["--config", configPath]);
  const child = spawn(command, args, { cwd: dataDir, stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  const exited = new Promise<number | null>((resolveExit) => {
    child.once("exit", (code) => {
      resolveExit(code);
    });
  });
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.on("exit", killOnExit);
  let stopped = false;
  const stop = async (keepData = false): Promise<void> => {
    if (!stopped) {
      stopped = true;
      process.off("exit", killOnExit);
      await terminate(child, exited);
    }
    if (!keepData) {
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const httpUrl = `http://127.0.0.1:${ports.http}`;
  try {
    await waitForOk(httpUrl, exited, opts.startTimeoutMs ?? 20_000);
  } catch (error) {
    await stop(true);
    throw new Error(`${(error as Error).message}\n--- ${logPath} (last lines) ---\n${tail(logPath, 40)}`, {
      cause: error,
    });
  }
  return {
    wsUrl: `ws://127.0.0.1:${ports.http}`,
    httpUrl,
    apiKey: API_KEY,
    apiSecret: API_SECRET,
    stunServers,
    pid: child.pid ?? -1,
    startMs: Date.now() - started,
    dataDir,
    stop: () => stop(),
  };
}

async function waitForOk(httpUrl: string, exited: Promise<number | null>, timeoutMs: number): Promise<void> {
  let exitCode: number | null | undefined;
  void exited.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exitCode !== undefined) {
      throw new Error(`livekit-server exited during start-up (code ${String(exitCode)})`);
    }
    // A ref'd timer, not AbortSignal.timeout: that one is unref'd, so in a process with nothing else to keep it up (the
    // server.test.ts fixture) the event loop could empty while a fetch waits, and Node exits 13 mid-start-up.
    const abort = new AbortController();
    const timer = setTimeout(() => {
      abort.abort();
    }, 2_000);
    try {
      const response = await fetch(`${httpUrl}/`, { signal: abort.signal });
      if (response.ok) {
        return;
      }
    } catch {
      // not listening yet
    } finally {
      clearTimeout(timer);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`livekit-server did not answer within ${timeoutMs} ms`);
}

/**
 * SIGTERM; the server then drains (in 5 s steps while participants are connected, sometimes also without), so a second
 * SIGTERM after 1 s forces it, and SIGKILL after 3 s more is the last resort.
 */
async function terminate(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const after = (ms: number): Promise<"timeout"> =>
    new Promise((r) => {
      setTimeout(() => {
        r("timeout");
      }, ms).unref();
    });
  child.kill("SIGTERM");
  if ((await Promise.race([exited, after(1_000)])) !== "timeout") {
    return;
  }
  child.kill("SIGTERM"); // the second one forces the shutdown
  if ((await Promise.race([exited, after(3_000)])) === "timeout") {
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
