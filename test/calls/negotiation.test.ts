import { afterEach, describe, expect, it } from "vitest";
import {
  CallErrorCode,
  CallState,
  CallType,
  isVoipError,
  VoipErrorCode,
  type CallSession,
  type Logger,
} from "../../src/index.js";
import { LocalHomeserver, ManualClock } from "../../src/testing/index.js";
import { connectedCall, expectMediaFlows, twoPeers, until } from "../helpers/calls.js";

type Env = Awaited<ReturnType<typeof twoPeers>>;
let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe("negotiation", () => {
  it("converges when both sides renegotiate at once (perfect negotiation, callee polite)", async () => {
    const lines: string[] = [];
    const logger: Logger = {
      debug: () => undefined,
      info: (m) => lines.push(m),
      warn: (m) => lines.push(m),
      error: (m) => lines.push(m),
      child: () => logger,
    };
    env = await twoPeers({ alice: { voip: { logger } } });
    const { outgoing, incoming } = await connectedCall(env, CallType.Video);
    await Promise.all([outgoing.setScreensharingEnabled(true), incoming.setScreensharingEnabled(true)]);
    await until(
      () =>
        outgoing.remoteScreenSharingStream !== undefined && incoming.remoteScreenSharingStream !== undefined,
      "both screenshares arrive",
      10_000,
    );
    // The offers crossed: the impolite caller ignored the callee's, the polite callee rolled back.
    expect(lines).toContain("ignoring colliding offer (impolite side)");
    expect(lines.filter((l) => l.includes("failed"))).toEqual([]);
    expect(outgoing.state).toBe(CallState.Connected);
    expect(incoming.state).toBe(CallState.Connected);
    await expectMediaFlows(incoming);
    await expectMediaFlows(outgoing);
  });

  it("rejects inviteToCall with user_media_failed and ends the call when no media can be had", async () => {
    env = await twoPeers({ alice: { delegate: { failGetUserMedia: true } } });
    const ended: string[] = [];
    env.alice.voip.on("callEnded", (c) => ended.push(c.hangupReason ?? ""));
    let caught: unknown;
    try {
      await env.alice.voip.inviteToCall(env.roomId, CallType.Video, env.bob.userId);
    } catch (error) {
      caught = error;
    }
    expect(isVoipError(caught, VoipErrorCode.UserMediaFailed)).toBe(true);
    expect(env.alice.voip.calls.size).toBe(0);
    expect(ended).toEqual(["user_media_failed"]);
    expect(env.hs.transcript().some((e) => e.type === "m.call.invite")).toBe(false);
  });

  it("rejects calls to a room we are not in, or to something that is not a user id", async () => {
    env = await twoPeers();
    await expect(
      env.alice.voip.inviteToCall("!nowhere:local", CallType.Voice, env.bob.userId),
    ).rejects.toMatchObject({
      code: "invalid_argument",
    });
    await expect(env.alice.voip.inviteToCall(env.roomId, CallType.Voice, "bob")).rejects.toMatchObject({
      code: "invalid_argument",
    });
  });

  it("connects through a rate-limiting server: sends are retried after retry_after_ms (D7)", async () => {
    const timeouts = {
      iceGatheringDelayMs: 0,
      answerDelayMs: 0,
      candidateBatchIncomingMs: 20,
      candidateBatchOutgoingMs: 20,
    };
    env = await twoPeers({ alice: { voip: { timeouts } }, bob: { voip: { timeouts } } });
    env.hs.setTurnServers(undefined);
    env.hs.setFaults({ rateLimitEvery: 3, retryAfterMs: 50 });
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    expect(env.hs.stats.rateLimited).toBeGreaterThan(0);
    await expectMediaFlows(incoming, { video: false });
    await expectMediaFlows(outgoing, { video: false });
  });

  it("survives a lossy, duplicating server: the port retries idempotently, duplicates are harmless", async () => {
    env = await twoPeers();
    env.hs.setTurnServers(undefined);
    env.hs.setFaults({ lossRate: 0.2, duplicateRate: 0.3, latencyMs: 20 });
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    await expectMediaFlows(incoming, { video: false });
    await outgoing.hangup();
    await until(() => incoming.state === CallState.Ended, "remote end");
    const invites = env.hs.transcript().filter((e) => e.type === "m.call.invite");
    expect(invites).toHaveLength(1);
  });

  it("leaves no call, timer or listener behind after dispose()", async () => {
    const hs = new LocalHomeserver();
    hs.setTurnServers(undefined);
    const clock = new ManualClock();
    env = await twoPeers({ hs, alice: { voip: { clock } } });
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    const aliceRang: string[] = [];
    env.alice.voip.on("incomingCall", (c) => aliceRang.push(c.callId));
    await env.alice.voip.dispose();
    expect(outgoing.state).toBe(CallState.Ended);
    expect(env.alice.voip.calls.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(env.alice.delegate.mediaDevices.ondevicechange ?? null).toBeNull();
    await until(() => incoming.state === CallState.Ended, "remote sees the hangup");
    await expect(
      env.alice.voip.inviteToCall(env.roomId, CallType.Voice, env.bob.userId),
    ).rejects.toMatchObject({
      code: "invalid_state",
    });
    // No sync listener is left: a new invite to alice reaches her client but no longer her VoIP.
    await env.bob.voip.inviteToCall(env.roomId, CallType.Voice, env.alice.userId);
    await until(
      () => env!.hs.transcript().filter((e) => e.type === "m.call.invite").length === 2,
      "bob's invite",
    );
    await env.hs.flush();
    expect(aliceRang).toEqual([]);
    expect(env.alice.voip.calls.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("answer and reject edge cases", () => {
  it("answer() called twice answers once and both calls resolve when the answer is out", async () => {
    env = await twoPeers();
    const ringing = new Promise<CallSession>((resolve) => env!.bob.voip.on("incomingCall", resolve));
    const outgoing = await env.alice.voip.inviteToCall(env.roomId, CallType.Voice, env.bob.userId);
    const incoming = await ringing;
    await Promise.all([incoming.answer(), incoming.answer()]);
    await until(() => outgoing.state === CallState.Connected, "connected");
    expect(env.hs.transcript().filter((e) => e.type === "m.call.answer")).toHaveLength(1);
  });

  it("answer() rejects with invalid_state once the call has ended", async () => {
    env = await twoPeers();
    const ringing = new Promise<CallSession>((resolve) => env!.bob.voip.on("incomingCall", resolve));
    const outgoing = await env.alice.voip.inviteToCall(env.roomId, CallType.Voice, env.bob.userId);
    const incoming = await ringing;
    await outgoing.hangup();
    await until(() => incoming.state === CallState.Ended, "ended");
    await expect(incoming.answer()).rejects.toMatchObject({ code: VoipErrorCode.InvalidState });
  });

  it("reject() on an outgoing call hangs up instead of sending m.call.reject", async () => {
    env = await twoPeers();
    const outgoing = await env.alice.voip.inviteToCall(env.roomId, CallType.Voice, env.bob.userId);
    await until(() => outgoing.state === CallState.InviteSent, "invite sent");
    await outgoing.reject();
    expect(outgoing.state).toBe(CallState.Ended);
    await env.hs.flush();
    expect(env.hs.transcript().some((e) => e.type === "m.call.reject")).toBe(false);
    expect(env.hs.transcript().filter((e) => e.type === "m.call.hangup")).toHaveLength(1);
  });
});

describe("reject and hangup options", () => {
  it("reject({ shouldEmit: false }) ends the call locally, sends nothing and fires no end callbacks", async () => {
    env = await twoPeers();
    const ringing = new Promise<CallSession>((resolve) => env!.bob.voip.on("incomingCall", resolve));
    const outgoing = await env.alice.voip.inviteToCall(env.roomId, CallType.Voice, env.bob.userId);
    const incoming = await ringing;
    const ended: string[] = [];
    env.bob.voip.on("callEnded", (c) => ended.push(c.callId));
    await incoming.reject({ shouldEmit: false });
    expect(incoming.state).toBe(CallState.Ended);
    await env.hs.flush();
    const fromBob = env.hs
      .transcript()
      .filter((e) => e.type.startsWith("m.call.") && e.sender === env!.bob.userId);
    expect(fromBob).toEqual([]);
    expect(ended).toEqual([]);
    expect(env.bob.callbacks.some((c) => c.startsWith("handleCallEnded"))).toBe(false);
    expect(outgoing.state).toBe(CallState.InviteSent);
  });

  it("hangup({ reason }) sends that reason, and the peer ends with it (D1, D3)", async () => {
    env = await twoPeers();
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    await incoming.hangup({ reason: CallErrorCode.UserBusy });
    await until(() => outgoing.state === CallState.Ended, "caller ended");
    expect(outgoing.hangupReason).toBe(CallErrorCode.UserBusy);
    await env.hs.flush();
    const hangups = env.hs.transcript().filter((e) => e.type === "m.call.hangup");
    expect(hangups.map((e) => [e.sender, e.content.reason])).toEqual([[env.bob.userId, "user_busy"]]);
  });
});
