// Mesh setup benchmark: N members call enter() together (t0) until every pair is connected on both sides (t1),
// over LocalHomeserver with real media; beside it the limit row: the same N·(N−1)/2 bare peer connections with the
// same media, signalled in memory, in the same run.
import { cpus } from "node:os";
import { performance } from "node:perf_hooks";
import { CallState, MeshBackend, VoIP, type GroupCallSession } from "../src/index.js";
import { createNodeDelegate } from "../src/node/index.js";
import { LocalHomeserver } from "../src/testing/index.js";
import { MeshTimeline, traceMeshPort, type PairPhase } from "./meshTimeline.js";
import { median } from "./stats.js";

/** One row: N members, audio only or with video. */
export interface MeshSetupRow {
  members: number;
  video: boolean;
  runs: number;
  /** enter() together → every pair connected on both sides: median ms. */
  p50Ms: number;
  /** The same connections, bare peer connections signalled in memory: median ms. */
  limitP50Ms: number;
  /** p50 / limit p50. */
  ratio: number;
  /** To-device messages sent per member's join (median over runs). */
  toDevicePerJoin: number;
  /** Process CPU over the mesh setup, as % of all cores (median). */
  cpuPercent: number;
  /** Where the time went in the median run: per phase, the median pair and the last pair (ms after t0). */
  phases: { phase: PairPhase; medianMs: number; maxMs: number }[];
}

interface MeshRunResult {
  ms: number;
  toDevice: number;
  cpu: number;
  phases: MeshRowPhases;
}
type MeshRowPhases = MeshSetupRow["phases"];

const VIDEO = { width: 320, height: 240, fps: 15 };

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
        createNodeDelegate({ video: video ? VIDEO : false }),
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
  const delegates = Array.from({ length: n }, () => createNodeDelegate({ video: video ? VIDEO : false }));
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

/** Measures every (N, video) row: `runs` mesh runs and `runs` limit runs each, alternating. */
export async function measureMeshSetup(
  sizes: readonly number[] = [2, 4, 6, 8],
  runs = 5,
  onRun: (what: string) => void = () => undefined,
): Promise<MeshSetupRow[]> {
  const rows: MeshSetupRow[] = [];
  for (const video of [false, true]) {
    for (const n of sizes) {
      const mesh: MeshRunResult[] = [];
      const limit: number[] = [];
      for (let r = 0; r < runs; r++) {
        mesh.push(await meshRun(n, video));
        limit.push(await limitRun(n, video));
        onRun(".");
      }
      const p50Ms = median(mesh.map((m) => m.ms));
      const limitP50Ms = median(limit);
      rows.push({
        members: n,
        video,
        runs,
        p50Ms,
        limitP50Ms,
        ratio: p50Ms / limitP50Ms,
        toDevicePerJoin: median(mesh.map((m) => m.toDevice)),
        cpuPercent: median(mesh.map((m) => m.cpu)),
        phases: medianRun(mesh).phases,
      });
    }
  }
  return rows;
}

/** The run whose time is the median (the lower middle one for an even count). */
function medianRun(runs: readonly MeshRunResult[]): MeshRunResult {
  const sorted = [...runs].sort((a, b) => a.ms - b.ms);
  const run = sorted[Math.floor((sorted.length - 1) / 2)];
  if (!run) {
    throw new Error("no mesh runs");
  }
  return run;
}

/** The table rows of {@link measureMeshSetup}. */
export function formatMeshSetup(rows: readonly MeshSetupRow[]): string[] {
  const lines = [
    "mesh setup: N members enter() together → every pair connected on both sides (median of runs); limit: bare",
    "peer connections for the same pairs with the same media, signalled in memory, in the same run",
    "",
    "| N | media | p50 ms | limit p50 ms | ratio | to-device per join | CPU % of all cores |",
    "|---:|---|---:|---:|---:|---:|---:|",
  ];
  for (const r of rows) {
    lines.push(
      `| ${r.members} | ${r.video ? "audio + video" : "audio"} | ${r.p50Ms.toFixed(1)} | ${r.limitP50Ms.toFixed(1)} | ${r.ratio.toFixed(2)} | ${r.toDevicePerJoin.toFixed(1)} | ${r.cpuPercent.toFixed(0)} |`,
    );
  }
  lines.push(
    "",
    "where the time goes (the median run of each row; ms after enter(), median pair / last pair):",
  );
  for (const r of rows) {
    lines.push("", `  N = ${r.members}, ${r.video ? "audio + video" : "audio"}`);
    for (const p of r.phases) {
      lines.push(`    ${p.medianMs.toFixed(1).padStart(8)} / ${p.maxMs.toFixed(1).padStart(8)}  ${p.phase}`);
    }
  }
  return lines;
}
