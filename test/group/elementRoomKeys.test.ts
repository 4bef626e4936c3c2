// Media keys with Element peers as room events (`io.element.call.encryption_keys`, matrix-js-sdk 37.5's default
// transport): both directions, one event per rotation for every Element member, rotation on leave, G5 (keys from a
// device without an Element membership are ignored), K3 (never a key in cleartext in an encrypted room, neither
// sent nor accepted), and the per-call `elementKeyTransport` option with its switching in `auto`.
import { afterEach, describe, expect, it } from "vitest";
import { GroupEventType, KeyEventType } from "../../src/matrix/eventTypes.js";
import type { VoipOptions } from "../../src/index.js";
import { ElementPeer, unpadded } from "../helpers/elementPeer.js";
import { SfuWorld, livekitBackend, type SfuPeer } from "../helpers/livekit.js";

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

const KEY = new Uint8Array(16).map((_, i) => i + 1);
const OTHER_KEY = new Uint8Array(16).map((_, i) => 200 - i);

interface Setup {
  us: SfuPeer;
  el: ElementPeer;
  el2: ElementPeer;
  stranger: ElementPeer;
}

async function setup(
  opts: { encrypted?: boolean; voip?: VoipOptions; transport?: "room" | "to-device" | "auto" } = {},
): Promise<Setup> {
  world = new SfuWorld();
  await world.createMixedCallRoom(["@el:local", "@el2:local", "@stranger:local"], opts.encrypted ?? true);
  const us = world.peer("@p0:local", "P0", opts.voip);
  const el = new ElementPeer(world.hs, world.roomId, "@el:local", "EL");
  const el2 = new ElementPeer(world.hs, world.roomId, "@el2:local", "EL2");
  const stranger = new ElementPeer(world.hs, world.roomId, "@stranger:local", "ST");
  const group = await us.voip.fetchOrCreateGroupCall("", world.roomId, livekitBackend(), "m.call", "m.room", {
    membershipDialect: "element",
    ...(opts.transport === undefined ? {} : { elementKeyTransport: opts.transport }),
  });
  us.group = group;
  group.on("event", (event) => us.events.push(event));
  await group.enter();
  await world.settle();
  return { us, el, el2, stranger };
}

function ourCurrentKey(us: SfuPeer): { index: number; key: Uint8Array } {
  const index = us.keys.currentLocalIndex;
  expect(index).toBeDefined();
  const key = us.keys.keyOf("@p0:local:P0", index!);
  expect(key).toBeDefined();
  return { index: index!, key: key! };
}

/** Every key room event the server accepted. */
function roomKeyEntries(): ReturnType<SfuWorld["hs"]["transcript"]> {
  return world.hs.transcript().filter((e) => e.type === KeyEventType.KeysElement && e.kind === "room");
}

function toDeviceKeyEntries(): ReturnType<SfuWorld["hs"]["transcript"]> {
  return world.hs.transcript().filter((e) => e.type === KeyEventType.KeysElement && e.kind === "toDevice");
}

