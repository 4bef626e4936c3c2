import { describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import {
  deferredCleanup,
  expectMediaFlows,
  makePeer,
  nextIncomingCall,
  type Peer,
  recordStates,
  untilState,
} from "../helpers/calls.js";

const defer = deferredCleanup();

/** Holds the first call of whatever it wraps until `release()`; later calls pass straight through. */
function firstCallGate(): {
  entered: Promise<void>;
  release: () => void;
  wrap: <A extends unknown[], R>(fn: (...args: A) => R | Promise<R>) => (...args: A) => Promise<R>;
} {
  let used = false;
  let enter!: () => void;
  let release!: () => void;
  const entered = new Promise<void>((r) => (enter = r));
  const released = new Promise<void>((r) => (release = r));
  return {
    entered,
    release,
    wrap:
      (fn) =>
      async (...args) => {
        if (!used) {
          used = true;
          enter();
          await released;
        }
        return await fn(...args);
      },
  };
}

interface Env {
  room1: string;
  room2: string;
  alice: Peer;
  bob: Peer;
  carol: Peer;
}

async function setup(
  bobDelegate: (gate: ReturnType<typeof firstCallGate>) => Parameters<typeof makePeer>[3],
): Promise<Env & { gate: ReturnType<typeof firstCallGate> }> {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const room1 = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], isDirect: true });
  const room2 = await hs.createRoom({ creator: "@carol:local", members: ["@bob:local"], isDirect: true });
  const gate = firstCallGate();
  const alice = makePeer(hs, "@alice:local", "ALICE");
  const bob = makePeer(hs, "@bob:local", "BOB", bobDelegate(gate));
  const carol = makePeer(hs, "@carol:local", "CAROL");
  defer(async () => {
    gate.release();
    await Promise.all([alice.voip.dispose(), bob.voip.dispose(), carol.voip.dispose()]);
    await hs.close();
  });
  return { room1, room2, alice, bob, carol, gate };
}

/**
 * Alice calls bob in room 1 and bob's handling of that call gets stuck (the gate); meanwhile carol calls bob in
 * room 2: that call rings, connects with media and hangs up. Then the gate opens and alice's call rings, connects
 * and carries media.
 */
async function secondCallGoesThrough(env: Env & { gate: ReturnType<typeof firstCallGate> }): Promise<{
  stateWhileHeld: CallState | undefined;
}> {
  const { room1, room2, alice, bob, carol, gate } = env;
  const outA = await alice.voip.inviteToCall(room1, CallType.Video, bob.userId);
  await gate.entered;

  const ringingB = nextIncomingCall(bob);
  const outB = await carol.voip.inviteToCall(room2, CallType.Video, bob.userId);
  const inB = await ringingB;
  expect(inB.callId).toBe(outB.callId);
  await inB.answer();
  await Promise.all([untilState(outB, CallState.Connected), untilState(inB, CallState.Connected)]);
  await expectMediaFlows(inB);
  await expectMediaFlows(outB);
  await outB.hangup();
  await untilState(inB, CallState.Ended);

  // Alice's call is still held on bob's side, and still waiting on hers.
  expect(outA.state).toBe(CallState.InviteSent);
  const stateWhileHeld = bob.voip.calls.get(`${room1}:${outA.callId}`)?.state;

  const ringingA = nextIncomingCall(bob);
  gate.release();
  const inA = await ringingA;
  expect(inA.callId).toBe(outA.callId);
  await inA.answer();
  await Promise.all([untilState(outA, CallState.Connected), untilState(inA, CallState.Connected)]);
  await expectMediaFlows(inA);
  await expectMediaFlows(outA);
  await outA.hangup();
  await untilState(inA, CallState.Ended);
  return { stateWhileHeld };
}

describe("no head-of-line blocking: one call's slow step never holds up another call", () => {
  it("getUserMedia for one incoming call pending (a permission prompt): a call in another room rings, connects and ends meanwhile", async () => {
    const env = await setup(() => ({}));
    const devices = env.bob.delegate.mediaDevices as {
      getUserMedia: (c?: MediaStreamConstraints) => Promise<MediaStream>;
    };
    const original = devices.getUserMedia.bind(devices);
    devices.getUserMedia = env.gate.wrap(original);
    const { stateWhileHeld } = await secondCallGoesThrough(env);
    // While held, alice's call existed on bob's side but had not rung yet (media comes before ringing).
    expect(stateWhileHeld).toBe(CallState.Fledgling);
  });

  it.each(["playRingtone", "registerListeners", "handleNewCall"] as const)(
    "a slow %s for one incoming call: a call in another room rings, connects and ends meanwhile",
    async (callback) => {
      const env = await setup((gate) => ({
        delegate: { [callback]: gate.wrap(() => undefined) },
      }));
      await secondCallGoesThrough(env);
    },
  );

  it("keeps the order of one call's events: a hangup that arrives while the invite is held ends the call after it rang", async () => {
    const env = await setup(() => ({}));
    const devices = env.bob.delegate.mediaDevices as {
      getUserMedia: (c?: MediaStreamConstraints) => Promise<MediaStream>;
    };
    devices.getUserMedia = env.gate.wrap(devices.getUserMedia.bind(devices));
    const outA = await env.alice.voip.inviteToCall(env.room1, CallType.Video, env.bob.userId);
    await env.gate.entered;
    const held = env.bob.voip.calls.get(`${env.room1}:${outA.callId}`);
    expect(held).toBeDefined();
    const states = recordStates(held!);
    await outA.hangup();
    await env.alice.voip.dispose(); // nothing more from alice
    env.gate.release();
    await untilState(held!, CallState.Ended);
    expect(states).toEqual([CallState.Ringing, CallState.Ended]);
    expect(held!.hangupReason).toBe(CallErrorCode.UserHangup);
    expect(env.bob.callbacks).toContain(`handleMissedCall:${outA.callId}`);
  });
});
