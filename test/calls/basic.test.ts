import { afterEach, describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType } from "../../src/index.js";
import {
  connectedCall,
  expectMediaFlows,
  nextIncomingCall,
  recordStates,
  twoPeers,
  until,
  untilState,
} from "../helpers/calls.js";

type Env = Awaited<ReturnType<typeof twoPeers>>;
let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe("1:1 call over LocalHomeserver with real WebRTC", () => {
  it("connects a video call, carries audio and video both ways, and ends with the caller's reason", async () => {
    env = await twoPeers();
    const { alice, bob, hs, roomId } = env;
    const ringing = nextIncomingCall(bob);
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Video, bob.userId);
    const outStates = recordStates(outgoing);
    expect(outgoing.state === CallState.CreateOffer || outgoing.state === CallState.InviteSent).toBe(true);
    const incoming = await ringing;
    const inStates = recordStates(incoming);
    expect(incoming.state).toBe(CallState.Ringing);
    expect(incoming.type).toBe(CallType.Video);
    expect(incoming.remoteUserId).toBe(alice.userId);
    expect(incoming.callId).toBe(outgoing.callId);

    await incoming.answer();
    await untilState(outgoing, CallState.Connected);
    await untilState(incoming, CallState.Connected);
    expect(outStates.slice(-2)).toEqual([CallState.Connecting, CallState.Connected]);
    expect(inStates).toEqual([CallState.CreateAnswer, CallState.Connecting, CallState.Connected]);

    await expectMediaFlows(incoming);
    await expectMediaFlows(outgoing);
    const stats = await incoming.getStats();
    expect(stats.audio.bytesReceived).toBeGreaterThan(0);
    expect(stats.video.bytesReceived).toBeGreaterThan(0);
    expect(stats.video.framesDecoded).toBeGreaterThan(0);

    const ended = new Promise<CallErrorCode>((resolve) => incoming.on("ended", resolve));
    await outgoing.hangup();
    expect(await ended).toBe(CallErrorCode.UserHangup);
    expect(outgoing.state).toBe(CallState.Ended);
    expect(incoming.hangupReason).toBe(CallErrorCode.UserHangup);
    expect(alice.voip.calls.size).toBe(0);
    expect(bob.voip.calls.size).toBe(0);

    // On the wire: one hangup, from alice, with the real reason; bob does not echo one back (D3).
    await new Promise((r) => setTimeout(r, 100));
    const hangups = hs.transcript().filter((e) => e.type === "m.call.hangup");
    expect(hangups).toHaveLength(1);
    expect(hangups[0]).toMatchObject({ kind: "room", sender: alice.userId, roomId });
    expect(hangups[0]!.content).toEqual({
      call_id: outgoing.callId,
      party_id: alice.voip.sessionId,
      version: "1",
      reason: "user_hangup",
    });

    // The select_answer names bob's party.
    const select = hs.transcript().find((e) => e.type === "m.call.select_answer");
    expect(select?.content).toEqual({
      call_id: outgoing.callId,
      party_id: alice.voip.sessionId,
      version: "1",
      selected_party_id: bob.voip.sessionId,
    });
  });

  it("calls the delegate in the reference order (§9) on both sides", async () => {
    env = await twoPeers();
    const { alice, bob, roomId } = env;
    const { outgoing, incoming } = await connectedCall({ alice, bob, roomId }, CallType.Voice);
    const id = outgoing.callId;
    await incoming.hangup();
    await until(() => alice.callbacks.includes(`handleCallEnded:${id}`), "alice handleCallEnded");
    expect(alice.callbacks.filter((c) => c !== "stopRingtone")).toEqual([
      `registerListeners:${id}`,
      `handleNewCall:${id}`,
      `handleCallEnded:${id}`,
    ]);
    expect(bob.callbacks.slice(0, 4)).toEqual([
      "playRingtone",
      `registerListeners:${id}`,
      `handleNewCall:${id}`,
      "stopRingtone",
    ]);
    await until(() => bob.callbacks.includes(`handleCallEnded:${id}`), "bob handleCallEnded");
    expect(bob.callbacks.filter((c) => c !== "stopRingtone")).toEqual([
      "playRingtone",
      `registerListeners:${id}`,
      `handleNewCall:${id}`,
      `handleCallEnded:${id}`,
    ]);
  });

  it("ends the caller's call when the callee rejects, with m.call.reject on the wire", async () => {
    env = await twoPeers();
    const { alice, bob, hs, roomId } = env;
    const ringing = nextIncomingCall(bob);
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    const incoming = await ringing;
    const missed: string[] = [];
    bob.voip.on("missedCall", (c) => missed.push(c.callId));
    await incoming.reject();
    expect(incoming.state).toBe(CallState.Ended);
    await untilState(outgoing, CallState.Ended);
    expect(outgoing.hangupReason).toBe(CallErrorCode.UserHangup);
    const reject = hs.transcript().find((e) => e.type === "m.call.reject");
    expect(reject?.content).toEqual({ call_id: outgoing.callId, party_id: bob.voip.sessionId, version: "1" });
    expect(missed).toEqual([]);
  });
});
