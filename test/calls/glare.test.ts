import { describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType, type CallSession, type RandomSource } from "../../src/index.js";
import { LocalHomeserver, ManualClock } from "../../src/testing/index.js";
import {
  deferredCleanup,
  InjectablePort,
  makePeer,
  nextIncomingCall,
  type Peer,
  until,
  untilState,
} from "../helpers/calls.js";

/** Randomness that always returns `byte`: call ids become `${now}` + 16 times the same letter. */
const constant = (byte: number): RandomSource => ({ bytes: (n) => new Uint8Array(n).fill(byte) });
const SMALL = constant(0); // "AAAA…"
const LARGE = constant(25); // "ZZZZ…" ("A" < "Z")

const defer = deferredCleanup();

async function setup(aliceRandom: RandomSource, bobRandom: RandomSource, bobMediaDelayMs = 0) {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], isDirect: true });
  const clock = new ManualClock();
  const alice = makePeer(hs, "@alice:local", "ALICE", { voip: { clock, random: aliceRandom } });
  const bobPort = new InjectablePort(hs.createClient("@bob:local", "BOB"));
  const bob = makePeer(hs, "@bob:local", "BOB", { voip: { clock, random: bobRandom }, client: bobPort });
  if (bobMediaDelayMs > 0) {
    const md = bob.delegate.mediaDevices;
    const original = md.getUserMedia.bind(md);
    md.getUserMedia = async (c) => {
      await new Promise((r) => setTimeout(r, bobMediaDelayMs));
      return original(c);
    };
  }
  defer(async () => {
    await Promise.all([alice.voip.dispose(), bob.voip.dispose()]);
    await hs.close();
  });
  return { hs, roomId, alice, bob, bobPort, clock };
}

/** The `m.call.hangup`s on the wire: sender, call id, reason. */
function hangupsOnWire(hs: LocalHomeserver): [string, string, string][] {
  return hs
    .transcript()
    .filter((e) => e.type === "m.call.hangup")
    .map((e) => [e.sender, String(e.content.call_id), String(e.content.reason)]);
}

/** Runs the manual clock (candidates trickle on batch timers of the calls' clock) until every call is connected. */
async function untilConnected(clock: ManualClock, calls: CallSession[]): Promise<void> {
  const connected = Promise.all(calls.map((call) => untilState(call, CallState.Connected)));
  let done = false;
  void connected.finally(() => {
    done = true;
  });
  while (!done) {
    await clock.advance(50);
    await new Promise((r) => setTimeout(r, 10));
  }
  await connected;
}

function invitesOnWire(hs: LocalHomeserver): string[] {
  return hs
    .transcript()
    .filter((e) => e.type === "m.call.invite")
    .map((e) => String(e.content.call_id));
}

/** Places alice's and bob's invites so that both are on the wire before either side sees the other's. */
async function bothInvite(
  env: { hs: LocalHomeserver; roomId: string; alice: Peer; bob: Peer },
  first: "alice" | "bob",
): Promise<{ aliceCall: CallSession; bobCall: CallSession }> {
  env.hs.setFaults({ latencyMs: 400 });
  const [a, b] = first === "alice" ? [env.alice, env.bob] : [env.bob, env.alice];
  const firstCall = await a.voip.inviteToCall(env.roomId, CallType.Voice, b.userId);
  await until(() => invitesOnWire(env.hs).length === 1, "first invite on the wire");
  const secondCall = await b.voip.inviteToCall(env.roomId, CallType.Voice, a.userId);
  await until(() => invitesOnWire(env.hs).length === 2, "second invite on the wire");
  env.hs.setFaults({ latencyMs: 0 });
  return first === "alice"
    ? { aliceCall: firstCall, bobCall: secondCall }
    : { aliceCall: secondCall, bobCall: firstCall };
}

