// Membership processing: N `com.famedly.call.member` state events, one per sync batch, through `VoIP`'s sync
// handler, with the call's session tracking them. A synthetic port (no homeserver) so that only the library's work is timed.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { performance } from "node:perf_hooks";
import { MeshBackend, VoIP, type StateEvent, type SyncBatch } from "../src/index.js";
import { ManualClock } from "../src/testing/index.js";
import { fixedRoomPort, noMediaDelegate } from "./fixedRoomPort.js";
import { median } from "./stats.js";

/** `globalThis.gc` under `--expose-gc`: a full collection, or a scavenge of the young generation only. */
type GcFunction = (options?: { type?: "major" | "minor" }) => void;

/** The result of one run. */
export interface MembershipResult {
  /** State events processed. */
  events: number;
  /**
   * Wall time (ms) from the first event handed to the sync handler until the last one was handled, plus a scavenge
   * of the young generation at the end when `gc` was given (so that each run pays for collecting its own garbage).
   */
  totalMs: number;
  /**
   * CPU time of the process over the same span (ms, user + system, every thread: V8's GC helper threads
   * included): what the processing costs, without the time other processes of a shared machine took the CPU.
   */
  cpuMs: number;
  /** Wall time (ms) of the events alone, without the scavenge at the end. */
  loopMs: number;
  /** CPU time (ms) of the events alone. */
  loopCpuMs: number;
  /** Mean wall time per event (µs). */
  perEventUs: number;
  /** Participants of the call at the end (ours included). */
  participants: number;
  /** Wall time of each tenth of the events (ms), to show the cost does not grow with the room. */
  tenthsMs: number[];
}

const ROOM = "!bench:local";
const ME = "@me:local";

/**
 * Processes `events` membership state events: device i of user `@u<i>` joins the call (each from its own user, so
 * every event touches a new state key), every tenth event refreshes an earlier member instead. Our device has the
 * call's session (not entered), with a listener on `participantsJoined`. The sync batches are built before the
 * clock starts; with `gc`, a full collection runs (and settles) before it starts and a scavenge before it stops.
 */
export async function measureMembershipEvents(events: number, gc?: GcFunction): Promise<MembershipResult> {
  const clock = new ManualClock();
  const users = Array.from({ length: events }, (_, i) => `@u${i}:local`);
  let seq = 0;
  const memberEvent = (userId: string): StateEvent => ({
    eventId: `$m${seq++}`,
    roomId: ROOM,
    type: "m.room.member",
    sender: userId,
    stateKey: userId,
    content: { membership: "join" },
    originServerTs: clock.now(),
  });
  const roomState = [ME, ...users].map(memberEvent);
  const { port, listener } = fixedRoomPort({
    roomId: ROOM,
    userId: ME,
    stateEvents: (type) => (type === "m.room.member" ? roomState : []),
  });
  const delegate = noMediaDelegate("benchmark");
  const voip = new VoIP(port, delegate, { clock });
  // Not entered: the mesh backend would place a call to every member; this measures the membership path alone.
  const group = await voip.fetchOrCreateGroupCall(ROOM, ROOM, new MeshBackend());
  let joined = 0;
  group.on("participantsJoined", (participants) => {
    joined += participants.length;
  });
  const handle = listener();
  if (handle === undefined) {
    throw new Error("VoIP did not subscribe to sync");
  }
  const batches = Array.from({ length: events }, (_, i): SyncBatch => {
    const refresh = i % 10 === 9;
    const userId = users[refresh ? i - 5 : i] ?? ME;
    const event: StateEvent = {
      eventId: `$e${seq++}`,
      roomId: ROOM,
      type: "com.famedly.call.member",
      sender: userId,
      stateKey: userId,
      content: {
        memberships: [
          {
            call_id: ROOM,
            application: "m.call",
            scope: "m.room",
            foci_active: [{ type: "mesh" }],
            device_id: `D${refresh ? i - 5 : i}`,
            expires_ts: clock.now() + 360_000 + i,
            membershipID: `session-${i}`,
            feeds: [{ purpose: "m.usermedia" }],
          },
        ],
      },
      originServerTs: clock.now(),
    };
    return { rooms: [{ roomId: ROOM, initial: false, timeline: [], state: [event] }], toDevice: [] };
  });
  const tenthsMs: number[] = [];
  if (gc !== undefined) {
    gc();
    // Let V8 finish sweeping on its helper threads: that CPU time belongs to the previous run, not to this one.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const cpuStart = process.cpuUsage();
  const start = performance.now();
  let tenthStart = start;
  for (let i = 0; i < events; i++) {
    await handle(batches[i]!);
    if (Math.floor(((i + 1) * 10) / events) > tenthsMs.length) {
      const now = performance.now();
      tenthsMs.push(now - tenthStart);
      tenthStart = now;
    }
  }
  const loopMs = performance.now() - start;
  const loopCpu = process.cpuUsage(cpuStart);
  gc?.({ type: "minor" });
  const totalMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuStart);
  const participants = group.participants.length;
  await voip.dispose();
  if (joined === 0) {
    throw new Error("no participant joined: the benchmark measured nothing");
  }
  return {
    events,
    totalMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    loopMs,
    loopCpuMs: (loopCpu.user + loopCpu.system) / 1000,
    perEventUs: (totalMs / events) * 1000,
    participants,
    tenthsMs,
  };
}

