// Asserted identity (MSC3086) both ways between two famedly-calls peers over LocalHomeserver, real WebRTC.
import { describe, expect, it } from "vitest";
import {
  CallState,
  CallType,
  isVoipError,
  VoipErrorCode,
  type AssertedIdentity,
  type CallSession,
} from "../../src/index.js";
import { connectedCall, deferredCleanup, nextIncomingCall, twoPeers, untilState } from "../helpers/calls.js";

const defer = deferredCleanup();

async function setup() {
  const env = await twoPeers();
  env.hs.setTurnServers(undefined);
  defer(() => env.close());
  return env;
}

function nextIdentity(call: CallSession): Promise<AssertedIdentity> {
  return new Promise((resolve) => {
    const off = call.on("assertedIdentityChanged", (identity) => {
      off();
      resolve(identity);
    });
  });
}

describe("asserted identity (MSC3086)", () => {
  it("the caller's sendAssertedIdentity reaches the callee as assertedIdentityChanged and remoteAssertedIdentity", async () => {
    const env = await setup();
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    expect(incoming.remoteAssertedIdentity).toBeUndefined();
    const received = nextIdentity(incoming);
    const carol = { id: "@carol:local", displayName: "Carol", avatarUrl: "mxc://local/carol" };
    await outgoing.sendAssertedIdentity(carol);
    expect(await received).toStrictEqual(carol);
    expect(incoming.remoteAssertedIdentity).toStrictEqual(carol);
    // Exactly one event on the wire, MSC3086 field names.
    const sent = env.hs.transcript().filter((e) => e.type === "m.call.asserted_identity");
    expect(sent.map((e) => [e.sender, e.content])).toStrictEqual([
      [
        env.alice.userId,
        {
          call_id: outgoing.callId,
          party_id: env.alice.voip.sessionId,
          version: "1",
          asserted_identity: { id: "@carol:local", display_name: "Carol", avatar_url: "mxc://local/carol" },
        },
      ],
    ]);
    // The sender's own view is unchanged, and the call goes on.
    expect(outgoing.remoteAssertedIdentity).toBeUndefined();
    expect([outgoing.state, incoming.state]).toEqual([CallState.Connected, CallState.Connected]);
  });

  it("the ringing callee's identity reaches the caller, and a later one replaces it", async () => {
    const env = await setup();
    const ringing = nextIncomingCall(env.bob);
    const outgoing = await env.alice.voip.inviteToCall(env.roomId, CallType.Voice, env.bob.userId);
    const incoming = await ringing;
    const first = nextIdentity(outgoing);
    await incoming.sendAssertedIdentity({ displayName: "Reception" });
    expect(await first).toStrictEqual({ displayName: "Reception" });
    expect(outgoing.remoteAssertedIdentity).toStrictEqual({ displayName: "Reception" });
    expect(incoming.state).toBe(CallState.Ringing);

    await incoming.answer();
    await untilState(outgoing, CallState.Connected);
    const second = nextIdentity(outgoing);
    await incoming.sendAssertedIdentity({ id: "@dave:local" });
    expect(await second).toStrictEqual({ id: "@dave:local" });
    expect(outgoing.remoteAssertedIdentity).toStrictEqual({ id: "@dave:local" });
  });

  it("refuses to send on an ended call, with nothing on the wire", async () => {
    const env = await setup();
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    await outgoing.hangup();
    await untilState(incoming, CallState.Ended);
    const error = await outgoing.sendAssertedIdentity({ id: "@carol:local" }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isVoipError(error, VoipErrorCode.InvalidState)).toBe(true);
    expect(env.hs.transcript().filter((e) => e.type === "m.call.asserted_identity")).toEqual([]);
  });
});