describe("Element room-event keys in an encrypted room (default: auto)", () => {
  it("an Element member gets our current key as one Megolm room event in matrix-js-sdk 37.5's shape, and no to-device key", async () => {
    const { us, el } = await setup();
    await el.join();
    await world.advance(10_000);
    const { index, key } = ourCurrentKey(us);
    expect(el.has("@p0:local:P0", index, key)).toBe(true);
    const ours = el.roomKeyEvents.filter((e) => e.sender === "@p0:local");
    expect(ours.length).toBeGreaterThan(0);
    expect(ours.every((e) => e.encrypted === true)).toBe(true);
    expect(ours.at(-1)?.content).toEqual({
      keys: [{ index, key: unpadded(key) }],
      device_id: "P0",
      call_id: "",
      sent_ts: expect.any(Number) as unknown,
    });
    // On the wire: only Megolm ciphertext, never a cleartext key (K3); nothing to-device to the Element member.
    const entries = roomKeyEntries().filter((e) => e.sender === "@p0:local");
    expect(entries.length).toBe(ours.length);
    expect(entries.every((e) => e.encrypted && !("keys" in e.content))).toBe(true);
    expect(toDeviceKeyEntries()).toEqual([]);
  });

  it("a member's 16-byte room-event key at index 255 reaches our key provider; our own echo is not taken as a remote key", async () => {
    const { us, el } = await setup();
    await el.join();
    await world.settle();
    await el.sendRoomKey(255, KEY);
    await world.settle();
    expect(us.keys.keyOf("@el:local:EL", 255)).toEqual(KEY);
    // Our own key room events came back to us through sync: only local keys are ever set for our device.
    expect(us.keys.log.filter((k) => k.participant === "@p0:local:P0" && !k.isLocal)).toEqual([]);
  });

  it("one room event per rotation whatever the number of Element members; a leave rotates after the leave delay", async () => {
    const { us, el, el2 } = await setup();
    await el.join();
    await el2.join();
    await world.advance(10_000);
    const before = ourCurrentKey(us);
    expect(el.has("@p0:local:P0", before.index, before.key)).toBe(true);
    expect(el2.has("@p0:local:P0", before.index, before.key)).toBe(true);
    const sentBefore = roomKeyEntries().filter((e) => e.sender === "@p0:local").length;
    await el2.leave();
    await world.advance(10_000);
    const after = ourCurrentKey(us);
    expect(after.index).not.toBe(before.index);
    expect(el.has("@p0:local:P0", after.index, after.key)).toBe(true);
    // The rotation went out as exactly one room event (to every Element member at once).
    expect(roomKeyEntries().filter((e) => e.sender === "@p0:local").length).toBe(sentBefore + 1);
    expect(us.events.filter((e) => e.kind === "participantsLeft")).toHaveLength(1);
  });

  it("ignores keys from a device without an Element membership (G5): a room member not in the call, a famedly member", async () => {
    const { us, el, stranger } = await setup();
    await el.join();
    await world.settle();
    await stranger.sendRoomKey(1, KEY);
    const famedly = world.hs.createClient("@el2:local", "FAM");
    await world.settle();
    await famedly.sendStateEvent(world.roomId, GroupEventType.Member, "@el2:local", {
      memberships: [
        {
          call_id: "",
          application: "m.call",
          scope: "m.room",
          foci_active: [{ type: "livekit", livekit_service_url: "https://lk.local/jwt", livekit_alias: "x" }],
          device_id: "FAM",
          expires_ts: world.clock.now() + 6 * 60_000,
          membershipID: "famedly-session",
        },
      ],
    });
    await world.settle();
    expect(us.group?.participants.map((p) => p.id)).toContain("@el2:local:FAM");
    // A famedly member's key must come in its own dialect; this one pretends to be an Element key room event.
    await famedly.sendRoomEvent(world.roomId, KeyEventType.KeysElement, {
      keys: [{ index: 2, key: unpadded(KEY) }],
      device_id: "FAM",
      call_id: "",
    });
    await world.advance(10_000); // longer than the hold for early keys (K5)
    expect(us.keys.keyOf("@stranger:local:ST", 1)).toBeUndefined();
    expect(us.keys.keyOf("@el2:local:FAM", 2)).toBeUndefined();
    // A key for another call id, and one claiming another member's device, are not taken either.
    await el.sendRoomKey(3, KEY, "some-other-call");
    await stranger.client.sendRoomEvent(world.roomId, KeyEventType.KeysElement, {
      keys: [{ index: 4, key: unpadded(KEY) }],
      device_id: "EL",
      call_id: "",
    });
    await world.advance(10_000);
    expect(us.keys.keyOf("@el:local:EL", 3)).toBeUndefined();
    expect(us.keys.keyOf("@stranger:local:EL", 4)).toBeUndefined();
    expect(us.keys.keyOf("@el:local:EL", 4)).toBeUndefined();
    await el.sendRoomKey(5, KEY);
    await world.settle();
    expect(us.keys.keyOf("@el:local:EL", 5)).toEqual(KEY);
  });

  it("ignores a member's key room event sent in cleartext in an encrypted room (K3)", async () => {
    const { us, el } = await setup();
    await el.join();
    await world.settle();
    await el.sendCleartextRoomKey(6, KEY);
    await world.advance(10_000);
    const cleartext = roomKeyEntries().filter((e) => e.sender === "@el:local");
    expect(cleartext).toHaveLength(1);
    expect(cleartext[0]?.encrypted).toBe(false);
    expect(us.keys.keyOf("@el:local:EL", 6)).toBeUndefined();
    await el.sendRoomKey(7, KEY);
    await world.settle();
    expect(us.keys.keyOf("@el:local:EL", 7)).toEqual(KEY);
  });
});

