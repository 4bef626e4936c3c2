// Our ICE-TCP candidates are held back while ICE may still connect over UDP (PROTOCOL D7 note, IceAgent), with
// real @roamhq/wrtc connections over LocalHomeserver: a call whose UDP path is impossible still connects (over TCP,
// once they are released), and calls that connect over UDP never put a TCP candidate on the wire.
import { describe, expect, it } from "vitest";
import {
  CallState,
  CallType,
  type CallSession,
  type VoipError,
  type WebRTCDelegate,
} from "../../src/index.js";
import { LocalHomeserver, type TranscriptEntry } from "../../src/testing/index.js";
import {
  connectedCall,
  deferredCleanup,
  directRoomPerPair,
  expectMediaFlows,
  makePeer,
  twoPeers,
  untilState,
  until,
  type Peer,
} from "../helpers/calls.js";
import { meshWorld, untilFullMesh } from "../helpers/mesh.js";

const defer = deferredCleanup();

/** Whether a candidate line (`candidate:…` or `a=candidate:…`) has transport `tcp`. */
function isTcp(line: string): boolean {
  return line.split(" ", 3)[2]?.toLowerCase() === "tcp";
}

/** Whether a candidate line has transport `udp`. */
function isUdp(line: string): boolean {
  return line.split(" ", 3)[2]?.toLowerCase() === "udp";
}

/** The candidate lines of an SDP (without `a=`). */
function sdpCandidates(sdp: string): string[] {
  return sdp
    .split(/\r?\n/)
    .filter((l) => l.startsWith("a=candidate:"))
    .map((l) => l.slice(2));
}

/** Candidate lines one transcript entry carries: in `m.call.candidates`, or in the SDP of an invite or answer. */
function wireCandidates(entry: TranscriptEntry): string[] {
  return contentCandidates(entry.type, entry.content);
}

/** Candidate lines a signalling content carries: its `candidates`, or those in its SDP. */
function contentCandidates(type: string, body: unknown): string[] {
  const content = body as {
    candidates?: { candidate?: string }[];
    offer?: { sdp?: string };
    answer?: { sdp?: string };
    description?: { sdp?: string };
  };
  if (type.endsWith("candidates")) {
    return (content.candidates ?? []).map((c) => c.candidate ?? "");
  }
  return sdpCandidates(content.offer?.sdp ?? content.answer?.sdp ?? content.description?.sdp ?? "");
}

/**
 * Makes UDP impossible between `peer`'s connections and their peers: every `udp` candidate of the remote side is
 * stripped on its way into the connection (from the remote SDP and from `addIceCandidate`), so ICE only ever
 * learns the peer's TCP candidates. The wire (what the library sent) is untouched.
 */
