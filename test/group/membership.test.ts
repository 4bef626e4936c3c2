// Group-call membership over LocalHomeserver on a manual clock: publish, discover, refresh, leave (reference §6.3–§6.6).
import { afterEach, describe, expect, it } from "vitest";
import { GroupCallState, MeshBackend } from "../../src/index.js";
import { groupWorld, memberContent, participantIds, recordGroup, type GroupWorld } from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

describe("group call membership", () => {
  it("publishes our entry in the famedly shape with backend and foci_active; another member discovers the call", async () => {
    world = groupWorld();
    const alice = world.peer("@alice:local", "ALICE");
    const bob = world.peer("@bob:local", "BOB");
    const roomId = await world.hs.createRoom({ creator: alice.userId, members: [bob.userId] });
    const discovered: string[] = [];
    bob.voip.on("incomingGroupCall", (group) => discovered.push(group.groupCallId));

    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    const events = recordGroup(group);
    await group.enter();
    await world.settle();

    expect(memberContent(world.hs, roomId, alice.userId)).toEqual({
      memberships: [
        {
          call_id: roomId,
          application: "m.call",
          scope: "m.room",
          backend: { type: "mesh" },
          foci_active: [{ type: "mesh" }],
          device_id: "ALICE",
          expires_ts: world.clock.now() + 6 * 60_000,
          membershipID: alice.voip.sessionId,
          feeds: [],
        },
      ],
    });
    expect(events.map((e) => e.kind)).toEqual(["stateChanged", "participantsJoined"]);
    expect(group.state).toBe(GroupCallState.Entered);
    expect(participantIds(group)).toEqual(["@alice:local:ALICE"]);
    expect(discovered).toEqual([roomId]);
    const bobGroup = bob.voip.groupCalls.get(`${roomId}:${roomId}`);
    expect(bobGroup && participantIds(bobGroup)).toEqual(["@alice:local:ALICE"]);
    expect(bob.callbacks).toEqual([`handleNewGroupCall:${roomId}`]);
    expect(alice.callbacks).toEqual([`handleNewGroupCall:${roomId}`]);
  });
});
