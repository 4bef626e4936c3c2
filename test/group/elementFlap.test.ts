// A flapping Element peer: matrix-js-sdk 37.5's legacy membership manager, when two members join at the same moment,
// orphans a delayed leave and writes `{}` and then its membership again every 5–8 s. We see each flap as it is (left,
// then joined), keep our key while the peer comes back before the rotation on leave is due, send it our key again
// after each return, rotate once when it stays away longer than the leave delay, and leak no timer.
import { afterEach, describe, expect, it } from "vitest";
import { GroupEventType, KeyEventType } from "../../src/matrix/eventTypes.js";
import { ElementPeer } from "../helpers/elementPeer.js";
import { SfuWorld, livekitBackend, type SfuPeer } from "../helpers/livekit.js";

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

/** The default rotation-on-leave delay (`makeKeyOnLeaveDelayMs`, PROTOCOL K6). */
const LEAVE_DELAY_MS = 4_000;

async function setup(): Promise<{ us: SfuPeer; el: ElementPeer }> {
  world = new SfuWorld();
  await world.createRoom({
    creator: "@p0:local",
    members: ["@el:local"],
    encrypted: true,
    powerLevels: { events: { [GroupEventType.ElementMember]: 0 } },
  });
  const us = world.peer("@p0:local", "P0");
  const el = new ElementPeer(world.hs, world.roomId, "@el:local", "EL");
  const group = await us.voip.fetchOrCreateGroupCall("", world.roomId, livekitBackend(), "m.call", "m.room", {
    membershipDialect: "element",
  });
  us.group = group;
  group.on("event", (event) => us.events.push(event));
  await group.enter();
  await world.settle();
  return { us, el };
}

function count(us: SfuPeer, kind: "participantsJoined" | "participantsLeft"): number {
  return us.events.filter((e) => e.kind === kind).length;
}

function ourRoomKeyEvents(): number {
  return world.hs
    .transcript()
    .filter((e) => e.kind === "room" && e.type === KeyEventType.KeysElement && e.sender === "@p0:local")
    .length;
}

describe("a flapping Element peer", () => {
  it("quick flaps (back within the leave delay): left/joined each time, no rotation, our key again after each return", async () => {
    const { us, el } = await setup();
    await el.join();
    await world.advance(10_000);
    const index = us.keys.currentLocalIndex!;
    const key = us.keys.keyOf("@p0:local:P0", index)!;
    expect(el.has("@p0:local:P0", index, key)).toBe(true);
    const joinedBase = count(us, "participantsJoined"); // us and the peer
    const timersBefore = world.clock.pendingTimers();
    const gaps = [5_000, 6_500, 8_000, 5_500, 7_000, 6_000];
    for (const [i, gap] of gaps.entries()) {
      await world.advance(gap);
      const sentBefore = ourRoomKeyEvents();
      const receivedBefore = el.received.length;
      await el.leave();
      await world.advance(300);
      expect(count(us, "participantsLeft")).toBe(i + 1);
      expect(us.group?.participants.map((p) => p.id)).toEqual(["@p0:local:P0"]);
      // Its membership comes back without `created_ts` (a new membership id each time, the harder case).
      await el.join();
      await world.settle();
      expect(count(us, "participantsJoined")).toBe(joinedBase + i + 1);
      // Our latest key went to it again, once, as a room event.
      expect(ourRoomKeyEvents()).toBe(sentBefore + 1);
      expect(el.received.slice(receivedBefore)).toMatchObject([{ from: "@p0:local:P0", index, way: "room" }]);
    }
    // Past any leave delay: still our first key, never a second one.
    await world.advance(10_000);
    expect(us.keys.localIndices()).toEqual([index]);
    expect(us.keys.log.filter((k) => k.isLocal)).toHaveLength(1);
    expect(us.group?.state).toBe("entered");
    expect(world.clock.pendingTimers()).toBe(timersBefore);
  });

  it("a flap longer than the leave delay rotates once; the returning peer gets the new key", async () => {
    const { us, el } = await setup();
    await el.join();
    await world.advance(10_000);
    const first = us.keys.currentLocalIndex!;
    const timersBefore = world.clock.pendingTimers();
    const joinedBase = count(us, "participantsJoined");
    await el.leave();
    await world.advance(LEAVE_DELAY_MS + 1_000);
    await el.join();
    await world.advance(10_000);
    const second = us.keys.currentLocalIndex!;
    expect(second).not.toBe(first);
    expect(us.keys.localIndices().sort()).toEqual([first, second].sort());
    expect(el.has("@p0:local:P0", second, us.keys.keyOf("@p0:local:P0", second)!)).toBe(true);
    // Quick flaps after that rotate nothing more.
    for (let i = 0; i < 3; i++) {
      await el.leave();
      await world.advance(500);
      await el.join();
      await world.advance(6_000);
    }
    expect(us.keys.localIndices().sort()).toEqual([first, second].sort());
    expect(count(us, "participantsLeft")).toBe(4);
    expect(count(us, "participantsJoined")).toBe(joinedBase + 4);
    expect(world.clock.pendingTimers()).toBe(timersBefore);
  });

  it("a peer that flaps while another member leaves for good: the rotation still happens and reaches the flapper", async () => {
    const { us, el } = await setup();
    const other = new ElementPeer(world.hs, world.roomId, "@el:local", "EL2");
    await el.join();
    await other.join();
    await world.advance(10_000);
    const first = us.keys.currentLocalIndex!;
    await other.leave();
    await el.leave();
    await world.advance(300);
    await el.join();
    await world.advance(10_000);
    const second = us.keys.currentLocalIndex!;
    expect(second).not.toBe(first);
    expect(el.has("@p0:local:P0", second, us.keys.keyOf("@p0:local:P0", second)!)).toBe(true);
    expect(us.group?.participants.map((p) => p.id).sort()).toEqual(["@el:local:EL", "@p0:local:P0"]);
  });
});
