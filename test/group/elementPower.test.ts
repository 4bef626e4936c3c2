// Power levels of Element calls: joining with `membershipDialect: "element"` needs the level of Element's membership
// state event (`org.matrix.msc3401.call.member`), not famedly's, and with room-event keys the level of the key room
// event (`m.room.encrypted` as the server sees it in an encrypted room, the key type itself in a plain one).
import { afterEach, describe, expect, it } from "vitest";
import { VoipErrorCode, type VoipOptions } from "../../src/index.js";
import { GroupEventType, KeyEventType } from "../../src/matrix/eventTypes.js";
import { ElementPeer } from "../helpers/elementPeer.js";
import { groupWorld, type GroupWorld } from "../helpers/group.js";
import { livekitBackend } from "../helpers/livekit.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const FAMEDLY = GroupEventType.Member;
const ELEMENT = GroupEventType.ElementMember;
const ELEMENT_OPTS = { membershipDialect: "element" } as const;

async function room(
  events: Record<string, number>,
  encrypted = false,
  voip: VoipOptions = {},
): Promise<{ bob: ReturnType<GroupWorld["peer"]>; roomId: string }> {
  world = groupWorld();
  world.hs.setTurnServers(undefined);
  const alice = world.peer("@alice:local", "ALICE");
  const bob = world.peer("@bob:local", "BOB", voip);
  const roomId = await world.hs.createRoom({
    creator: alice.userId,
    members: [bob.userId],
    encrypted,
    powerLevels: { events, state_default: 50, users_default: 0, events_default: 0 },
  });
  return { bob, roomId };
}

describe("power levels of Element calls", () => {
  it("an Element join checks org.matrix.msc3401.call.member, not com.famedly.call.member", async () => {
    const { bob, roomId } = await room({ [FAMEDLY]: 0, [ELEMENT]: 100 });
    expect(bob.voip.canJoinGroupCall(roomId)).toBe(true);
    expect(bob.voip.canJoinGroupCall(roomId, ELEMENT_OPTS)).toBe(false);
    await expect(
      bob.voip.fetchOrCreateGroupCall("", roomId, livekitBackend(), "m.call", "m.room", ELEMENT_OPTS),
    ).rejects.toMatchObject({
      code: VoipErrorCode.Forbidden,
      message: expect.stringContaining(`power level 0 < 100 needed for ${ELEMENT}`) as string,
    });
  });

  it("in an Element Call room (only Element's membership open to members) an Element join works", async () => {
    const { bob, roomId } = await room({ [FAMEDLY]: 100, [ELEMENT]: 0 });
    expect(bob.voip.canJoinGroupCall(roomId)).toBe(false);
    expect(bob.voip.canJoinGroupCall(roomId, ELEMENT_OPTS)).toBe(true);
    const group = await bob.voip.fetchOrCreateGroupCall(
      "",
      roomId,
      livekitBackend(),
      "m.call",
      "m.room",
      ELEMENT_OPTS,
    );
    await group.enter();
    await world.settle();
    const state = world.hs.getRoomState(roomId).filter((e) => e.type === ELEMENT);
    expect(state.map((e) => e.stateKey)).toEqual(["_@bob:local_BOB"]);
  });

  it("a discovered Element call is checked for Element's membership event, whatever the fetch options", async () => {
    const { bob, roomId } = await room({ [FAMEDLY]: 100, [ELEMENT]: 0 });
    const alice = new ElementPeer(world.hs, roomId, "@alice:local", "ALICE2");
    await alice.join();
    await world.settle();
    const group = await bob.voip.fetchOrCreateGroupCall("", roomId, livekitBackend(), "m.call", "m.room");
    await group.enter();
    await world.settle();
    expect(
      world.hs
        .getRoomState(roomId)
        .filter((e) => e.type === ELEMENT)
        .map((e) => e.stateKey)
        .sort(),
    ).toEqual(["_@alice:local_ALICE2", "_@bob:local_BOB"]);
  });

  it("with room-event keys in an encrypted room, the level of m.room.encrypted counts too (not with to-device keys)", async () => {
    const { bob, roomId } = await room({ [FAMEDLY]: 0, [ELEMENT]: 0, "m.room.encrypted": 50 }, true);
    expect(bob.voip.canJoinGroupCall(roomId, ELEMENT_OPTS)).toBe(false);
    expect(bob.voip.canJoinGroupCall(roomId, { ...ELEMENT_OPTS, elementKeyTransport: "to-device" })).toBe(
      true,
    );
    await expect(
      bob.voip.fetchOrCreateGroupCall("", roomId, livekitBackend(), "m.call", "m.room", ELEMENT_OPTS),
    ).rejects.toMatchObject({
      code: VoipErrorCode.Forbidden,
      message: expect.stringContaining("power level 0 < 50 needed for m.room.encrypted") as string,
    });
  });

  it("in an unencrypted room the key type itself counts, only when keys may go there as room events (allowPlaintextKeys)", async () => {
    const events = { [FAMEDLY]: 0, [ELEMENT]: 0, [KeyEventType.KeysElement]: 50 };
    const first = await room(events);
    expect(first.bob.voip.canJoinGroupCall(first.roomId, ELEMENT_OPTS)).toBe(true);
    await world.dispose();
    const second = await room(events, false, { allowPlaintextKeys: true });
    expect(second.bob.voip.canJoinGroupCall(second.roomId, ELEMENT_OPTS)).toBe(false);
    expect(
      second.bob.voip.canJoinGroupCall(second.roomId, { ...ELEMENT_OPTS, elementKeyTransport: "to-device" }),
    ).toBe(true);
  });
});
