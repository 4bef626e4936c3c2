// Many 1:1 calls set up at once in one process: 6 participants, each calling each of the others (15 calls, 30 peer
// connections), audio only, three times over. Reading `pc.localDescription` while so many connections negotiate
// crashed @roamhq/wrtc now and then (SIGSEGV in the native SDP serialiser, node-webrtc issue 696; its non-crashing
// face: setRemoteDescription failing with "The address type is mismatching"). We send what createOffer/createAnswer
// returned instead; a crash here kills the test worker, a mismatch fails a call.
import { describe, expect, it } from "vitest";
import { CallState, CallType, type CallSession, type VoipError } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import { deferredCleanup, directRoomPerPair, makePeer, type Peer, untilState } from "../helpers/calls.js";

const defer = deferredCleanup();
const PARTICIPANTS = 6;
const ROUNDS = 3;

describe("concurrent 1:1 calls in one process", () => {
  it(`sets up ${(PARTICIPANTS * (PARTICIPANTS - 1)) / 2} calls at once, ${ROUNDS} times, and every one connects`, async () => {
    const hs = new LocalHomeserver();
    hs.setTurnServers(undefined);
    const peers: Peer[] = [];
    for (let i = 0; i < PARTICIPANTS; i++) {
      peers.push(makePeer(hs, `@p${i}:local`, `P${i}`, { delegate: { video: false } }));
    }
    defer(async () => {
      await Promise.all(peers.map((p) => p.voip.dispose()));
      await hs.close();
    });
    const pairs = await directRoomPerPair(hs, peers);
    const errors: VoipError[] = [];
    const incoming: CallSession[] = [];
    for (const peer of peers) {
      peer.voip.on("incomingCall", (call) => {
        incoming.push(call);
        call.on("error", (error) => errors.push(error));
        void call.answer().catch((error: unknown) => errors.push(error as VoipError));
      });
    }

    for (let round = 0; round < ROUNDS; round++) {
      incoming.length = 0;
      const outgoing = await Promise.all(
        pairs.map(({ caller, callee, roomId }) =>
          caller.voip.inviteToCall(roomId, CallType.Voice, callee.userId),
        ),
      );
      for (const call of outgoing) {
        call.on("error", (error) => errors.push(error));
      }
      await Promise.all(outgoing.map((call) => untilState(call, CallState.Connected, 60_000)));
      await untilIncoming(incoming, pairs.length);
      await Promise.all(incoming.map((call) => untilState(call, CallState.Connected, 60_000)));
      expect(errors).toEqual([]);
      expect(new Set(incoming.map((c) => c.callId))).toEqual(new Set(outgoing.map((c) => c.callId)));

      await Promise.all(outgoing.map((call) => call.hangup()));
      await Promise.all(incoming.map((call) => untilState(call, CallState.Ended, 30_000)));
      for (const peer of peers) {
        expect(peer.voip.calls.size).toBe(0);
      }
    }
  }, 300_000);
});

async function untilIncoming(incoming: CallSession[], n: number): Promise<void> {
  const end = Date.now() + 60_000;
  while (incoming.length < n) {
    if (Date.now() > end) {
      throw new Error(`only ${incoming.length} of ${n} calls rang`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}
