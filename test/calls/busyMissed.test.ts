import { describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType, type CallSession, type VoipOptions } from "../../src/index.js";
import { LocalHomeserver, ManualClock } from "../../src/testing/index.js";
import { deferredCleanup, nextIncomingCall, twoPeers, until, untilState } from "../helpers/calls.js";

const defer = deferredCleanup();

/**
 * Alice and bob sharing one manual clock, without TURN (with an unreachable TURN server ICE gathering never
 * completes, and a manual clock never ends the gathering wait by itself).
 */
async function onManualClock(voip: VoipOptions = {}) {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const clock = new ManualClock();
  const env = await twoPeers({ hs, alice: { voip: { clock, ...voip } }, bob: { voip: { clock, ...voip } } });
  defer(env.close);
  return { ...env, clock };
}

describe("busy, missed calls and timeouts", () => {
  it("answers user_busy at once when the app cannot take a call, and reports a missed call (D2)", async () => {
    const env = await twoPeers({ bob: { delegate: { canHandleNewCall: () => false } } });
    defer(env.close);
    const { alice, bob, hs, roomId } = env;
    const missed: CallSession[] = [];
    let rang = false;
    bob.voip.on("missedCall", (c) => missed.push(c));
    bob.voip.on("incomingCall", () => {
      rang = true;
    });
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    await untilState(outgoing, CallState.Ended);
    expect(outgoing.hangupReason).toBe(CallErrorCode.UserBusy);
    const busy = hs.transcript().find((e) => e.type === "m.call.hangup");
    expect(busy).toMatchObject({ sender: bob.userId });
    expect(busy?.content).toEqual({
      call_id: outgoing.callId,
      party_id: bob.voip.sessionId,
      version: "1",
      reason: "user_busy",
    });
    await until(() => missed.length === 1, "missed call");
    expect(missed[0]!.callId).toBe(outgoing.callId);
    expect(missed[0]!.hangupReason).toBe(CallErrorCode.UserBusy);
    expect(rang).toBe(false);
    expect(bob.callbacks).toEqual([`handleMissedCall:${outgoing.callId}`]);
    expect(bob.voip.calls.size).toBe(0);
  });

  it("reports a missed call when the caller hangs up while it rings, after the ringing callbacks", async () => {
    const env = await twoPeers();
    defer(env.close);
    const { alice, bob, roomId } = env;
    const ringing = nextIncomingCall(bob);
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    const incoming = await ringing;
    const missed: string[] = [];
    const ended: string[] = [];
    bob.voip.on("missedCall", (c) => missed.push(c.callId));
    bob.voip.on("callEnded", (c) => ended.push(c.callId));
    await outgoing.hangup();
    await untilState(incoming, CallState.Ended);
    expect(incoming.hangupReason).toBe(CallErrorCode.UserHangup);
    await until(() => missed.length === 1, "missed call");
    const id = outgoing.callId;
    expect(ended).toEqual([id]);
    expect(bob.callbacks).toEqual([
      "playRingtone",
      `registerListeners:${id}`,
      `handleNewCall:${id}`,
      "stopRingtone",
      `handleCallEnded:${id}`,
      `handleMissedCall:${id}`,
    ]);
  });

  it("times out an unanswered invite on both sides after the invite lifetime (manual clock)", async () => {
    const { roomId, alice, bob, clock } = await onManualClock();
    const ringing = nextIncomingCall(bob);
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    const incoming = await ringing;
    await untilState(outgoing, CallState.InviteSent);
    const missed: string[] = [];
    bob.voip.on("missedCall", (c) => missed.push(c.callId));

    await clock.advance(59_999);
    expect(outgoing.state).toBe(CallState.InviteSent);
    expect(incoming.state).toBe(CallState.Ringing);
    await clock.advance(1);
    expect(outgoing.state).toBe(CallState.Ended);
    expect(outgoing.hangupReason).toBe(CallErrorCode.InviteTimeout);
    await untilState(incoming, CallState.Ended);
    expect(incoming.hangupReason).toBe(CallErrorCode.InviteTimeout);
    await until(() => missed.length === 1, "missed call");
    expect(alice.voip.calls.size + bob.voip.calls.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it.each(["caller", "callee"] as const)(
    "uses the invite lifetime option for both timers (the %s's is the shorter)",
    async (shorter) => {
      const [aliceMs, bobMs] = shorter === "caller" ? [5_000, 8_000] : [8_000, 5_000];
      const hs = new LocalHomeserver();
      hs.setTurnServers(undefined);
      const clock = new ManualClock();
      const env = await twoPeers({
        hs,
        alice: { voip: { clock, timeouts: { callInviteLifetimeMs: aliceMs } } },
        bob: { voip: { clock, timeouts: { callInviteLifetimeMs: bobMs } } },
      });
      defer(env.close);
      const { roomId, alice, bob } = env;
      const ringing = nextIncomingCall(bob);
      const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
      const incoming = await ringing;
      await untilState(outgoing, CallState.InviteSent);
      const invite = hs.transcript().find((e) => e.type === "m.call.invite");
      expect(invite?.content.lifetime).toBe(aliceMs);

      await clock.advance(4_999);
      expect([outgoing.state, incoming.state]).toEqual([CallState.InviteSent, CallState.Ringing]);
      await clock.advance(1);
      // The side with the shorter lifetime times out by its own timer and tells the other side.
      const [first, second] = shorter === "caller" ? [outgoing, incoming] : [incoming, outgoing];
      expect(first.state).toBe(CallState.Ended);
      expect(first.hangupReason).toBe(CallErrorCode.InviteTimeout);
      await untilState(second, CallState.Ended);
      expect(second.hangupReason).toBe(CallErrorCode.InviteTimeout);
      const hangups = hs.transcript().filter((e) => e.type === "m.call.hangup");
      expect(hangups.map((e) => [e.sender, e.content.reason])).toEqual([
        [shorter === "caller" ? alice.userId : bob.userId, "invite_timeout"],
      ]);
    },
  );
});
