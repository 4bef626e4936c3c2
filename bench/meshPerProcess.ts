// The mesh setup benchmark with one process per member, as participants run on their own devices: the parent
// hosts the LocalHomeserver (every member's port is served over IPC, bench/memberPort.ts) and relays the limit
// row's signalling. t0: the parent tells every member to enter() (or, for the limit, to start offering); t1: the
// last member has every leg connected (each member reports a `process.hrtime` time, one clock for all processes
// on this machine). CPU: the members' and the parent's, as % of all cores.
import { fork, type ChildProcess } from "node:child_process";
import { cpus } from "node:os";
import { fileURLToPath } from "node:url";
import type { MatrixClientPort } from "../src/index.js";
import { LocalHomeserver } from "../src/testing/index.js";
import type { FromMember, PortErrorData, ToMember } from "./memberWire.js";
import { mergePairs, summarizePairs, type PairPhase, type PhaseSummary } from "./meshTimeline.js";

/** One run: t0 → t1 in ms, to-device messages per join (mesh only), CPU % of all cores. */
export interface PerProcessRun {
  ms: number;
  toDevice: number;
  cpu: number;
  /** Mesh runs: where the time went, from every member's marks. */
  phases: PhaseSummary[];
}

/** A member process and who listens to it. */
interface Member {
  child: ChildProcess;
  /** The current run's handler of this member's messages. */
  onMessage: (message: FromMember) => void;
  exited: string | undefined;
}

/** How long a member may take to come up, to set a run up or to tear it down. */
const STEP_TIMEOUT_MS = 60_000;
/** How long the members may take from t0 to all connected (they time out themselves after 30 s). */
const RUN_TIMEOUT_MS = 45_000;

/** N member processes for one (N, media) row; reused by the row's runs; `close()` ends them. */
export class MemberProcesses {
  readonly #members: Member[];
  #failure: ((reason: string) => void) | undefined;

  private constructor(members: Member[]) {
    this.#members = members;
  }

  /** Forks `n` members (with this process's loader, e.g. tsx) and waits until each is up. */
  public static async start(n: number, video: boolean): Promise<MemberProcesses> {
    const entry = fileURLToPath(new URL("./memberMain.ts", import.meta.url));
    const members: Member[] = Array.from({ length: n }, () => {
      const child = fork(entry, [video ? "video" : "audio"], {
        stdio: ["ignore", "ignore", "inherit", "ipc"],
        serialization: "advanced",
        ...(process.env.MEMBER_PROF
          ? { execArgv: [...process.execArgv, "--cpu-prof", `--cpu-prof-dir=${process.env.MEMBER_PROF}`] }
          : {}),
      });
      const member: Member = { child, onMessage: () => undefined, exited: undefined };
      child.on("message", (message: FromMember) => {
        member.onMessage(message);
      });
      return member;
    });
    const processes = new MemberProcesses(members);
    for (const member of members) {
      member.child.on("exit", (code, signal) => {
        member.exited = `a member process exited (${signal ?? `code ${String(code)}`})`;
        processes.#failure?.(member.exited);
      });
    }
    await processes.#all("up", () => undefined);
    return processes;
  }