/** One size over the repeated runs. */
export interface MembershipSize {
  /** State events per run. */
  events: number;
  /** Median wall time of a run (ms). */
  medianMs: number;
  /** Best (lowest) wall time of a run (ms). */
  minMs: number;
  /** Median process CPU time of a run (ms). */
  medianCpuMs: number;
  /** Best process CPU time of a run (ms). */
  minCpuMs: number;
  /** Median wall time per event (µs). */
  perEventUs: number;
  /** Median wall time (ms) of the events alone, without the closing scavenge. */
  medianLoopMs: number;
  /** Median CPU time (ms) of the events alone. */
  medianLoopCpuMs: number;
  /** Every run's wall time (ms), in run order. */
  samplesMs: number[];
  /** Every run's CPU time (ms), in run order. */
  samplesCpuMs: number[];
}

/** Repeated runs at two sizes, and how the larger compares. */
export interface MembershipBench {
  /** Whether each run started after a full GC and ended with a scavenge (`--expose-gc`, in a child if needed). */
  gcControlled: boolean;
  /** Runs per size (after the warm-up runs). */
  repeats: number;
  /** The smaller size first. */
  sizes: MembershipSize[];
  /** median(large) / median(small) of wall time: linear processing gives about large / small. */
  ratio: number;
  /** The same ratio of CPU time. */
  cpuRatio: number;
  /** min(large) / min(small) of wall time. */
  bestRatio: number;
  /** median(large) / median(small) of the events' wall time alone (no closing scavenge in either). */
  loopRatio: number;
  /** The same of CPU time. */
  loopCpuRatio: number;
}

/**
 * Runs {@link measureMembershipEvents} `repeats` times per size, alternating the sizes, after four warm-up runs of
 * the large size (so both sizes run optimised code). Needs `gc` (`node --expose-gc`): without it the runs happen in
 * a child process started with that flag, so that the garbage of one run is never collected in the next one.
 */
export async function benchMembershipEvents(
  small = 1_000,
  large = 10_000,
  repeats = 9,
): Promise<MembershipBench> {
  const gc = (globalThis as { gc?: GcFunction }).gc;
  if (typeof gc !== "function") {
    return inChild(small, large, repeats);
  }
  for (let i = 0; i < 4; i++) {
    await measureMembershipEvents(large, gc);
  }
  const runs = new Map<number, MembershipResult[]>([
    [small, []],
    [large, []],
  ]);
  for (let i = 0; i < repeats; i++) {
    for (const events of [small, large]) {
      runs.get(events)?.push(await measureMembershipEvents(events, gc));
    }
  }
  const sizes = [...runs].map(([events, results]): MembershipSize => {
    const wall = results.map((r) => r.totalMs);
    const cpu = results.map((r) => r.cpuMs);
    return {
      events,
      medianMs: median(wall),
      minMs: Math.min(...wall),
      medianCpuMs: median(cpu),
      minCpuMs: Math.min(...cpu),
      perEventUs: (median(wall) / events) * 1000,
      medianLoopMs: median(results.map((r) => r.loopMs)),
      medianLoopCpuMs: median(results.map((r) => r.loopCpuMs)),
      samplesMs: wall,
      samplesCpuMs: cpu,
    };
  });
  const [a, b] = sizes;
  if (a === undefined || b === undefined) {
    throw new Error("two sizes expected");
  }
  return {
    gcControlled: true,
    repeats,
    sizes,
    ratio: b.medianMs / a.medianMs,
    cpuRatio: b.medianCpuMs / a.medianCpuMs,
    bestRatio: b.minMs / a.minMs,
    loopRatio: b.medianLoopMs / a.medianLoopMs,
    loopCpuRatio: b.medianLoopCpuMs / a.medianLoopCpuMs,
  };
}

/** Runs the benchmark in `node --expose-gc` (through tsx, as `npm run bench`) and reads its JSON line. */
async function inChild(small: number, large: number, repeats: number): Promise<MembershipBench> {
  const script = fileURLToPath(new URL("./membershipMain.ts", import.meta.url));
  const root = fileURLToPath(new URL("..", import.meta.url));
  const child = spawn(
    process.execPath,
    ["--expose-gc", "--import", "tsx", script, String(small), String(large), String(repeats)],
    { cwd: root, stdio: ["ignore", "pipe", "inherit"] },
  );
  let stdout = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on("error", reject).on("close", resolve);
  });
  const last = stdout.trim().split("\n").pop() ?? "";
  if (code !== 0 || last === "") {
    throw new Error(`the membership benchmark child exited with ${String(code)}`);
  }
  return JSON.parse(last) as MembershipBench;
}
