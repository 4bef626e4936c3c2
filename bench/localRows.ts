// The quick rows: the physical limit (two bare peer connections signalled in memory) and our library over the
// in-memory homeserver, with our defaults and with the reference's timings.
import { CallType, REFERENCE_TIMEOUTS, VoIP, type VoipOptions, type WebRTCDelegate } from "../src/index.js";
import { createNodeDelegate, type NodeDelegateOptions } from "../src/node/index.js";
import { LocalHomeserver } from "../src/testing/index.js";
import { instrumentDelegate, instrumentPort, PhaseRecorder } from "./instrument.js";
import { measureCall, type BenchRow, type RowGroup } from "./rows.js";

/** The media of every row: a tone and 320×240 video at 15 fps, both ways. */
export const BENCH_MEDIA: NodeDelegateOptions = { video: { width: 320, height: 240, fps: 15 } };

/**
 * The floor for any call: two bare `RTCPeerConnection`s of the same runtime with the same tracks, no ICE servers;
 * the offer, the answer and every candidate handed over in memory the moment they exist. t0 is before the caller's
 * media and peer connection, as for `inviteToCall`; the callee's peer connection is made when the offer exists.
 */
export function limitRow(id = "limit"): BenchRow {
  const delegate = createNodeDelegate(BENCH_MEDIA);
  const rec = new PhaseRecorder();
  return {
    id,
    label: "limit: two bare RTCPeerConnections, signalled in memory",
    call: async () => {
      const open: { pc: RTCPeerConnection; stream: MediaStream }[] = [];
      const sample = await measureCall(rec, async () => {
        const caller = await side(delegate, "caller", rec);
        open.push(caller);
        const callee: { pc?: RTCPeerConnection; early: RTCIceCandidate[] } = { early: [] };
        caller.pc.addEventListener("icecandidate", (e) => {
          if (e.candidate === null) {
            return;
          }
          if (callee.pc?.remoteDescription) {
            add(callee.pc, e.candidate);
          } else {
            callee.early.push(e.candidate);
          }
        });
        const offer = await caller.pc.createOffer();
        await caller.pc.setLocalDescription(offer);
        rec.mark("caller.setLocalDescription(offer)");
        const b = await side(delegate, "callee", rec);
        open.push(b);
        callee.pc = b.pc;
        b.pc.addEventListener("icecandidate", (e) => {
          if (e.candidate !== null) {
            add(caller.pc, e.candidate);
          }
        });
        await b.pc.setRemoteDescription(offer);
        rec.mark("callee.setRemoteDescription(offer)");
        for (const candidate of callee.early.splice(0)) {
          add(b.pc, candidate);
        }
        const answer = await b.pc.createAnswer();
        await b.pc.setLocalDescription(answer);
        rec.mark("callee.setLocalDescription(answer)");
        await caller.pc.setRemoteDescription(answer);
        rec.mark("caller.setRemoteDescription(answer)");
        return () => {
          for (const { pc, stream } of open.splice(0)) {
            pc.close();
            for (const track of stream.getTracks()) {
              track.stop();
            }
          }
          rec.mark("caller.state.ended");
          rec.mark("callee.state.ended");
        };
      });
      return sample;
    },
  };
}

/** Adds a candidate; one that comes after the call ended is dropped. */
function add(pc: RTCPeerConnection, candidate: RTCIceCandidate): void {
  pc.addIceCandidate(candidate).catch(() => undefined);
}

/** One bare side: media, a peer connection with its tracks, `<name>.state.connected` once ICE is connected. */
async function side(
  delegate: WebRTCDelegate,
  name: string,
  rec: PhaseRecorder,
): Promise<{ pc: RTCPeerConnection; stream: MediaStream }> {
  const stream = await delegate.mediaDevices.getUserMedia({ audio: true, video: true });
  rec.mark(`${name}.getUserMedia`);
  const pc = await delegate.createPeerConnection({ iceServers: [] });
  rec.mark(`${name}.createPeerConnection`);
  for (const track of stream.getTracks()) {
    pc.addTrack(track, stream);
  }
  pc.addEventListener("icecandidate", (e) => {
    rec.mark(`${name}.${e.candidate ? "firstCandidate" : "endOfCandidates"}`);
  });
  pc.addEventListener("iceconnectionstatechange", () => {
    rec.mark(`${name}.ice.${pc.iceConnectionState}`);
    if (pc.iceConnectionState === "connected" || pc.iceConnectionState === "completed") {
      rec.mark(`${name}.state.connected`);
    }
  });
  return { pc, stream };
}

/** Alice calls bob over one {@link LocalHomeserver} (no TURN, no injected latency); bob answers on ringing. */
export async function localPair(
  voip: VoipOptions,
): Promise<{ rec: PhaseRecorder; call: () => ReturnType<BenchRow["call"]>; close: () => Promise<void> }> {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const rec = new PhaseRecorder();
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], isDirect: true });
  const make = (userId: string, deviceId: string, side: string): VoIP =>
    new VoIP(
      instrumentPort(hs.createClient(userId, deviceId), side, rec),
      instrumentDelegate(createNodeDelegate(BENCH_MEDIA), side, rec),
      voip,
    );
  const alice = make("@alice:local", "ALICE", "caller");
  const bob = make("@bob:local", "BOB", "callee");
  bob.on("incomingCall", (call) => {
    rec.mark("callee.incomingCall");
    call.answer().then(
      () => {
        rec.mark("callee.answer()");
      },
      () => {
        rec.mark("callee.answerFailed");
      },
    );
  });
  return {
    rec,
    call: () =>
      measureCall(rec, async () => {
        const call = await alice.inviteToCall(roomId, CallType.Video, "@bob:local");
        rec.mark("caller.inviteToCall()");
        return () => call.hangup();
      }),
    close: async () => {
      await Promise.allSettled([alice.dispose(), bob.dispose()]);
      await hs.close();
    },
  };
}

/** The in-memory rows: the limit, ours with our defaults, and (unless `quick`) ours with the reference's timings. */
export async function localGroup(opts: { referenceTimings: boolean }): Promise<RowGroup> {
  const ours = await localPair({});
  const reference = opts.referenceTimings
    ? await localPair({ timeouts: REFERENCE_TIMEOUTS, fixedWaits: true })
    : undefined;
  const rows: BenchRow[] = [
    limitRow(),
    { id: "local.ours", label: "ours ↔ ours, in-memory homeserver, our defaults", call: ours.call },
  ];
  if (reference) {
    rows.push({
      id: "local.reference",
      label: "ours ↔ ours, in-memory homeserver, the reference's timings and fixed waits",
      call: reference.call,
    });
  }
  return {
    name: "in-memory",
    description:
      "LocalHomeserver (no TURN, no injected latency) and the limit row; real media both ways (@roamhq/wrtc, a tone and 320×240 video at 15 fps)",
    rows,
    ratios: [
      { name: "ours in-memory / limit", numerator: "local.ours", denominator: "limit", target: 1.5 },
      ...(reference
        ? [
            {
              name: "reference timings / ours in-memory",
              numerator: "local.reference",
              denominator: "local.ours",
            },
          ]
        : []),
    ],
    timelines: ["limit", "local.ours"],
    close: async () => {
      await ours.close();
      await reference?.close();
    },
  };
}