  /** One mesh run over a fresh LocalHomeserver and room. */
  public async meshRun(): Promise<PerProcessRun> {
    const n = this.#members.length;
    const hs = new LocalHomeserver();
    hs.setTurnServers(undefined);
    const users = Array.from({ length: n }, (_, i) => `@m${i}:local`);
    const devices = users.map((_, i) => `D${i}`);
    const roomId = await hs.createRoom({
      creator: users[0] ?? "@m0:local",
      members: users.slice(1),
      powerLevels: { events: { "com.famedly.call.member": 0 } },
    });
    const clients = users.map((u, i) => hs.createClient(u, devices[i] ?? ""));
    const unsubscribe: (() => void)[] = [];
    try {
      this.#members.forEach((member, i) => {
        const client = clients[i]!;
        member.onMessage = (message) => {
          serve(member, client, message, unsubscribe);
        };
      });
      await this.#all("ready", (i) => {
        const self = clients[i]!;
        const encryptable = users.flatMap((u, j) =>
          self.canEncryptToDevice(u, devices[j] ?? "") ? [`${u}|${devices[j] ?? ""}`] : [],
        );
        return {
          kind: "meshSetup",
          userId: users[i] ?? "",
          deviceId: devices[i] ?? "",
          roomId,
          members: n,
          encryptable,
        };
      });
      const before = hs.transcript().filter((e) => e.kind === "toDevice").length;
      const run = await this.#timed({ kind: "enter" });
      const toDevice = hs.transcript().filter((e) => e.kind === "toDevice").length - before;
      return { ...run, toDevice: toDevice / n };
    } finally {
      await this.#all("down", () => ({ kind: "teardown" })).catch(() => undefined);
      for (const stop of unsubscribe) {
        stop();
      }
      await hs.close();
    }
  }

  /** One limit run: bare peer connections between every pair of members, signalling relayed by this process. */
  public async limitRun(): Promise<PerProcessRun> {
    const n = this.#members.length;
    try {
      this.#members.forEach((member, i) => {
        member.onMessage = (message) => {
          if (message.kind === "signal") {
            this.#members[message.to]?.child.send({
              kind: "signal",
              from: i,
              signal: message.signal,
            } satisfies ToMember);
          }
        };
      });
      await this.#all("ready", (index) => ({ kind: "limitSetup", index, members: n }));
      return await this.#timed({ kind: "limitStart" });
    } finally {
      await this.#all("down", () => ({ kind: "teardown" })).catch(() => undefined);
    }
  }

  /** Ends every member process: disconnected, they exit; one still there after 5 s is killed. */
  public async close(): Promise<void> {
    await Promise.all(
      this.#members.map(async ({ child }) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          return;
        }
        const exited = new Promise((resolve) => child.once("exit", resolve));
        child.disconnect();
        const killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
        await exited;
        clearTimeout(killer);
      }),
    );
  }

  /** Sends `start` to every member (t0) and waits for every "connected" (t1 is the latest). */
  async #timed(start: ToMember): Promise<PerProcessRun> {
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    let t1 = t0;
    let memberCpuMs = 0;
    const reports: Record<string, Partial<Record<PairPhase, number>>>[] = [];
    await this.#all(
      "connected",
      () => start,
      (message) => {
        if (message.kind === "connected") {
          const at = BigInt(message.at);
          t1 = at > t1 ? at : t1;
          memberCpuMs += message.cpuMs;
          if (message.pairs) {
            reports.push(message.pairs);
          }
        }
      },
      RUN_TIMEOUT_MS,
    );
    const ms = Number(t1 - t0) / 1e6;
    const own = process.cpuUsage(cpu0);
    const cpuMs = memberCpuMs + (own.user + own.system) / 1000;
    return {
      ms,
      toDevice: 0,
      cpu: (cpuMs / ms / cpus().length) * 100,
      phases: summarizePairs(mergePairs(reports)),
    };
  }

  /**
   * Sends each member what `message(i)` returns (unless undefined) and waits until every member answered `kind`;
   * rejects on "failed", on a member's exit and after `timeoutMs`. Other messages go to the member's handler.
   */
  #all(
    kind: FromMember["kind"],
    message: (i: number) => ToMember | undefined,
    onAnswer: (m: FromMember) => void = () => undefined,
    timeoutMs = STEP_TIMEOUT_MS,
  ): Promise<void> {
    const dead = this.#members.find((m) => m.exited !== undefined);
    if (dead) {
      return Promise.reject(new Error(dead.exited));
    }
    return new Promise<void>((resolve, reject) => {
      let waiting = this.#members.length;
      const timer = setTimeout(() => {
        finish(new Error(`${waiting} member(s) did not answer "${kind}" within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      const handlers = this.#members.map((m) => m.onMessage);
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        this.#failure = undefined;
        this.#members.forEach((m, i) => {
          m.onMessage = handlers[i] ?? (() => undefined);
        });
        if (error) {
          reject(error);
        } else {
          resolve();
        }
      };
      this.#failure = (reason) => {
        finish(new Error(reason));
      };
      this.#members.forEach((member, i) => {
        const previous = handlers[i] ?? (() => undefined);
        member.onMessage = (m) => {
          if (m.kind === "failed") {
            finish(new Error(`member ${i}: ${m.error}`));
          } else if (m.kind === kind) {
            onAnswer(m);
            if (--waiting === 0) {
              finish();
            }
          } else {
            previous(m);
          }
        };
        const out = message(i);
        if (out) {
          member.child.send(out);
        }
      });
    });
  }
}

/** Serves one member's port requests and sync subscription from its LocalClient. */
function serve(
  member: Member,
  client: MatrixClientPort,
  message: FromMember,
  unsubscribe: (() => void)[],
): void {
  if (message.kind === "subscribe") {
    unsubscribe.push(
      client.onSync((batch) => {
        member.child.send({ kind: "sync", batch } satisfies ToMember);
      }),
    );
  } else if (message.kind === "call") {
    const method = client[message.method].bind(client) as (...args: unknown[]) => Promise<unknown>;
    method(...message.args).then(
      (value) => member.child.send({ kind: "reply", id: message.id, value } satisfies ToMember),
      (error: unknown) =>
        member.child.send({ kind: "reply", id: message.id, error: errorData(error) } satisfies ToMember),
    );
  }
}

function errorData(error: unknown): PortErrorData {
  const e = error as Partial<PortErrorData> & { message?: string };
  return {
    message: typeof e.message === "string" ? e.message : String(error),
    ...(typeof e.errcode === "string" ? { errcode: e.errcode } : {}),
    ...(typeof e.httpStatus === "number" ? { httpStatus: e.httpStatus } : {}),
    ...(typeof e.retryAfterMs === "number" ? { retryAfterMs: e.retryAfterMs } : {}),
  };
}
