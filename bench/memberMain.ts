// One member process of the mesh benchmark's "one process per member" layout (bench/meshPerProcess.ts forks it):
// one participant with its own @roamhq/wrtc, as on a real device. In a mesh run it is a VoIP over the parent's
// LocalHomeserver (bench/memberPort.ts); in a limit run it holds bare peer connections to every other member,
// signalled through the parent.
// argv: video ("video" | "audio").
import { performance } from "node:perf_hooks";
import { CallState, MeshBackend, VoIP, type GroupCallSession } from "../src/index.js";
import { createNodeDelegate, installExitGuard } from "../src/node/index.js";
import { MemberPort } from "./memberPort.js";
import type { FromMember, LimitSignal, ToMember } from "./memberWire.js";
import { MESH_VIDEO } from "./meshRuns.js";
import { MeshTimeline, traceMeshPort } from "./meshTimeline.js";

/** A run that has not connected after this long fails. */
const CONNECT_TIMEOUT_MS = 30_000;

const video = process.argv[2] === "video";
const delegate = createNodeDelegate({ video: video ? MESH_VIDEO : false });

function send(message: FromMember): void {
  process.send?.(message);
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The current run's poller; cleared on teardown, so a run that failed elsewhere reports nothing later. */
let poller: ReturnType<typeof setTimeout> | undefined;

/** Polls `done` every 2 ms (as the one-process rows do) and reports "connected" or "failed". */
function reportWhenConnected(done: () => boolean, what: string, timeline?: MeshTimeline): void {
  const cpu0 = process.cpuUsage();
  const end = performance.now() + CONNECT_TIMEOUT_MS;
  const poll = (): void => {
    if (done()) {
      const cpu = process.cpuUsage(cpu0);
      send({
        kind: "connected",
        at: process.hrtime.bigint().toString(),
        cpuMs: (cpu.user + cpu.system) / 1000,
        ...(timeline ? { pairs: timeline.pairs() } : {}),
      });
    } else if (performance.now() > end) {
      send({ kind: "failed", error: `timed out waiting for ${what}` });
    } else {
      poller = setTimeout(poll, 2);
    }
  };
  poll();
}

// ── Mesh ──────────────────────────────────────────────────────────────────────────────────────────────────────

let port: MemberPort | undefined;
let voip: VoIP | undefined;
let group: GroupCallSession | undefined;
let members = 0;
let timeline: MeshTimeline | undefined;

async function meshSetup(m: Extract<ToMember, { kind: "meshSetup" }>): Promise<void> {
  members = m.members;
  port = new MemberPort(m.userId, m.deviceId, m.encryptable, send);
  timeline = new MeshTimeline();
  voip = new VoIP(traceMeshPort(port.port, timeline), delegate);
  port.subscribe();
  await port.synced;
  group = await voip.fetchOrCreateGroupCall(m.roomId, m.roomId, new MeshBackend());
  timeline.watch(group, m.userId);
}

function enter(): void {
  const g = group;
  timeline?.start();
  if (!g) {
    send({ kind: "failed", error: "enter before setup" });
    return;
  }
  g.enter().catch((error: unknown) => {
    send({ kind: "failed", error: `enter: ${errorText(error)}` });
  });
  reportWhenConnected(
    () => g.calls.filter((leg) => leg.state === CallState.Connected).length === members - 1,
    "every leg connected",
    timeline,
  );
}

// ── Limit ─────────────────────────────────────────────────────────────────────────────────────────────────────

interface BarePair {
  pc: Promise<RTCPeerConnection>;
  /** Signalling of this pair, applied one after another. */
  chain: Promise<unknown>;
}

let stream: MediaStream | undefined;
let index = 0;
const pairs = new Map<number, BarePair>();
/** The pairs' peer connections once created, by peer. */
const connections = new Map<number, RTCPeerConnection>();

async function limitSetup(m: Extract<ToMember, { kind: "limitSetup" }>): Promise<void> {
  index = m.index;
  members = m.members;
  stream = await delegate.mediaDevices.getUserMedia({ audio: true, video });
}

function pairWith(peer: number): BarePair {
  let pair = pairs.get(peer);
  if (!pair) {
    const pc = (async () => {
      const connection = await delegate.createPeerConnection({ iceServers: [] });
      connection.onicecandidate = (e) => {
        if (e.candidate) {
          const { candidate, sdpMid, sdpMLineIndex } = e.candidate;
          send({ kind: "signal", to: peer, signal: { type: "candidate", candidate, sdpMid, sdpMLineIndex } });
        }
      };
      const own = stream!.clone();
      for (const track of own.getTracks()) {
        connection.addTrack(track, own);
      }
      return connection;
    })();
    pair = { pc, chain: pc };
    pairs.set(peer, pair);
    void pc.then((connection) => connections.set(peer, connection));
  }
  return pair;
}

function onPair(peer: number, step: (pc: RTCPeerConnection) => Promise<void>): void {
  const pair = pairWith(peer);
  pair.chain = pair.chain
    .then(async () => step(await pair.pc))
    .catch((error: unknown) => {
      send({ kind: "failed", error: `pair ${index}-${peer}: ${errorText(error)}` });
    });
}

function limitStart(): void {
  for (let peer = index + 1; peer < members; peer++) {
    onPair(peer, async (pc) => {
      const offer = await pc.createOffer();
      await pc.setLocalDescription(offer);
      send({ kind: "signal", to: peer, signal: { type: "offer", sdp: offer.sdp ?? "" } });
    });
  }
  const connected = (pc: RTCPeerConnection): boolean =>
    pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed";
  reportWhenConnected(
    () => connections.size === members - 1 && [...connections.values()].every(connected),
    "every bare connection connected",
  );
}

function onSignal(from: number, signal: LimitSignal): void {
  if (!stream) {
    return; // a late candidate of a run that has ended
  }
  onPair(from, async (pc) => {
    if (signal.type === "offer") {
      await pc.setRemoteDescription(signal);
      const answer = await pc.createAnswer();
      await pc.setLocalDescription(answer);
      send({ kind: "signal", to: from, signal: { type: "answer", sdp: answer.sdp ?? "" } });
    } else if (signal.type === "answer") {
      await pc.setRemoteDescription(signal);
    } else {
      const { candidate, sdpMid, sdpMLineIndex } = signal;
      await pc.addIceCandidate({ candidate, sdpMid, sdpMLineIndex }).catch(() => undefined);
    }
  });
}

// ── Teardown and dispatch ─────────────────────────────────────────────────────────────────────────────────────

async function teardown(): Promise<void> {
  clearTimeout(poller);
  poller = undefined;
  await voip?.dispose();
  voip = undefined;
  group = undefined;
  port = undefined;
  for (const pair of pairs.values()) {
    const pc = await pair.pc;
    for (const sender of pc.getSenders()) {
      sender.track?.stop();
    }
    pc.close();
  }
  pairs.clear();
  connections.clear();
  for (const track of stream?.getTracks() ?? []) {
    track.stop();
  }
  stream = undefined;
}

/** Answers `kind` when `work` is done, "failed" when it rejects. */
function reply(work: Promise<void>, kind: "ready" | "down", what: string): void {
  work.then(
    () => {
      send({ kind });
    },
    (error: unknown) => {
      send({ kind: "failed", error: `${what}: ${errorText(error)}` });
    },
  );
}

function handle(message: ToMember): void {
  switch (message.kind) {
    case "sync":
      port?.deliver(message.batch);
      return;
    case "reply":
      port?.reply(message.id, message.value, message.error);
      return;
    case "signal":
      onSignal(message.from, message.signal);
      return;
    case "enter":
      enter();
      return;
    case "limitStart":
      limitStart();
      return;
    case "meshSetup":
    case "limitSetup":
      reply(message.kind === "meshSetup" ? meshSetup(message) : limitSetup(message), "ready", "setup");
      return;
    case "teardown":
      reply(teardown(), "down", "teardown");
      return;
  }
}

installExitGuard();
process.on("message", (message: ToMember) => {
  handle(message);
});
process.on("disconnect", () => process.exit(0));
send({ kind: "up" });
