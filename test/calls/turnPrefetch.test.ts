// Placing a 1:1 call fetches the TURN credentials while local media is acquired (a camera can take seconds), so
// the peer connection finds them cached: one `GET /voip/turnServer` per client, made before media is ready.
import { describe, expect, it } from "vitest";
import { CallState, CallType } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import {
  deferredCleanup,
  expectMediaFlows,
  makePeer,
  nextIncomingCall,
  untilState,
} from "../helpers/calls.js";

const defer = deferredCleanup();

describe("TURN credentials while placing a call", () => {
  it("are requested while getUserMedia is pending, once per client; the call connects with media", async () => {
    const hs = new LocalHomeserver();
    const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], isDirect: true });
    const alice = makePeer(hs, "@alice:local", "ALICE", { delegate: { video: false } });
    const bob = makePeer(hs, "@bob:local", "BOB", { delegate: { video: false } });
    defer(async () => {
      await Promise.all([alice.voip.dispose(), bob.voip.dispose()]);
      await hs.close();
    });
    const devices = alice.delegate.mediaDevices as {
      getUserMedia: (c?: MediaStreamConstraints) => Promise<MediaStream>;
    };
    const original = devices.getUserMedia.bind(devices);
    let asked!: () => void;
    let release!: () => void;
    const mediaAsked = new Promise<void>((resolve) => (asked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    devices.getUserMedia = async (constraints) => {
      asked();
      await released;
      return original(constraints);
    };

    const ringing = nextIncomingCall(bob);
    const placing = alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    await mediaAsked;
    await hs.flush();
    expect(hs.stats.turnRequests).toBe(1);
    expect(alice.voip.calls.size).toBe(1);
    expect([...alice.voip.calls.values()][0]?.state).toBe(CallState.CreateOffer);

    release();
    const outgoing = await placing;
    const incoming = await ringing;
    await incoming.answer();
    await Promise.all([untilState(outgoing, CallState.Connected), untilState(incoming, CallState.Connected)]);
    await expectMediaFlows(outgoing, { video: false });
    await expectMediaFlows(incoming, { video: false });
    // Alice's peer connection used the prefetched answer; bob asked once when the invite came.
    expect(hs.stats.turnRequests).toBe(2);
    await outgoing.hangup();
    await untilState(incoming, CallState.Ended);
  });
});
