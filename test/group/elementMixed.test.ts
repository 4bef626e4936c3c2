// A mixed LiveKit call: Element-dialect and famedly-dialect members in one call (call id "") each hold every
// other member's current key; a leave rotates for everyone.
import { afterEach, describe, expect, it } from "vitest";
import { SfuWorld, expectKeysConsistent, livekitBackend, type SfuPeer } from "../helpers/livekit.js";

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

async function join(peer: SfuPeer, element: boolean): Promise<void> {
  const group = await peer.voip.fetchOrCreateGroupCall(
    "",
    world.roomId,
    livekitBackend(),
    "m.call",
    "m.room",
    {
      ...(element ? { membershipDialect: "element" as const } : {}),
    },
  );
  peer.group = group;
  await group.enter();
  await world.settle();
}

describe("mixed Element and famedly members", () => {
  it("everyone holds everyone's current key; a leave rotates for everyone", async () => {
    world = new SfuWorld();
    await world.createMixedCallRoom(["@p1:local", "@p2:local"]);
    const famedly = world.peer("@p0:local", "P0");
    const element = world.peer("@p1:local", "P1");
    const us = world.peer("@p2:local", "P2");
    await join(famedly, false);
    await join(element, true);
    await join(us, false);
    await world.advance(10_000);
    expect(us.group?.participants.map((p) => p.id).sort()).toEqual([
      "@p0:local:P0",
      "@p1:local:P1",
      "@p2:local:P2",
    ]);
    expectKeysConsistent(world);
    const before = [us.keys.currentLocalIndex, element.keys.currentLocalIndex];
    await world.leave(famedly);
    await world.advance(10_000);
    expect(us.keys.currentLocalIndex).not.toBe(before[0]);
    expect(element.keys.currentLocalIndex).not.toBe(before[1]);
    expectKeysConsistent(world);
  });
});
