// MSC4075 ring notification on enter (reference §3.5, §6.3 step 6) and power levels (§2.12, §6.1, §10.1 item 9).
import { afterEach, describe, expect, it } from "vitest";
import { LiveKitBackend, MeshBackend, VoIP, VoipErrorCode } from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { famedlyEntry, groupWorld, type GroupWorld } from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const MEMBER = GroupEventType.Member;

function notifications(w: GroupWorld) {
  return w.hs.transcript().filter((e) => e.type === GroupEventType.RtcNotification);
}

describe("MSC4075 notification", () => {
  it("is sent by the first member of a call in a room that is not a DM, relating to the membership", async () => {
    world = groupWorld();
    const alice = world.peer("@alice:local", "ALICE");
    const bob = world.peer("@bob:local", "BOB");
    const roomId = await world.hs.createRoom({ creator: alice.userId, members: [bob.userId] });
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    await world.settle();
    expect(notifications(world).map((e) => e.content)).toEqual([
      {
        sender_ts: world.clock.now(),
        lifetime: 30_000,
        notification_type: "notification",
        "m.mentions": { room: true },
        "m.relates_to": { rel_type: "m.reference", event_id: group.membershipEventId },
      },
    ]);
    // Bob joins a running call: no second notification.
    const bobGroup = bob.voip.groupCalls.get(`${roomId}:${roomId}`);
    await bobGroup?.enter();
    await world.settle();
    expect(notifications(world)).toHaveLength(1);
  });

  it("is not sent in a DM", async () => {
    world = groupWorld();
    const alice = world.peer("@alice:local", "ALICE");
    const roomId = await world.hs.createRoom({
      creator: alice.userId,
      members: ["@bob:local"],
      isDirect: true,
    });
    const group = await alice.voip.fetchOrCreateGroupCall(
      roomId,
      roomId,
      new LiveKitBackend({ livekitServiceUrl: "https://lk/jwt", livekitAlias: roomId }),
    );
    await group.enter();
    await world.settle();
    expect(notifications(world)).toEqual([]);
  });
});

describe("power levels", () => {
  it("a room without a power-levels event lets members join (state_default is 0 there)", async () => {
    world = groupWorld();
    const alice = world.peer("@alice:local", "ALICE");
    const roomId = await world.hs.createRoom({ creator: alice.userId, members: ["@bob:local"] });
    // The port reports no power levels, as the matrix-js-sdk port does for a room without the event.
    const inner = world.hs.createClient("@bob:local", "BOB");
    const client = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop === "getRoom") {
          return (id: string) => {
            const room = target.getRoom(id);
            return room && { ...room, powerLevels: undefined };
          };
        }
        const value: unknown = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const bob = new VoIP(client, createNodeDelegate(), { clock: world.clock });
    try {
      expect(bob.canJoinGroupCall(roomId)).toBe(true);
      expect(bob.canJoinGroupCall("!unknown:local")).toBe(false);
      await expect(bob.enableGroupCalls(roomId)).resolves.toBeUndefined();
    } finally {
      await bob.dispose();
    }
  });

  it("canJoinGroupCall, enableGroupCalls and the error when we may not join (§10.1 item 9)", async () => {
    world = groupWorld();
    const alice = world.peer("@alice:local", "ALICE");
    const bob = world.peer("@bob:local", "BOB");
    const roomId = await world.hs.createRoom({
      creator: alice.userId,
      members: [bob.userId],
      powerLevels: { events: { [MEMBER]: 100 }, state_default: 50, users_default: 0 },
    });
    expect(alice.voip.canJoinGroupCall(roomId)).toBe(true); // admin
    expect(bob.voip.canJoinGroupCall(roomId)).toBe(false);
    await expect(bob.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend())).rejects.toMatchObject({
      code: VoipErrorCode.Forbidden,
      message: expect.stringContaining("power level 0 < 100") as string,
    });
    await expect(bob.voip.enableGroupCalls(roomId)).rejects.toMatchObject({ code: VoipErrorCode.Forbidden });
    await alice.voip.enableGroupCalls(roomId);
    await world.settle();
    expect(bob.voip.canJoinGroupCall(roomId)).toBe(true);
    const levels = world.hs.getRoomState(roomId).find((e) => e.type === "m.room.power_levels")?.content;
    expect((levels?.events as Record<string, number>)[MEMBER]).toBe(0);
    const group = await bob.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    // Enabling again sends nothing.
    const before = alice.requests.length;
    await alice.voip.enableGroupCalls(roomId);
    expect(alice.requests.length).toBe(before);
  });

  it("a discovered call checks the power level on enter()", async () => {
    world = groupWorld();
    const alice = world.peer("@alice:local", "ALICE");
    const bob = world.peer("@bob:local", "BOB");
    const roomId = await world.hs.createRoom({ creator: alice.userId, members: [bob.userId] });
    await alice.client.sendStateEvent(roomId, MEMBER, alice.userId, {
      memberships: [
        famedlyEntry({ callId: roomId, deviceId: "ALICE", expiresTs: world.clock.now() + 60_000 }),
      ],
    });
    await world.settle();
    const discovered = bob.voip.groupCalls.get(`${roomId}:${roomId}`);
    await expect(discovered?.enter()).rejects.toMatchObject({ code: VoipErrorCode.Forbidden });
  });
});
