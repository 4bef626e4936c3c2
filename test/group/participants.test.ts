// Participants, expiry and discovery (reference §6.2, §6.6, §6.8, §10.1 items 10 and 13, §10.3 items 1–3; PROTOCOL G1).
import { afterEach, describe, expect, it } from "vitest";
import {
  GroupCallState,
  LiveKitBackend,
  MeshBackend,
  type GroupCallEvents,
  type GroupCallSession,
  type VoipEvents,
} from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { captureEvents } from "../../src/testing/index.js";
import { famedlyEntry, groupWorld, participantIds, recordGroup, type GroupWorld } from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const SIX_MIN = 6 * 60_000;
const OPEN = { events: { [GroupEventType.Member]: 0, [GroupEventType.ElementMember]: 0 } };

async function setup() {
  world = groupWorld();
  const alice = world.peer("@alice:local", "ALICE");
  const bob = world.hs.createClient("@bob:local", "BOB");
  const carol = world.hs.createClient("@carol:local", "CAROL");
  const roomId = await world.hs.createRoom({
    creator: alice.userId,
    members: [bob.userId, carol.userId],
    powerLevels: OPEN,
  });
  const publish = async (client: typeof bob, entries: Record<string, unknown>[]): Promise<void> => {
    await client.sendStateEvent(roomId, GroupEventType.Member, client.userId, { memberships: entries });
    await world.settle();
  };
  return { alice, bob, carol, roomId, publish };
}

function ids(list: readonly { id: string }[]): string[] {
  return list.map((p) => p.id);
}