describe("glare (PROTOCOL D6)", () => {
  for (const first of ["alice", "bob"] as const) {
    it(`keeps the smaller call_id on both sides when both invites are on the wire (${first}'s invite first)`, async () => {
      const env = await setup(SMALL, LARGE);
      const { hs, alice, bob } = env;
      const bobRings = nextIncomingCall(bob);
      let aliceRang = false;
      alice.voip.on("incomingCall", () => {
        aliceRang = true;
      });
      const { aliceCall, bobCall } = await bothInvite(env, first);
      expect(aliceCall.callId < bobCall.callId).toBe(true);

      const survivorAtBob = await bobRings;
      expect(survivorAtBob.callId).toBe(aliceCall.callId);
      await untilState(bobCall, CallState.Ended);
      expect(bobCall.hangupReason).toBe(CallErrorCode.Replaced);
      // The survivor keeps ringing: not answered by itself.
      await new Promise((r) => setTimeout(r, 200));
      expect(survivorAtBob.state).toBe(CallState.Ringing);
      expect(aliceCall.state).toBe(CallState.InviteSent);
      expect(aliceRang).toBe(false);
      expect([...alice.voip.calls.values()]).toEqual([aliceCall]);
      expect([...bob.voip.calls.values()]).toEqual([survivorAtBob]);
      // The loser is hung up with "replaced" on the wire, by both sides.
      const replacedHangups = hs
        .transcript()
        .filter((e) => e.type === "m.call.hangup" && e.content.reason === "replaced");
      expect(replacedHangups.every((e) => e.content.call_id === bobCall.callId)).toBe(true);
      expect(replacedHangups.length).toBeGreaterThanOrEqual(1);

      await survivorAtBob.answer();
      await untilConnected(env.clock, [aliceCall, survivorAtBob]);
    });
  }

  it("cancels our call still being prepared and rings the incoming one, whatever the ids", async () => {
    // Bob's id is the smaller one, but his invite is not out yet when alice's arrives.
    const env = await setup(LARGE, SMALL, 600);
    const { hs, roomId, alice, bob } = env;
    const bobRings = nextIncomingCall(bob);
    const bobPlacing = bob.voip.inviteToCall(roomId, CallType.Voice, alice.userId);
    await until(() => bob.voip.calls.size === 1, "bob's call registered");
    const bobCall = [...bob.voip.calls.values()][0]!;
    await untilState(bobCall, CallState.CreateOffer);
    const replacedBy: CallSession[] = [];
    bobCall.on("replaced", (c) => replacedBy.push(c));

    const aliceCall = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    const incoming = await bobRings;
    expect(incoming.callId).toBe(aliceCall.callId);
    expect(bobCall.state).toBe(CallState.Ended);
    expect(bobCall.hangupReason).toBe(CallErrorCode.Replaced);
    expect(replacedBy).toEqual([incoming]);
    expect(await bobPlacing).toBe(bobCall);
    await new Promise((r) => setTimeout(r, 300));
    expect(invitesOnWire(hs)).toEqual([aliceCall.callId]);
    expect(incoming.state).toBe(CallState.Ringing);
    expect([...bob.voip.calls.values()]).toEqual([incoming]);
  });

  it("keeps our sent invite when the peer's later one has a greater id (reference §10.1 item 6)", async () => {
    const env = await setup(SMALL, LARGE);
    const { hs, roomId, alice, bob, bobPort } = env;
    const aliceRang: CallSession[] = [];
    alice.voip.on("incomingCall", (call) => aliceRang.push(call));
    // Bob has not synced alice's invite yet when he calls back: both invites are on the wire, alice's first.
    bobPort.hold();
    const aliceCall = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    await untilState(aliceCall, CallState.InviteSent);
    const bobCall = await bob.voip.inviteToCall(roomId, CallType.Voice, alice.userId);
    await untilState(bobCall, CallState.InviteSent);
    expect(invitesOnWire(hs)).toEqual([aliceCall.callId, bobCall.callId]);
    expect(aliceCall.callId < bobCall.callId).toBe(true);

    // Alice, whose sent invite has the smaller id, keeps it and hangs up bob's later one as replaced.
    await until(() => hangupsOnWire(hs).length === 1, "alice's hangup of bob's invite");
    expect(hangupsOnWire(hs)).toEqual([[alice.userId, bobCall.callId, "replaced"]]);
    expect(aliceCall.state).toBe(CallState.InviteSent);
    expect([...alice.voip.calls.values()]).toEqual([aliceCall]);

    // Bob catches up: alice's call rings, his own ends as replaced (and he says so on the wire too).
    const bobRings = nextIncomingCall(bob);
    await bobPort.release();
    const survivorAtBob = await bobRings;
    expect(survivorAtBob.callId).toBe(aliceCall.callId);
    await untilState(bobCall, CallState.Ended);
    expect(bobCall.hangupReason).toBe(CallErrorCode.Replaced);
    await until(() => hangupsOnWire(hs).length === 2, "bob's hangup of his own invite");
    expect(hangupsOnWire(hs)).toEqual([
      [alice.userId, bobCall.callId, "replaced"],
      [bob.userId, bobCall.callId, "replaced"],
    ]);
    expect(survivorAtBob.state).toBe(CallState.Ringing);
    expect([...bob.voip.calls.values()]).toEqual([survivorAtBob]);
    expect(aliceRang).toEqual([]);

    // The kept call is the one that connects.
    await survivorAtBob.answer();
    await untilConnected(env.clock, [aliceCall, survivorAtBob]);
    expect(hangupsOnWire(hs).map(([, callId]) => callId)).not.toContain(aliceCall.callId);
  });
});