function withoutRemoteUdp(peer: Peer): void {
  const delegate = peer.delegate as { createPeerConnection: WebRTCDelegate["createPeerConnection"] };
  const create = delegate.createPeerConnection.bind(delegate);
  delegate.createPeerConnection = async (config) => {
    const pc = await create(config);
    return new Proxy(pc, {
      get(target, prop) {
        if (prop === "addIceCandidate") {
          return (init?: RTCIceCandidateInit | null) =>
            init?.candidate && isUdp(init.candidate)
              ? Promise.resolve()
              : target.addIceCandidate(init ?? undefined);
        }
        if (prop === "setRemoteDescription") {
          return (description: RTCSessionDescriptionInit) =>
            target.setRemoteDescription({
              type: description.type,
              sdp: (description.sdp ?? "")
                .split("\r\n")
                .filter((l) => !(l.startsWith("a=candidate:") && isUdp(l.slice(2))))
                .join("\r\n"),
            });
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
}

/** Records `peer`'s connections and every candidate line they gather. */
function recordGathered(peer: Peer): { pcs: RTCPeerConnection[]; gathered: string[] } {
  const pcs: RTCPeerConnection[] = [];
  const gathered: string[] = [];
  const delegate = peer.delegate as { createPeerConnection: WebRTCDelegate["createPeerConnection"] };
  const create = delegate.createPeerConnection.bind(delegate);
  delegate.createPeerConnection = async (config) => {
    const pc = await create(config);
    pcs.push(pc);
    pc.addEventListener("icecandidate", (event) => {
      if (event.candidate?.candidate) {
        gathered.push(event.candidate.candidate);
      }
    });
    return pc;
  };
  return { pcs, gathered };
}

describe("ICE-TCP candidates are held back while UDP may connect", () => {
  it("a call without a UDP path connects over TCP once our TCP candidates are released after the delay", async () => {
    const timeouts = { tcpCandidateDelayMs: 300 };
    const env = await twoPeers({ alice: { voip: { timeouts } }, bob: { voip: { timeouts } } });
    defer(() => env.close());
    env.hs.setTurnServers(undefined);
    withoutRemoteUdp(env.alice);
    withoutRemoteUdp(env.bob);
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    await expectMediaFlows(incoming, { video: false });
    await expectMediaFlows(outgoing, { video: false });

    const transcript = env.hs.transcript();
    let tcpSent = 0;
    for (const [sender, descriptionType] of [
      [env.alice.userId, "m.call.invite"],
      [env.bob.userId, "m.call.answer"],
    ] as const) {
      const sent = transcript.filter((e) => e.sender === sender);
      const description = sent.find((e) => e.type === descriptionType);
      // The invite and the answer carry UDP candidates only.
      expect(wireCandidates(description!).some(isUdp), `${descriptionType} has a UDP candidate`).toBe(true);
      expect(wireCandidates(description!).filter(isTcp)).toEqual([]);
      // TCP ones followed only as m.call.candidates after the description (the side whose delay ended first
      // released them; ICE may connect on those alone, and the other side then drops its own).
      const tcpBatches = sent.filter((e) => e.type === "m.call.candidates" && wireCandidates(e).some(isTcp));
      for (const batch of tcpBatches) {
        expect(sent.indexOf(batch)).toBeGreaterThan(sent.indexOf(description!));
      }
      tcpSent += tcpBatches.flatMap(wireCandidates).filter(isTcp).length;
    }
    expect(tcpSent).toBeGreaterThan(0);
  });

  it("calls set up at once that connect over UDP send no TCP candidate (the old code sent dozens)", async () => {
    const hs = new LocalHomeserver();
    hs.setTurnServers(undefined);
    // Several calls at once in one process: libwebrtc then gathers TCP candidates before UDP connects (one quick
    // pair alone stops gathering first). A generous delay: a slow shared machine must not release them.
    const timeouts = { tcpCandidateDelayMs: 20_000 };
    const peers: Peer[] = [0, 1, 2, 3].map((i) =>
      makePeer(hs, `@p${i}:local`, `P${i}`, { delegate: { video: false }, voip: { timeouts } }),
    );
    defer(async () => {
      await Promise.all(peers.map((p) => p.voip.dispose()));
      await hs.close();
    });
    const recorded = peers.map(recordGathered);
    const gathered = () => recorded.flatMap((r) => r.gathered);
    const pairs = await directRoomPerPair(hs, peers);
    const errors: VoipError[] = [];
    const incoming: CallSession[] = [];
    for (const peer of peers) {
      peer.voip.on("incomingCall", (call) => {
        incoming.push(call);
        void call.answer().catch((error: unknown) => errors.push(error as VoipError));
      });
    }
    const outgoing = await Promise.all(
      pairs.map(({ caller, callee, roomId }) =>
        caller.voip.inviteToCall(roomId, CallType.Voice, callee.userId),
      ),
    );
    await Promise.all(outgoing.map((call) => untilState(call, CallState.Connected, 60_000)));
    await until(() => incoming.length === pairs.length, "every call rang", 60_000);
    await Promise.all(incoming.map((call) => untilState(call, CallState.Connected, 60_000)));
    // Every connection gathered all it will (the old code sent each candidate as it came), TCP ones among them.
    const pcs = recorded.flatMap((r) => r.pcs);
    expect(pcs).toHaveLength(pairs.length * 2);
    await until(() => pcs.every((pc) => pc.iceGatheringState === "complete"), "gathering complete", 30_000);
    expect(gathered().filter(isUdp).length).toBeGreaterThanOrEqual(pcs.length);
    await Promise.all(incoming.map((call) => expectMediaFlows(call, { video: false, ms: 200 })));
    expect(errors).toEqual([]);

    const onTheWire = hs
      .transcript()
      .filter((e) => e.type.startsWith("m.call."))
      .flatMap(wireCandidates);
    expect(onTheWire.some(isUdp)).toBe(true);
    expect(onTheWire.filter(isTcp)).toEqual([]);
  }, 120_000);

  it("a 4-way mesh that connects over UDP sends no TCP candidate to-device (the old code sent dozens)", async () => {
    const userIds = ["@u0:local", "@u1:local", "@u2:local", "@u3:local"];
    const w = await meshWorld(userIds);
    defer(() => w.close());
    w.hs.setTurnServers(undefined);
    // To-device messages are encrypted on the wire: record what each member's client hands over to be sent.
    const sent: { type: string; content: object }[] = [];
    const members = await Promise.all(
      userIds.map((id) => {
        const client = w.hs.createClient(id, "DEVICE");
        const send = client.sendToDevice.bind(client);
        client.sendToDevice = (type, messages, opts) => {
          for (const byDevice of Object.values(messages)) {
            sent.push(...Object.values(byDevice).map((content) => ({ type, content })));
          }
          return send(type, messages, opts);
        };
        return w.add(id, "DEVICE", { timeouts: { tcpCandidateDelayMs: 20_000 } }, client);
      }),
    );
    const recorded = members.map(recordGathered);
    await Promise.all(members.map((m) => m.group.enter()));
    await untilFullMesh(members, 60_000);
    const pcs = recorded.flatMap((r) => r.pcs);
    await until(() => pcs.every((pc) => pc.iceGatheringState === "complete"), "gathering complete", 30_000);
    await Promise.all(
      members.flatMap((m) => m.group.calls.map((leg) => expectMediaFlows(leg, { video: false, ms: 200 }))),
    );
    const onTheWire = sent.flatMap((m) => contentCandidates(m.type, m.content));
    expect(onTheWire.some(isUdp)).toBe(true);
    expect(onTheWire.filter(isTcp)).toEqual([]);
  }, 120_000);
});
