// Membership processing: N `com.famedly.call.member` state events, one per sync batch, through `VoIP`'s sync
// handler, with the call's session tracking them. A synthetic port (no homeserver) so that only the library's work is timed.
import { performance } from "node:perf_hooks";
import {
  MeshBackend,
  VoIP,
  type MatrixClientPort,
  type StateEvent,
  type SyncBatch,
  type WebRTCDelegate,
} from "../src/index.js";
import { ManualClock } from "../src/testing/index.js";
import { median } from "./stats.js";

/** The result of one run. */
export interface MembershipResult {
  /** State events processed. */
  events: number;
  /** Total wall time in the sync handler (ms). */
  totalMs: number;
  /**
   * CPU time of the process over the same loop (ms, user + system): what the processing costs, without the time
   * other processes of a shared machine took the CPU.
   */
  cpuMs: number;
  /** Mean per event (µs). */
  perEventUs: number;
  /** Participants of the call at the end (ours included). */
  participants: number;
  /** Time of each tenth of the events (ms), to show the cost does not grow with the room. */
  tenthsMs: number[];
}

const ROOM = "!bench:local";
const ME = "@me:local";

/**
 * Processes `events` membership state events: device i of user `@u<i>` joins the call (each from its own user, so
 * every event touches a new state key), every tenth event refreshes an earlier member instead. Our device has the
 * call's session (not entered), with a listener on `participantsJoined`.
 */
export async function measureMembershipEvents(events: number): Promise<MembershipResult> {
  const clock = new ManualClock();
  const users = Array.from({ length: events }, (_, i) => `@u${i}:local`);
  let listener: ((batch: SyncBatch) => void | Promise<void>) | undefined;
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
  const port: MatrixClientPort = {
    userId: ME,
    deviceId: "ME",
    onSync: (l) => {
      listener = l;
      return () => undefined;
    },
    getJoinedRoomIds: () => [ROOM],
    getRoom: () => ({
      roomId: ROOM,
      encrypted: false,
      isDirect: false,
      roomVersion: "10",
      myMembership: "join",
      joinedMembers: [ME],
      powerLevels: { users_default: 0, state_default: 0 },
    }),
    getStateEvents: (_roomId, type) => (type === "m.room.member" ? roomState : []),
    sendRoomEvent: () => Promise.resolve({ eventId: `$r${seq++}` }),
    sendStateEvent: () => Promise.resolve({ eventId: `$s${seq++}` }),
    updateDelayedEvent: () => Promise.resolve(),
    listDelayedEvents: () => Promise.resolve([]),
    redactEvent: () => Promise.resolve({ eventId: `$x${seq++}` }),
    getRelations: () => Promise.resolve([]),
    sendToDevice: () => Promise.resolve(),
    canEncryptToDevice: () => false,
    getTurnServers: () => Promise.resolve(undefined),
    getServerFeatures: () => Promise.resolve({ delayedEvents: false }),
  };
  const delegate: WebRTCDelegate = {
    mediaDevices: { getUserMedia: () => Promise.reject(new Error("no media in this benchmark")) },
    createPeerConnection: () => {
      throw new Error("no peer connections in this benchmark");
    },
    isWeb: false,
  };
  const voip = new VoIP(port, delegate, { clock });
  // Not entered: the mesh backend would place a call to every member; this measures the membership path alone.
  const group = await voip.fetchOrCreateGroupCall(ROOM, ROOM, new MeshBackend());
  let joined = 0;
  group.on("participantsJoined", (participants) => {
    joined += participants.length;
  });
  const handle = listener;
  if (handle === undefined) {
    throw new Error("VoIP did not subscribe to sync");
  }
  let totalMs = 0;
  const tenthsMs = Array.from({ length: 10 }, () => 0);
  const cpuStart = process.cpuUsage();
  for (let i = 0; i < events; i++) {
    const refresh = i % 10 === 9;
    const userId = users[refresh ? i - 5 : i] ?? ME;
    const deviceId = `D${refresh ? i - 5 : i}`;
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
            device_id: deviceId,
            expires_ts: clock.now() + 360_000 + i,
            membershipID: `session-${i}`,
            feeds: [{ purpose: "m.usermedia" }],
          },
        ],
      },
      originServerTs: clock.now(),
    };
    const batch: SyncBatch = {
      rooms: [{ roomId: ROOM, initial: false, timeline: [], state: [event] }],
      toDevice: [],
    };
    const start = performance.now();
    await handle(batch);
    const elapsed = performance.now() - start;
    totalMs += elapsed;
    tenthsMs[Math.floor((i * 10) / events)]! += elapsed;
  }
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
    perEventUs: (totalMs / events) * 1000,
    participants,
    tenthsMs,
  };
}

/** Medians of repeated runs at two sizes, and how the larger compares. */
export interface MembershipBench {
  /**
   * One entry per size: the best and the median total over `repeats` runs, and every run's total. The best run is
   * the cost without interference (other processes on a shared machine, a major GC landing in one run).
   */
  sizes: {
    events: number;
    minMs: number;
    medianMs: number;
    /** Best CPU time (ms) over the runs. */
    minCpuMs: number;
    perEventUs: number;
    samplesMs: number[];
  }[];
  /** min(large) / min(small) of wall time: linear processing gives about large/small. */
  ratio: number;
  /** The same ratio of CPU time. */
  cpuRatio: number;
}

/**
 * Runs {@link measureMembershipEvents} `repeats` times per size, alternating the sizes, after four warm-up runs of
 * the large size (so both sizes run optimised code).
 */
export async function benchMembershipEvents(
  small = 1_000,
  large = 10_000,
  repeats = 7,
): Promise<MembershipBench> {
  for (let i = 0; i < 4; i++) {
    await measureMembershipEvents(large);
  }
  const samples = new Map<number, { wall: number[]; cpu: number[] }>([
    [small, { wall: [], cpu: [] }],
    [large, { wall: [], cpu: [] }],
  ]);
  for (let i = 0; i < repeats; i++) {
    for (const events of [small, large]) {
      const result = await measureMembershipEvents(events);
      samples.get(events)?.wall.push(result.totalMs);
      samples.get(events)?.cpu.push(result.cpuMs);
    }
  }
  const sizes = [...samples].map(([events, { wall, cpu }]) => {
    const minMs = Math.min(...wall);
    return {
      events,
      minMs,
      medianMs: median(wall),
      minCpuMs: Math.min(...cpu),
      perEventUs: (minMs / events) * 1000,
      samplesMs: wall,
    };
  });
  const [a, b] = sizes;
  return {
    sizes,
    ratio: (b?.minMs ?? NaN) / (a?.minMs ?? NaN),
    cpuRatio: (b?.minCpuMs ?? NaN) / (a?.minCpuMs ?? NaN),
  };
}
