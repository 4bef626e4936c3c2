// A callee that sends no party_id (MSC2746 version 0 clients): its answer binds the call, and its candidates are
// applied, not buffered forever.
import { describe, expect, it } from "vitest";
import { CallState, CallType } from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import { deferredCleanup, InjectablePort, makePeer, until, untilState } from "../helpers/calls.js";

const defer = deferredCleanup();

/** The peer connection's own `addIceCandidate`, bound (before a test wraps it). */
function nativeAddIceCandidate(pc: RTCPeerConnection): (c: RTCIceCandidateInit) => Promise<void> {
  const method: unknown = Reflect.get(pc, "addIceCandidate");
  return (method as (c: RTCIceCandidateInit) => Promise<void>).bind(pc);
}

describe("a callee without party_id", () => {
  it("connects, and its m.call.candidates are added to the peer connection", async () => {
    const hs = new LocalHomeserver();
    hs.setTurnServers(undefined);
    const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"] });
    const port = new InjectablePort(hs.createClient("@alice:local", "ALICE"));
    const alice = makePeer(hs, "@alice:local", "ALICE", { client: port });
    const added: RTCIceCandidateInit[] = [];
    const create = alice.delegate.createPeerConnection.bind(alice.delegate);
    alice.delegate.createPeerConnection = async (config) => {
      const pc = await create(config);
      const native = nativeAddIceCandidate(pc);
      // eslint-disable-next-line @typescript-eslint/no-deprecated -- replacing the method, not calling its legacy overload
      pc.addIceCandidate = async (c: RTCIceCandidateInit) => {
        await native(c);
        added.push(c); // only candidates the peer connection accepted
      };
      return pc;
    };
    // Bob is a bare peer connection that speaks version 0: no party_id anywhere.
    const bobDelegate = createNodeDelegate();
    const bob = await bobDelegate.createPeerConnection({ iceServers: [] });
    const bobMedia = await bobDelegate.mediaDevices.getUserMedia({ audio: true, video: false });
    for (const track of bobMedia.getTracks()) {
      bob.addTrack(track, bobMedia);
    }
    const bobCandidates: RTCIceCandidateInit[] = [];
    bob.addEventListener("icecandidate", (e) => {
      const c = e.candidate;
      if (c?.candidate) {
        bobCandidates.push(c.toJSON());
      }
    });
    defer(async () => {
      for (const t of bobMedia.getTracks()) {
        t.stop();
      }
      bob.close();
      await alice.voip.dispose();
      await hs.close();
    });

    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, "@bob:local");
    await untilState(outgoing, CallState.InviteSent);
    const invite = hs.transcript().find((e) => e.type === "m.call.invite")!;
    await bob.setRemoteDescription(invite.content.offer as RTCSessionDescriptionInit);
    const answer = await bob.createAnswer();
    await bob.setLocalDescription(answer); // sent at once: no candidates in it
    const event = (type: string, content: Record<string, unknown>) => ({
      eventId: `$${type}${Math.random()}`,
      roomId,
      sender: "@bob:local",
      type,
      content: { call_id: outgoing.callId, version: 0, ...content },
      originServerTs: Date.now(),
      unsigned: { age: 0 },
    });
    await port.inject({
      rooms: [
        {
          roomId,
          initial: false,
          state: [],
          timeline: [event("m.call.answer", { answer: { type: "answer", sdp: answer.sdp } })],
        },
      ],
      toDevice: [],
    });
    // Alice's invite carries her first candidates; any later ones trickle in m.call.candidates.
    const aliceCandidates = () => hs.transcript().filter((e) => e.type === "m.call.candidates");
    for (const e of aliceCandidates()) {
      for (const c of e.content.candidates as RTCIceCandidateInit[]) {
        await bob.addIceCandidate(c);
      }
    }
    await until(() => bobCandidates.length > 0, "bob's candidates");
    await port.inject({
      rooms: [
        {
          roomId,
          initial: false,
          state: [],
          timeline: [event("m.call.candidates", { candidates: bobCandidates })],
        },
      ],
      toDevice: [],
    });
    await until(() => added.length >= bobCandidates.length, "bob's candidates added on alice's side");
    expect(added.map((c) => c.candidate)).toEqual(bobCandidates.map((c) => c.candidate));
    await untilState(outgoing, CallState.Connected);
    expect(outgoing.remotePartyId).toBeUndefined();
  });
});
