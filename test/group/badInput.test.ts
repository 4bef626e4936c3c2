// Bad membership input (PROTOCOL §5): malformed entries, foreign state keys, users not in the room. Nothing throws
// out of the sync handler, and the valid entries of the same event survive.
import { afterEach, describe, expect, it } from "vitest";
import { MeshBackend, type GroupCallEvents } from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { captureEvents } from "../../src/testing/index.js";
import { famedlyEntry, groupWorld, participantIds, type GroupWorld } from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const MEMBER = GroupEventType.Member;
const SIX_MIN = 6 * 60_000;

async function setup(roomVersion?: string) {
  world = groupWorld();
  const alice = world.peer("@alice:local", "ALICE", { useUnprotectedPerDeviceStateKeys: false });
  const bob = world.hs.createClient("@bob:local", "BOB");
  const carol = world.hs.createClient("@carol:local", "CAROL");
  const roomId = await world.hs.createRoom({
    creator: alice.userId,
    members: [bob.userId, carol.userId],
    powerLevels: { events: { [MEMBER]: 0 } },
    ...(roomVersion === undefined ? {} : { roomVersion }),
  });
  const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
  await group.enter();
  await world.settle();
  return { alice, bob, carol, roomId, group };
}

function noErrors(logs: readonly string[]): void {
  expect(logs.filter((l) => l.startsWith("error") || l.startsWith("warn"))).toEqual([]);
}

describe("bad membership input", () => {
  it("skips each malformed entry and keeps the valid ones of the same event", async () => {
    const { alice, bob, roomId, group } = await setup();
    const good = famedlyEntry({ callId: roomId, deviceId: "BOB", expiresTs: world.clock.now() + SIX_MIN });
    await bob.sendStateEvent(roomId, MEMBER, bob.userId, {
      memberships: [
        { ...good, device_id: undefined },
        { ...good, device_id: "STRINGTS", expires_ts: "1700000000000" },
        { ...good, device_id: "NOTLIST", foci_active: { type: "mesh" } },
        { ...good, device_id: "UNKNOWN", foci_active: [{ type: "p2p-over-carrier-pigeon" }] },
        "not an object",
        null,
        good,
      ],
    });
    await world.settle();
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@bob:local:BOB"]);
    const dropped = alice.logs.filter((l) => l.startsWith("debug dropped membership entry"));
    expect(dropped).toHaveLength(6);
    expect(dropped[1]).toContain("memberships.1.expires_ts");
    noErrors(alice.logs);
  });

  it("ignores contents that are not a membership list, and keeps handling later events", async () => {
    const { alice, bob, carol, roomId, group } = await setup();
    await bob.sendStateEvent(roomId, MEMBER, bob.userId, { memberships: "all of them" });
    await bob.sendStateEvent(roomId, MEMBER, "BOB_@bob:local", { nonsense: true });
    await carol.sendStateEvent(roomId, MEMBER, carol.userId, {
      memberships: [
        famedlyEntry({ callId: roomId, deviceId: "CAROL", expiresTs: world.clock.now() + SIX_MIN }),
      ],
    });
    await world.settle();
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@carol:local:CAROL"]);
    noErrors(alice.logs);
  });

  it("ignores entries under a state key the sender does not own", async () => {
    const { alice, carol, roomId, group } = await setup("org.matrix.msc3757.10");
    const joined = captureEvents<GroupCallEvents>(group, ["participantsJoined"]);
    const forBob = famedlyEntry({ callId: roomId, deviceId: "BOB", expiresTs: world.clock.now() + SIX_MIN });
    // alice (admin) may write bob's owned key in an MSC3757 room; the entry still is not bob's
    await alice.client.sendStateEvent(roomId, MEMBER, "@bob:local_BOB", { memberships: [forBob] });
    // unprotected-looking keys anyone can write
    await carol.sendStateEvent(roomId, MEMBER, "BOB_@bob:local", { memberships: [forBob] });
    await carol.sendStateEvent(roomId, MEMBER, "whatever", {
      memberships: [
        famedlyEntry({ callId: roomId, deviceId: "CAROL", expiresTs: world.clock.now() + SIX_MIN }),
      ],
    });
    await world.settle();
    expect(joined.events).toEqual([]);
    expect(participantIds(group)).toEqual(["@alice:local:ALICE"]);
    expect(alice.logs.filter((l) => l.includes("state key not owned"))).toHaveLength(3);
  });

  it("drops the memberships of a user who left the room, and counts them again when they rejoin", async () => {
    const { bob, roomId, group } = await setup();
    await bob.sendStateEvent(roomId, MEMBER, bob.userId, {
      memberships: [
        famedlyEntry({ callId: roomId, deviceId: "BOB", expiresTs: world.clock.now() + SIX_MIN }),
      ],
    });
    await world.settle();
    const events = captureEvents<GroupCallEvents>(group, ["participantsJoined", "participantsLeft"]);
    await world.hs.leaveRoom(roomId, bob.userId);
    await world.settle();
    expect(participantIds(group)).toEqual(["@alice:local:ALICE"]);
    await world.hs.joinRoom(roomId, bob.userId);
    await world.settle();
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@bob:local:BOB"]);
    expect(events.events.map((e) => e.event)).toEqual(["participantsLeft", "participantsJoined"]);
  });
});
