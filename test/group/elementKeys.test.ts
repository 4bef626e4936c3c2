// Media keys from Element peers over to-device (`io.element.call.encryption_keys`, matrix-js-sdk's shape): 16-byte
// keys at indices up to 255 reach our key provider; keys from a device without a membership, or in cleartext in an
// encrypted room, are ignored (PROTOCOL G5).
import { afterEach, describe, expect, it } from "vitest";
import { encodeBase64 } from "../../src/core/random.js";
import { GroupEventType, KeyEventType } from "../../src/matrix/eventTypes.js";
import type { MatrixClientPort, ToDeviceEvent } from "../../src/index.js";
import { SfuWorld, livekitBackend, type SfuPeer } from "../helpers/livekit.js";

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

const KEY = new Uint8Array(16).map((_, i) => i + 1);

async function setup(): Promise<{ us: SfuPeer; element: MatrixClientPort }> {
  // This file covers the to-device transport (matrix-js-sdk ≥ 41.1); room events: elementRoomKeys.test.ts.
  world = new SfuWorld();
  await world.createMixedCallRoom(["@el:local"]);
  const us = world.peer("@p0:local", "P0");
  const element = world.hs.createClient("@el:local", "EL");
  const group = await us.voip.fetchOrCreateGroupCall("", world.roomId, livekitBackend(), "m.call", "m.room", {
    membershipDialect: "element",
    elementKeyTransport: "to-device",
  });
  us.group = group;
  await group.enter();
  await world.settle();
  return { us, element };
}

async function elementJoins(element: MatrixClientPort): Promise<void> {
  await element.sendStateEvent(world.roomId, GroupEventType.ElementMember, "_@el:local_EL", {
    application: "m.call",
    call_id: "",
    scope: "m.room",
    device_id: "EL",
    expires: 14_400_000,
    focus_active: { type: "livekit", focus_selection: "oldest_membership" },
    foci_preferred: [
      { type: "livekit", livekit_service_url: "https://lk.local/jwt", livekit_alias: world.roomId },
    ],
  });
  await world.settle();
}

async function sendElementKey(element: MatrixClientPort, index: number, encrypted: boolean): Promise<void> {
  await element.sendToDevice(
    KeyEventType.KeysElement,
    {
      "@p0:local": {
        P0: {
          keys: { index, key: encodeBase64(KEY).replace(/=+$/, "") },
          member: { claimed_device_id: "EL" },
          room_id: world.roomId,
          session: { application: "m.call", call_id: "", scope: "m.room" },
        },
      },
    },
    { encrypted },
  );
  await world.settle();
}

describe("keys from Element peers (to-device)", () => {
  it("a member's 16-byte key at index 255 reaches our key provider", async () => {
    const { us, element } = await setup();
    await elementJoins(element);
    await sendElementKey(element, 255, true);
    expect(us.keys.keyOf("@el:local:EL", 255)).toEqual(KEY);
  });

  it("ignores a key from a device without a membership, and a cleartext key in an encrypted room", async () => {
    const { us, element } = await setup();
    await sendElementKey(element, 3, true);
    await world.advance(10_000); // longer than the hold for early keys (K5)
    expect(us.keys.keyOf("@el:local:EL", 3)).toBeUndefined();
    await elementJoins(element);
    await sendElementKey(element, 4, false);
    expect(us.keys.keyOf("@el:local:EL", 4)).toBeUndefined();
    await sendElementKey(element, 5, true);
    expect(us.keys.keyOf("@el:local:EL", 5)).toEqual(KEY);
  });
});

describe("our keys to Element peers (to-device)", () => {
  it("an Element member gets our current key, Olm-encrypted, in matrix-js-sdk's shape", async () => {
    const { us, element } = await setup();
    const received: ToDeviceEvent[] = [];
    element.onSync((batch) => {
      received.push(...batch.toDevice);
    });
    await elementJoins(element);
    await world.advance(10_000);
    const index = us.keys.currentLocalIndex;
    expect(index).toBeDefined();
    const ours = us.keys.keyOf("@p0:local:P0", index!);
    const keyEvents = received.filter((e) => e.type === KeyEventType.KeysElement);
    expect(keyEvents.length).toBeGreaterThan(0);
    for (const event of keyEvents) {
      expect(event.encrypted).toBe(true);
    }
    expect(keyEvents.at(-1)?.content).toEqual({
      keys: { index, key: encodeBase64(ours!).replace(/=+$/, "") },
      member: { claimed_device_id: "P0" },
      room_id: world.roomId,
      session: { application: "m.call", call_id: "", scope: "m.room" },
    });
    // Nothing in a famedly key type went to the Element device, and no key request.
    const famedly = received.filter(
      (e) => e.type !== KeyEventType.KeysElement && e.type.includes("encryption_keys"),
    );
    expect(famedly).toEqual([]);
  });
});
