// Property-based fuzzing of every inbound event type through the real entry point (VoIP over LocalHomeserver, with
// hand-made sync batches injected into the callee's port): hostile events never throw out of the sync listener,
// never cause an unhandled rejection, and never change a live call: a connected call in one room and a ringing one
// in another keep their state and their remote party, and neither ends. Fixed seed (FUZZ_SEED, default 7); more
// runs with FUZZ_RUNS=.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallState, CallType, type CallSession, type SyncBatch } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import {
  connectedCall,
  InjectablePort,
  makePeer,
  nextIncomingCall,
  type Peer,
  untilState,
} from "../helpers/calls.js";
import { groupEvent } from "./arbitraries/group.js";
import { roomCallEvent } from "./arbitraries/roomCall.js";
import { toDeviceEvent } from "./arbitraries/toDevice.js";
import type { FuzzEvent, FuzzWorld } from "./arbitraries/types.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
const SEED = Number(process.env.FUZZ_SEED ?? 7);

let hs: LocalHomeserver;
let alice: Peer;
let bob: Peer;
let bobPort: InjectablePort;
let connected: CallSession;
let ringing: CallSession;
let world: FuzzWorld;
const rejections: unknown[] = [];
const onRejection = (reason: unknown): void => {
  rejections.push(reason);
};
let seq = 0;

beforeAll(async () => {
  process.on("unhandledRejection", onRejection);
  hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const members = ["@bob:local", "@mallory:local"];
  const room1 = await hs.createRoom({ creator: "@alice:local", members });
  const room2 = await hs.createRoom({ creator: "@alice:local", members });
  bobPort = new InjectablePort(hs.createClient("@bob:local", "BOB"));
  alice = makePeer(hs, "@alice:local", "ALICE", { delegate: { video: false } });
  bob = makePeer(hs, "@bob:local", "BOB", { client: bobPort, delegate: { video: false } });
  ({ incoming: connected } = await connectedCall({ roomId: room1, alice, bob }, CallType.Voice));
  const rings = nextIncomingCall(bob);
  await alice.voip.inviteToCall(room2, CallType.Voice, bob.userId);
  ringing = await rings;
  await untilState(ringing, CallState.Ringing);
  world = {
    calls: [
      { roomId: room1, callId: connected.callId, peer: alice.userId, peerParty: alice.voip.sessionId },
      { roomId: room2, callId: ringing.callId, peer: alice.userId, peerParty: alice.voip.sessionId },
    ],
    self: bob.userId,
    stranger: "@mallory:local",
  };
}, 60_000);

afterAll(async () => {
  process.off("unhandledRejection", onRejection);
  await Promise.all([alice.voip.dispose(), bob.voip.dispose()]);
  await hs.close();
});

function batchOf(events: readonly FuzzEvent[]): SyncBatch {
  const batch: SyncBatch = { rooms: [], toDevice: [] };
  for (const e of events) {
    if (e.transport === "toDevice") {
      batch.toDevice.push(e.event);
      continue;
    }
    let room = batch.rooms.find((r) => r.roomId === e.roomId);
    if (!room) {
      room = { roomId: e.roomId, initial: false, timeline: [], state: [] };
      batch.rooms.push(room);
    }
    const eventId = `$fuzz${++seq}`;
    if (e.transport === "state") {
      room.state.push({ ...e.event, roomId: e.roomId, eventId });
      room.timeline.push({ ...e.event, roomId: e.roomId, eventId });
    } else {
      room.timeline.push({ ...e.event, roomId: e.roomId, eventId });
    }
  }
  return batch;
}

/** The live calls are untouched. */
function expectCallsUntouched(): void {
  const party = alice.voip.sessionId;
  expect({ state: connected.state, party: connected.remotePartyId, user: connected.remoteUserId }).toEqual({
    state: CallState.Connected,
    party,
    user: alice.userId,
  });
  expect({ state: ringing.state, party: ringing.remotePartyId, user: ringing.remoteUserId }).toEqual({
    state: CallState.Ringing,
    party,
    user: alice.userId,
  });
  expect(bob.voip.calls.get(`${connected.roomId}:${connected.callId}`)).toBe(connected);
  expect(bob.voip.calls.get(`${ringing.roomId}:${ringing.callId}`)).toBe(ringing);
  expect(rejections).toEqual([]);
}

async function feed(events: readonly FuzzEvent[]): Promise<void> {
  await bobPort.inject(batchOf(events)); // rejects if anything escapes the sync listener
  expectCallsUntouched();
}

const params = (): { numRuns: number; seed: number; endOnFailure: boolean } => ({
  numRuns: RUNS,
  seed: SEED,
  endOnFailure: true,
});

describe("fuzzing inbound events through VoIP", () => {
  it("1:1 signalling of every m.call.* type (and alias): malformed, wrong sender, wrong party, unknown call", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(roomCallEvent(world), { minLength: 1, maxLength: 8 }), feed),
      params(),
    );
  }, 120_000);

  it("replays of the peer's own signalling (invite, candidates, select_answer) change nothing", async () => {
    const replays: FuzzEvent[] = hs
      .transcript()
      .filter((t) => t.kind === "room" && t.sender === alice.userId && t.type.startsWith("m.call."))
      .map((t) => ({
        transport: "room",
        roomId: t.roomId!,
        event: {
          sender: t.sender,
          type: t.type,
          content: t.content,
          originServerTs: Date.now(),
          unsigned: { age: 0 },
        },
      }));
    expect(replays.map((r) => r.event.type)).toEqual(
      expect.arrayContaining(["m.call.invite", "m.call.select_answer"]),
    );
    await fc.assert(fc.asyncProperty(fc.shuffledSubarray(replays, { minLength: 1 }), feed), {
      ...params(),
      numRuns: Math.min(RUNS, 10),
    });
  }, 120_000);

  it("group membership state, reactions, redactions and notifications", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(groupEvent(world), { minLength: 1, maxLength: 8 }), feed),
      params(),
    );
  }, 120_000);

  it("to-device mesh signalling and SFU key events and requests", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(toDeviceEvent(world), { minLength: 1, maxLength: 8 }), feed),
      params(),
    );
  }, 120_000);

  it("all of it mixed in one batch; the calls still end normally afterwards", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(roomCallEvent(world), groupEvent(world), toDeviceEvent(world)), {
          minLength: 1,
          maxLength: 12,
        }),
        feed,
      ),
      params(),
    );
    await new Promise((r) => setTimeout(r, 100));
    expectCallsUntouched();
    await ringing.reject();
    await connected.hangup();
    await untilState(connected, CallState.Ended);
    expect(rejections).toEqual([]);
  }, 120_000);
});
