// One run of the mesh setup benchmark and one of its limit: N members call enter() together (t0) until every pair is
// connected on both sides (t1), over LocalHomeserver with real media; the limit: the same N·(N−1)/2 bare peer
// connections with the same media, signalled in memory.
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { CallState, MeshBackend, VoIP, type GroupCallSession } from "../src/index.js";
import { createNodeDelegate } from "../src/node/index.js";
import { LocalHomeserver } from "../src/testing/index.js";
import { MeshTimeline, traceMeshPort, type PhaseSummary } from "./meshTimeline.js";

/** One mesh run. */
export interface MeshRunResult {
  /** t0 → t1, ms. */
  ms: number;
  /** To-device messages sent per member's join. */
  toDevice: number;
  /** Process CPU over the setup, % of all cores. */
  cpu: number;
  /** Where the time went. */
  phases: PhaseSummary[];
}

/** The camera of every mesh benchmark member. */
export const MESH_VIDEO = { width: 320, height: 240, fps: 15 };

async function waitUntil(
  predicate: () => boolean,
  timeoutMs: number,
  what: string,
  describe: () => string = () => "",
): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!predicate()) {
    if (performance.now() > end) {
      throw new Error(`timed out waiting for ${what}${describe()}`);
    }
    await new Promise((r) => setTimeout(r, 2));
  }
}

export async function meshRun(n: number, video: boolean): Promise<MeshRunResult> {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const users = Array.from({ length: n }, (_, i) => `@m${i}:local`);
  const roomId = await hs.createRoom({
    creator: users[0] ?? "@m0:local",
    members: users.slice(1),
    powerLevels: { events: { "com.famedly.call.member": 0 } },
  });
  const timeline = new MeshTimeline();
  const voips = users.map(
    (u, i) =>
      new VoIP(
        traceMeshPort(hs.createClient(u, `D${i}`), timeline),
        createNodeDelegate({ video: video ? MESH_VIDEO : false }),
      ),
  );
  try {
    const groups: GroupCallSession[] = [];
    for (const voip of voips) {
      groups.push(await voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend()));
    }
    groups.forEach((g, i) => {
      timeline.watch(g, users[i] ?? "");
    });
    const before = hs.transcript().filter((e) => e.kind === "toDevice").length;
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    timeline.start();
    await Promise.all(groups.map((g) => g.enter()));
    await waitUntil(
      () => groups.every((g) => g.calls.filter((leg) => leg.state === CallState.Connected).length === n - 1),
      30_000,
      `a full mesh of ${n}`,
      () => `\n${timeline.describe(groups, users)}`,
    );
    const ms = performance.now() - t0;
    const used = process.cpuUsage(cpu0);
    const toDevice = hs.transcript().filter((e) => e.kind === "toDevice").length - before;
    return {
      ms,
      toDevice: toDevice / n,
      cpu: ((used.user + used.system) / 1000 / ms / cpus().length) * 100,
      phases: timeline.summary(),
    };
  } finally {
    await Promise.allSettled(voips.map((v) => v.dispose()));
    await hs.close();
  }
}

/** The limit: bare peer connections for every pair with the same media, offer/answer and candidates in memory. */
export async function limitRun(n: number, video: boolean): Promise<number> {
  const delegates = Array.from({ length: n }, () =>
    createNodeDelegate({ video: video ? MESH_VIDEO : false }),
  );
  const streams = await Promise.all(
    delegates.map((d) => d.mediaDevices.getUserMedia({ audio: true, video: video })),
  );
  const pcs: RTCPeerConnection[] = [];
  try {
    const t0 = performance.now();
    const pairs: Promise<void>[] = [];
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        pairs.push(
          (async () => {
            const a = await delegates[i]!.createPeerConnection({ iceServers: [] });
            const b = await delegates[j]!.createPeerConnection({ iceServers: [] });
            pcs.push(a, b);
            a.onicecandidate = (e) =>
              void (e.candidate && b.addIceCandidate(e.candidate).catch(() => undefined));
            b.onicecandidate = (e) =>
              void (e.candidate && a.addIceCandidate(e.candidate).catch(() => undefined));
            for (const [pc, stream] of [
              [a, streams[i]!.clone()],
              [b, streams[j]!.clone()],
            ] as const) {
              for (const track of stream.getTracks()) {
                pc.addTrack(track, stream);
              }
            }
            const offer = await a.createOffer();
            await a.setLocalDescription(offer);
            await b.setRemoteDescription(offer);
            const answer = await b.createAnswer();
            await b.setLocalDescription(answer);
            await a.setRemoteDescription(answer);
            const connected = (pc: RTCPeerConnection) =>
              pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed";
            await waitUntil(() => connected(a) && connected(b), 30_000, "a bare pair");
          })(),
        );
      }
    }
    await Promise.all(pairs);
    return performance.now() - t0;
  } finally {
    for (const pc of pcs) {
      for (const sender of pc.getSenders()) {
        sender.track?.stop();
      }
      pc.close();
    }
    for (const stream of streams) {
      for (const track of stream.getTracks()) {
        track.stop();
      }
    }
  }
}