describe("after we left", () => {
  it("a member's key room event (it reaches the whole room) is not taken by the call we left", async () => {
    const { us, el } = await setup();
    await el.join();
    await world.advance(10_000);
    await us.group!.leave();
    await world.settle();
    // The call goes on without us: the member re-publishes, and the call is discovered again, not entered.
    await el.join();
    await world.settle();
    const again = us.voip.groupCalls.get(`${world.roomId}:`);
    expect(again).toBeDefined();
    expect(again).not.toBe(us.group);
    await el.sendRoomKey(8, KEY);
    await world.advance(10_000);
    expect(us.keys.keyOf("@el:local:EL", 8)).toBeUndefined();
  });
});

describe("switching transports (auto)", () => {
  it("a member whose keys come to-device gets ours to-device from then on; a room-event key from it switches back for good", async () => {
    const { us, el, el2 } = await setup();
    await el.join();
    await world.advance(10_000);
    const first = ourCurrentKey(us);
    expect(el.latestFrom("@p0:local:P0")?.way).toBe("room");
    await el.sendToDeviceKey({ userId: "@p0:local", deviceId: "P0" }, 1, KEY);
    await world.settle();
    expect(us.keys.keyOf("@el:local:EL", 1)).toEqual(KEY);
    // The switch re-sends our current key, Olm-encrypted, in the to-device shape.
    const switched = el.latestFrom("@p0:local:P0");
    expect(switched).toMatchObject({ way: "toDevice", encrypted: true, index: first.index });
    expect(unpadded(switched!.key)).toBe(unpadded(first.key));
    const roomEventsBefore = roomKeyEntries().filter((e) => e.sender === "@p0:local").length;
    // A rotation now goes to-device only.
    await el2.join();
    await el2.leave();
    await world.advance(10_000);
    const rotated = ourCurrentKey(us);
    expect(rotated.index).not.toBe(first.index);
    expect(el.latestFrom("@p0:local:P0")).toMatchObject({ way: "toDevice", index: rotated.index });
    // el2 joined and left again within the leave delay; its join may have had our key by room event (auto's
    // default for a member not heard from), the rotation itself went to-device only.
    const roomAfter = roomKeyEntries().filter((e) => e.sender === "@p0:local");
    expect(roomAfter.every((e) => e.encrypted)).toBe(true);
    expect(el.roomKeyEvents.filter((e) => e.sender === "@p0:local").length).toBeGreaterThanOrEqual(
      roomEventsBefore,
    );
    // A room-event key switches us back to room events, and a later to-device key does not undo it.
    await el.sendRoomKey(2, OTHER_KEY);
    await world.settle();
    expect(el.latestFrom("@p0:local:P0")).toMatchObject({ way: "room", index: rotated.index });
    await el.sendToDeviceKey({ userId: "@p0:local", deviceId: "P0" }, 3, KEY);
    await world.settle();
    expect(us.keys.keyOf("@el:local:EL", 3)).toEqual(KEY);
    expect(el.latestFrom("@p0:local:P0")?.way).toBe("room");
  });

  it('"to-device" never switches to room events; "room" never sends to-device', async () => {
    const { us, el } = await setup({ transport: "to-device" });
    await el.join();
    await world.advance(10_000);
    await el.sendRoomKey(1, KEY);
    await world.advance(10_000);
    expect(us.keys.keyOf("@el:local:EL", 1)).toEqual(KEY); // read either way
    expect(roomKeyEntries().filter((e) => e.sender === "@p0:local")).toEqual([]);
    expect(el.latestFrom("@p0:local:P0")?.way).toBe("toDevice");
    await world.dispose();

    const second = await setup({ transport: "room" });
    await second.el.join();
    await world.advance(10_000);
    await second.el.sendToDeviceKey({ userId: "@p0:local", deviceId: "P0" }, 1, KEY);
    await world.advance(10_000);
    expect(second.us.keys.keyOf("@el:local:EL", 1)).toEqual(KEY);
    expect(toDeviceKeyEntries().filter((e) => e.sender === "@p0:local")).toEqual([]);
    const { index, key } = ourCurrentKey(second.us);
    expect(second.el.has("@p0:local:P0", index, key)).toBe(true);
  });
});

