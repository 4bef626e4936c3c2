// Mesh membership expiry on a manual clock (reference §6.8): a member that stops refreshing is gone, with its leg.
import { afterEach, describe, expect, it } from "vitest";
import { CallState, MeshBackend, type CallSession } from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { famedlyEntry, groupWorld, participantIds, type GroupWorld } from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const SIX_MIN = 6 * 60_000;

describe("mesh membership expiry", () => {
  it("a member whose membership expires leaves the participants, and its leg ends and is removed", async () => {
    world = groupWorld();
    const alice = world.peer("@alice:local", "ALICE");
    const bob = world.hs.createClient("@bob:local", "BOB");
    const roomId = await world.hs.createRoom({
      creator: alice.userId,
      members: [bob.userId],
      powerLevels: { events: { [GroupEventType.Member]: 0 } },
    });
    // bob published once and then went silent: expires_ts now + 6 min, never refreshed.
    await bob.sendStateEvent(roomId, GroupEventType.Member, bob.userId, {
      memberships: [
        famedlyEntry({ callId: roomId, deviceId: "BOB", expiresTs: world.clock.now() + SIX_MIN }),
      ],
    });
    await world.settle();
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    const left: string[] = [];
    const removed: CallSession[] = [];
    group.on("participantsLeft", (participants) => left.push(...participants.map((p) => p.id)));
    group.on("callRemoved", (call) => removed.push(call));
    await group.enter();
    await world.advance(100);
    expect(participantIds(group)).toEqual(["@alice:local:ALICE", "@bob:local:BOB"]);
    // alice < bob: alice places the call (G2); bob never answers.
    expect(group.calls).toHaveLength(1);
    const leg = group.calls[0]!;
    expect(leg.remoteUserId).toBe("@bob:local");
    expect(leg.remoteSessionId).toBe("session-BOB");

    // Our own membership is refreshed by the publisher; bob's is not. Expired at expires_ts + the 6 min grace.
    await world.advance(SIX_MIN + SIX_MIN + 1_000);
    expect(left).toEqual(["@bob:local:BOB"]);
    expect(participantIds(group)).toEqual(["@alice:local:ALICE"]);
    expect(leg.state).toBe(CallState.Ended);
    // While bob was a member, each unanswered invite timed out and the leg was placed again; now none is left.
    expect(removed[0]).toBe(leg);
    expect(removed.length).toBeGreaterThan(1);
    expect(removed.every((call) => call.state === CallState.Ended)).toBe(true);
    expect(group.calls).toEqual([]);
    expect(alice.voip.calls.size).toBe(0);
    await world.advance(60_000);
    expect(group.calls).toEqual([]);
  });
});