describe("participants", () => {
  it("emits participantsJoined and participantsLeft from membership changes, once each (§10.3 items 2, 3)", async () => {
    const { alice, bob, roomId, publish } = await setup();
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    await world.settle();
    const events = captureEvents<GroupCallEvents>(group, ["participantsJoined", "participantsLeft"]);
    await publish(bob, [
      famedlyEntry({ callId: roomId, deviceId: "BOB", expiresTs: world.clock.now() + SIX_MIN }),
    ]);
    expect(events.events.map((e) => [e.event, ids(e.args[0])])).toEqual([
      ["participantsJoined", ["@bob:local:BOB"]],
    ]);
    // A refresh is no join.
    await publish(bob, [
      famedlyEntry({ callId: roomId, deviceId: "BOB", expiresTs: world.clock.now() + 2 * SIX_MIN }),
    ]);
    expect(events.events).toHaveLength(1);
    await publish(bob, []);
    expect(events.events.map((e) => [e.event, ids(e.args[0])])).toEqual([
      ["participantsJoined", ["@bob:local:BOB"]],
      ["participantsLeft", ["@bob:local:BOB"]],
    ]);
    expect(participantIds(group)).toEqual(["@alice:local:ALICE"]);
  });

  it("expires a member at expires_ts + 6 min even when no other event arrives", async () => {
    const { alice, bob, roomId, publish } = await setup();
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    const expiresTs = world.clock.now() + 60_000;
    await publish(bob, [famedlyEntry({ callId: roomId, deviceId: "BOB", expiresTs })]);
    const left = captureEvents<GroupCallEvents>(group, ["participantsLeft"]);
    await world.advance(expiresTs + SIX_MIN - world.clock.now());
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@bob:local:BOB"]);
    await world.advance(1);
    expect(left.of("participantsLeft").map(([p]) => ids(p))).toEqual([["@bob:local:BOB"]]);
    expect(participantIds(group)).toEqual(["@alice:local:ALICE"]);
    expect(group.state).toBe(GroupCallState.Entered);
  });

  it("counts only non-expired entries, with the 6 min grace (§10.1 item 10)", async () => {
    const { alice, bob, carol, publish } = await setup();
    const discovered = captureEvents<VoipEvents>(alice.voip, ["incomingGroupCall"]);
    await publish(bob, [
      famedlyEntry({ callId: "c", deviceId: "BOB", expiresTs: world.clock.now() - 60 * 60_000 }),
    ]);
    expect(discovered.events).toHaveLength(0);
    await publish(carol, [
      famedlyEntry({ callId: "c", deviceId: "CAROL", expiresTs: world.clock.now() + 60 * 60_000 }),
    ]);
    const [group] = discovered.of("incomingGroupCall").map(([g]) => g);
    expect(group && participantIds(group)).toEqual(["@carol:local:CAROL"]);
    await publish(bob, [famedlyEntry({ callId: "c", deviceId: "BOB", expiresTs: world.clock.now() })]);
    expect(group && participantIds(group)).toEqual(["@bob:local:BOB", "@carol:local:CAROL"]);
    expect(discovered.events).toHaveLength(1);
  });

  it("discovers calls in room state at start-up and ends them when their last member expires (G1)", async () => {
    const { bob, roomId, publish } = await setup();
    const livekit = { type: "livekit", livekit_service_url: "https://lk.example/jwt", livekit_alias: roomId };
    await publish(bob, [
      famedlyEntry({
        callId: "",
        deviceId: "BOB",
        expiresTs: world.clock.now() + 60_000,
        application: "m.call.video",
        backend: livekit,
      }),
    ]);
    const dave = world.peer("@carol:local", "LAPTOP");
    const found = await new Promise<GroupCallSession>((resolve) =>
      dave.voip.on("incomingGroupCall", resolve),
    );
    expect(found).toMatchObject({ groupCallId: "", roomId, application: "m.call.video", scope: "m.room" });
    expect(found.backend.toJson()).toEqual(livekit);
    expect(participantIds(found)).toEqual(["@bob:local:BOB"]);
    await world.settle();
    expect(dave.callbacks).toEqual(["handleNewGroupCall:"]);
    const ended = captureEvents<VoipEvents>(dave.voip, ["groupCallEnded"]);
    await world.advance(60_000 + SIX_MIN + 1);
    expect(ended.of("groupCallEnded")).toEqual([[found]]);
    expect(found.state).toBe(GroupCallState.Ended);
    expect(dave.voip.groupCalls.size).toBe(0);
    expect(dave.callbacks).toEqual(["handleNewGroupCall:", "handleGroupCallEnded:"]);
  });

  it("one state event touching several calls updates each once and discovers the new one (§10.1 item 13)", async () => {
    const { alice, bob, carol, roomId, publish } = await setup();
    const expiresTs = world.clock.now() + SIX_MIN;
    await publish(bob, [
      famedlyEntry({ callId: "a", deviceId: "BOB", expiresTs }),
      famedlyEntry({ callId: "b", deviceId: "BOB", expiresTs }),
    ]);
    const a = alice.voip.groupCalls.get(`${roomId}:a`);
    const b = alice.voip.groupCalls.get(`${roomId}:b`);
    const joinedA = a ? captureEvents<GroupCallEvents>(a, ["participantsJoined"]) : undefined;
    const joinedB = b ? captureEvents<GroupCallEvents>(b, ["participantsJoined"]) : undefined;
    await publish(
      carol,
      ["a", "b", "c"].map((callId) => famedlyEntry({ callId, deviceId: "CAROL", expiresTs })),
    );
    expect(joinedA?.of("participantsJoined").map(([p]) => ids(p))).toEqual([["@carol:local:CAROL"]]);
    expect(joinedB?.of("participantsJoined").map(([p]) => ids(p))).toEqual([["@carol:local:CAROL"]]);
    expect([...alice.voip.groupCalls.keys()].sort()).toEqual([`${roomId}:a`, `${roomId}:b`, `${roomId}:c`]);
  });

  it("delivers every event on the aggregated stream in order (§10.3 item 1)", async () => {
    const { alice, bob, roomId, publish } = await setup();
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    const named: string[] = [];
    for (const name of ["stateChanged", "participantsJoined", "participantsLeft"] as const) {
      group.on(name, () => named.push(name));
    }
    const stream = recordGroup(group);
    await group.enter();
    await publish(bob, [
      famedlyEntry({ callId: roomId, deviceId: "BOB", expiresTs: world.clock.now() + SIX_MIN }),
    ]);
    await publish(bob, []);
    await group.leave();
    const kinds: ReadonlySet<string> = new Set(["stateChanged", "participantsJoined", "participantsLeft"]);
    expect(stream.filter((e) => kinds.has(e.kind)).map((e) => e.kind)).toEqual(named);
    expect(stream.filter((e) => e.kind === "stateChanged").map((e) => [e.previous, e.state])).toEqual([
      [GroupCallState.LocalCallFeedUninitialized, GroupCallState.InitializingLocalCallFeed],
      [GroupCallState.InitializingLocalCallFeed, GroupCallState.LocalCallFeedInitialized],
      [GroupCallState.LocalCallFeedInitialized, GroupCallState.Entered],
      [GroupCallState.Entered, GroupCallState.Leaving],
      [GroupCallState.Leaving, GroupCallState.Ended],
    ]);
    expect(named).toEqual([
      "stateChanged",
      "stateChanged",
      "stateChanged",
      "participantsJoined",
      "participantsJoined",
      "participantsLeft",
      "stateChanged",
      "stateChanged",
    ]);
  });

  it("reads the three membership shapes into one call: famedly v1 (backend), v2 (foci_active), element (P3)", async () => {
    const { alice, bob, carol, roomId } = await setup();
    const focus = { type: "livekit", livekit_service_url: "https://lk.example/jwt", livekit_alias: roomId };
    const group = await alice.voip.fetchOrCreateGroupCall(
      "",
      roomId,
      new LiveKitBackend({ livekitServiceUrl: focus.livekit_service_url, livekitAlias: roomId }),
    );
    await group.enter();
    await world.settle();
    const now = world.clock.now();
    await bob.sendStateEvent(roomId, GroupEventType.ElementMember, `_${bob.userId}_BOB_m.call`, {
      application: "m.call",
      call_id: "",
      scope: "m.room",
      device_id: "BOB",
      expires: 4 * 60 * 60_000,
      focus_active: { type: "livekit", focus_selection: "oldest_membership" },
      foci_preferred: [focus],
    });
    await carol.sendStateEvent(roomId, GroupEventType.Member, carol.userId, {
      memberships: [
        {
          call_id: "",
          application: "m.call",
          scope: "m.room",
          backend: focus,
          device_id: "CAROL",
          expires_ts: now + SIX_MIN,
        },
      ],
    });
    await world.settle();
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@bob:local:BOB", "@carol:local:CAROL"]);
    // Element leaves with an empty content.
    await bob.sendStateEvent(roomId, GroupEventType.ElementMember, `_${bob.userId}_BOB_m.call`, {});
    await world.settle();
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@carol:local:CAROL"]);
  });

  it("lists members in the order they published, oldest first (§10.1 item 8, adapted)", async () => {
    const { bob, carol, publish } = await setup();
    const entry = (deviceId: string) =>
      famedlyEntry({ callId: "c", deviceId, expiresTs: world.clock.now() + SIX_MIN });
    await publish(carol, [entry("CAROL")]);
    await world.advance(1_000);
    await publish(bob, [entry("BOB")]);
    await world.advance(1_000);
    await publish(carol, [entry("CAROL")]); // carol's key was set first; her current event is the newest
    const late = world.peer("@bob:local", "LAPTOP");
    const found = await new Promise<GroupCallSession>((resolve) =>
      late.voip.on("incomingGroupCall", resolve),
    );
    expect(found.participants.map((p) => p.id)).toEqual(["@bob:local:BOB", "@carol:local:CAROL"]);
  });
});