describe("Element room-event keys in an unencrypted room", () => {
  it("without allowPlaintextKeys no key goes out as a (cleartext) room event: Element members get it to-device; their cleartext room-event keys are read", async () => {
    const { us, el } = await setup({ encrypted: false });
    await el.join();
    await world.advance(10_000);
    expect(roomKeyEntries().filter((e) => e.sender === "@p0:local")).toEqual([]);
    const { index, key } = ourCurrentKey(us);
    expect(el.latestFrom("@p0:local:P0")).toMatchObject({ way: "toDevice", encrypted: true, index });
    expect(el.has("@p0:local:P0", index, key)).toBe(true);
    // matrix-js-sdk sends its room-event keys in cleartext in an unencrypted room; that is no K3 breach to read.
    await el.sendRoomKey(9, KEY);
    await world.settle();
    expect(us.keys.keyOf("@el:local:EL", 9)).toEqual(KEY);
  });

  it("with allowPlaintextKeys the key goes out as a cleartext room event, as matrix-js-sdk 37.5 reads it there", async () => {
    const { us, el } = await setup({ encrypted: false, voip: { allowPlaintextKeys: true } });
    await el.join();
    await world.advance(10_000);
    const { index, key } = ourCurrentKey(us);
    const entries = roomKeyEntries().filter((e) => e.sender === "@p0:local");
    expect(entries.length).toBeGreaterThan(0);
    expect(entries.at(-1)).toMatchObject({
      encrypted: false,
      content: { keys: [{ index, key: unpadded(key) }] },
    });
    expect(el.latestFrom("@p0:local:P0")).toMatchObject({ way: "room", index });
  });
});

describe("discovery", () => {
  it("a call found through an Element membership is entered in Element's shape", async () => {
    world = new SfuWorld();
    await world.createMixedCallRoom(["@el:local"]);
    const us = world.peer("@p0:local", "P0");
    const el = new ElementPeer(world.hs, world.roomId, "@el:local", "EL");
    await el.join();
    await world.settle();
    const group = us.voip.groupCalls.get(`${world.roomId}:`);
    expect(group).toBeDefined();
    const same = await us.voip.fetchOrCreateGroupCall("", world.roomId, livekitBackend(), "m.call", "m.room");
    expect(same).toBe(group);
    us.group = same;
    await same.enter();
    await world.advance(10_000);
    const state = world.hs.getRoomState(world.roomId).filter((e) => e.type === GroupEventType.ElementMember);
    expect(state.map((e) => e.stateKey).sort()).toEqual(["_@el:local_EL", "_@p0:local_P0"]);
    const { index, key } = ourCurrentKey(us);
    expect(el.has("@p0:local:P0", index, key)).toBe(true);
  });
});
