// Group-call membership over LocalHomeserver on a manual clock: publish, discover, refresh, leave, state keys,
// re-publication (reference §3.3, §6.3–§6.6, §6.9; PROTOCOL P1).
import { afterEach, describe, expect, it } from "vitest";
import { GroupCallState, MeshBackend, VoipErrorCode } from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import {
  famedlyEntry,
  groupWorld,
  memberContent,
  participantIds,
  publishedMeshEntry,
  recordGroup,
  type GroupWorld,
} from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const SIX_MIN = 6 * 60_000;

async function aliceAndBob(roomVersion?: string) {
  world = groupWorld();
  const alice = world.peer("@alice:local", "ALICE");
  const bob = world.peer("@bob:local", "BOB");
  const roomId = await world.hs.createRoom({
    creator: alice.userId,
    members: [bob.userId],
    ...(roomVersion === undefined ? {} : { roomVersion }),
  });
  return { alice, bob, roomId };
}

describe("group call membership", () => {
  it("publishes our entry in the famedly shape with backend and foci_active; another member discovers the call", async () => {
    const { alice, bob, roomId } = await aliceAndBob();
    const discovered: string[] = [];
    bob.voip.on("incomingGroupCall", (group) => discovered.push(group.groupCallId));

    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    expect(alice.voip.groupCalls.get(`${roomId}:${roomId}`)).toBe(group);
    expect(group.state).toBe(GroupCallState.LocalCallFeedUninitialized);
    const events = recordGroup(group);
    await group.enter();
    await world.settle();

    expect(memberContent(world.hs, roomId, alice.userId)).toEqual({
      memberships: [
        publishedMeshEntry({
          callId: roomId,
          deviceId: "ALICE",
          expiresTs: world.clock.now() + SIX_MIN,
          membershipId: alice.voip.sessionId,
        }),
      ],
    });
    // Mesh: local media first (reference §10.3 item 13), then entered.
    expect(events.map((e) => (e.kind === "stateChanged" ? e.state : e.kind))).toEqual([
      GroupCallState.InitializingLocalCallFeed,
      "streamAdded",
      GroupCallState.LocalCallFeedInitialized,
      GroupCallState.Entered,
      "participantsJoined",
    ]);
    expect(events.at(-1)).toEqual({
      kind: "participantsJoined",
      participants: [expect.objectContaining({ id: "@alice:local:ALICE", isLocal: true })],
    });
    expect(participantIds(group)).toEqual(["@alice:local:ALICE"]);
    expect(discovered).toEqual([roomId]);
    const bobGroup = bob.voip.groupCalls.get(`${roomId}:${roomId}`);
    expect(bobGroup && participantIds(bobGroup)).toEqual(["@alice:local:ALICE"]);
    expect(bobGroup?.backend.equals(new MeshBackend())).toBe(true);
    expect(bob.callbacks).toEqual([`handleNewGroupCall:${roomId}`]);
    expect(alice.callbacks).toEqual([`handleNewGroupCall:${roomId}`]);
  });

  it("re-publishes every 2 min with expires_ts = now + 6 min, and keeps doing so (reference §10.1 11c)", async () => {
    const { alice, roomId } = await aliceAndBob();
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    await world.settle();
    const published = (): number =>
      alice.requests.filter((r) => r === `sendStateEvent ${GroupEventType.Member} ${alice.userId}`).length;
    expect(published()).toBe(1);
    for (let i = 1; i <= 3; i++) {
      await world.advance(2 * 60_000);
      expect(published()).toBe(1 + i);
      const content = memberContent(world.hs, roomId, alice.userId) as {
        memberships: { expires_ts: number }[];
      };
      expect(content.memberships.map((m) => m.expires_ts)).toEqual([world.clock.now() + SIX_MIN]);
    }
    await group.leave();
    expect(published()).toBe(5); // the leave
    await world.advance(10 * 60_000);
    expect(published()).toBe(5);
  });

  it("leaving removes only our device's entry for that call; other entries stay byte for byte", async () => {
    const { alice, bob, roomId } = await aliceAndBob();
    const other = famedlyEntry({
      callId: "another-call",
      deviceId: "OLDPHONE",
      expiresTs: world.clock.now() + SIX_MIN,
    });
    const broken = { call_id: roomId, device_id: "", expires_ts: "soon" };
    await alice.client.sendStateEvent(roomId, GroupEventType.Member, alice.userId, {
      memberships: [other, broken],
    });
    await world.settle();
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    await world.settle();
    const entered = memberContent(world.hs, roomId, alice.userId) as { memberships: unknown[] };
    expect(entered.memberships.slice(0, 2)).toEqual([other, broken]);
    expect(entered.memberships).toHaveLength(3);
    const bobGroup = bob.voip.groupCalls.get(`${roomId}:${roomId}`);
    const left = bobGroup ? recordGroup(bobGroup) : [];

    await group.leave();
    await world.settle();
    expect(memberContent(world.hs, roomId, alice.userId)).toEqual({ memberships: [other, broken] });
    expect(group.state).toBe(GroupCallState.Ended);
    expect(alice.voip.groupCalls.has(`${roomId}:${roomId}`)).toBe(false);
    // The other entry is a call of its own (discovered too); this one ended for both.
    const calls = [
      `handleNewGroupCall:another-call`,
      `handleNewGroupCall:${roomId}`,
      `handleGroupCallEnded:${roomId}`,
    ];
    expect(alice.callbacks).toEqual(calls);
    // Bob sees alice leave, and the call end: nobody is left in it.
    expect(left.map((e) => e.kind)).toEqual(["participantsLeft", "stateChanged"]);
    expect([...bob.voip.groupCalls.keys()]).toEqual([`${roomId}:another-call`]);
    expect(bob.callbacks).toEqual(calls);
  });

  it("two devices of one user share the user-id key; each keeps the other's entry", async () => {
    const { alice, bob, roomId } = await aliceAndBob();
    const phone = world.peer("@alice:local", "PHONE");
    const a = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await a.enter();
    await world.settle();
    const p = await phone.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await p.enter();
    await world.settle();
    const devices = (): string[] =>
      (
        memberContent(world.hs, roomId, alice.userId) as { memberships: { device_id: string }[] }
      ).memberships.map((m) => m.device_id);
    expect(devices()).toEqual(["ALICE", "PHONE"]);
    const bobGroup = bob.voip.groupCalls.get(`${roomId}:${roomId}`);
    expect(bobGroup && participantIds(bobGroup)).toEqual(["@alice:local:ALICE", "@alice:local:PHONE"]);
    await world.advance(2 * 60_000);
    expect(devices().sort()).toEqual(["ALICE", "PHONE"]);
    await p.leave();
    await world.settle();
    expect(devices()).toEqual(["ALICE"]);
    expect(bobGroup && participantIds(bobGroup)).toEqual(["@alice:local:ALICE"]);
  });

  it("publishes our entry again when another device of ours overwrote the shared key", async () => {
    const { alice, roomId } = await aliceAndBob();
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    const events = recordGroup(group);
    await group.enter();
    await world.settle();
    const phone = world.hs.createClient("@alice:local", "PHONE");
    const phoneEntry = famedlyEntry({
      callId: roomId,
      deviceId: "PHONE",
      expiresTs: world.clock.now() + SIX_MIN,
    });
    await phone.sendStateEvent(roomId, GroupEventType.Member, alice.userId, { memberships: [phoneEntry] });
    await world.settle();
    const content = memberContent(world.hs, roomId, alice.userId) as { memberships: { device_id: string }[] };
    expect(content.memberships.map((m) => m.device_id)).toEqual(["PHONE", "ALICE"]);
    expect(content.memberships[0]).toEqual(phoneEntry);
    expect(group.state).toBe(GroupCallState.Entered);
    expect(events.filter((e) => e.kind === "participantsLeft")).toEqual([]);
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@alice:local:PHONE"]);
  });

  it.each([
    ["a room version without MSC3757: the user id", undefined, false, (u: string) => u],
    [
      "an MSC3757 room version: userId_deviceId",
      "org.matrix.msc3757.10",
      false,
      (u: string, d: string) => `${u}_${d}`,
    ],
    [
      "the unprotected per-device option: deviceId_userId",
      undefined,
      true,
      (u: string, d: string) => `${d}_${u}`,
    ],
  ])("state key in %s", async (_name, roomVersion, unprotected, key) => {
    world = groupWorld();
    const opts = { useUnprotectedPerDeviceStateKeys: unprotected };
    const alice = world.peer("@alice:local", "ALICE", opts);
    const bob = world.peer("@bob:local", "BOB", opts);
    const roomId = await world.hs.createRoom({
      creator: alice.userId,
      members: [bob.userId],
      ...(roomVersion === undefined ? {} : { roomVersion }),
    });
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    await world.settle();
    const stateKey = key(alice.userId, alice.deviceId);
    expect(
      (memberContent(world.hs, roomId, stateKey) as { memberships: unknown[] }).memberships,
    ).toHaveLength(1);
    const bobGroup = bob.voip.groupCalls.get(`${roomId}:${roomId}`);
    expect(bobGroup && participantIds(bobGroup)).toEqual(["@alice:local:ALICE"]);
    await group.leave();
    await world.settle();
    expect(memberContent(world.hs, roomId, stateKey)).toEqual({ memberships: [] });
    expect(bob.voip.groupCalls.size).toBe(0);
  });

  it("counts participants whatever their application (reference §10.1 11b)", async () => {
    const { alice, bob, roomId } = await aliceAndBob();
    // fetchOrCreateGroupCall lets every member publish (alice may change the power levels).
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await world.settle();
    await bob.client.sendStateEvent(roomId, GroupEventType.Member, bob.userId, {
      memberships: [
        famedlyEntry({
          callId: roomId,
          deviceId: "BOB",
          expiresTs: world.clock.now() + SIX_MIN,
          application: "com.example.upgraded",
        }),
      ],
    });
    await world.settle();
    await group.enter();
    await world.settle();
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@bob:local:BOB"]);
    expect(group.application).toBe("m.call");
  });

  it("enter() twice, or after leave(), is an invalid_state error", async () => {
    const { alice, roomId } = await aliceAndBob();
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    await expect(group.enter()).rejects.toMatchObject({ code: VoipErrorCode.InvalidState });
    await group.leave();
    await expect(group.enter()).rejects.toMatchObject({ code: VoipErrorCode.InvalidState });
  });

  it("dispose() leaves every group call it entered", async () => {
    const { alice, bob, roomId } = await aliceAndBob();
    const second = await world.hs.createRoom({ creator: alice.userId, members: [bob.userId] });
    const one = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    const two = await alice.voip.fetchOrCreateGroupCall("call-two", second, new MeshBackend());
    await one.enter();
    await two.enter();
    await world.settle();
    expect(world.hs.pendingDelayedEvents).toBe(2);
    await alice.voip.dispose();
    await world.settle();
    expect(memberContent(world.hs, roomId, alice.userId)).toEqual({ memberships: [] });
    expect(memberContent(world.hs, second, alice.userId)).toEqual({ memberships: [] });
    expect(world.hs.pendingDelayedEvents).toBe(0);
    expect([one.state, two.state]).toEqual([GroupCallState.Ended, GroupCallState.Ended]);
    expect(bob.voip.groupCalls.size).toBe(0);
    expect(world.clock.pendingTimers()).toBe(0);
  });

  it("two calls in one room share our state key: entering and leaving both keeps the key consistent", async () => {
    const { alice, roomId } = await aliceAndBob();
    const one = await alice.voip.fetchOrCreateGroupCall("one", roomId, new MeshBackend());
    const two = await alice.voip.fetchOrCreateGroupCall("two", roomId, new MeshBackend());
    await one.enter();
    await two.enter();
    await world.settle();
    const calls = (): string[] =>
      (memberContent(world.hs, roomId, alice.userId) as { memberships: { call_id: string }[] }).memberships
        .map((m) => m.call_id)
        .sort();
    expect(calls()).toEqual(["one", "two"]);
    await alice.voip.dispose();
    await world.settle();
    expect(calls()).toEqual([]);
  });
});
