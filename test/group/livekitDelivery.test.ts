import { afterEach, describe, expect, it } from "vitest";
import { VoipErrorCode, type GroupCallEvent } from "../../src/index.js";
import { encodeBase64 } from "../../src/core/random.js";
import { KeyEventType } from "../../src/matrix/eventTypes.js";
import {
  CALL_ID,
  SfuWorld,
  allKeysBase64,
  type CountingPort,
  expectKeysConsistent,
  livekitBackend,
  publishRawMembership,
  sendRawKeys,
  type SfuPeer,
} from "../helpers/livekit.js";

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

const KEY_TYPES: string[] = [KeyEventType.KeysV1, KeyEventType.KeysV2];

function errors(peer: SfuPeer): GroupCallEvent[] {
  return peer.events.filter((e) => e.kind === "error");
}

async function callOf(n: number, encrypted: boolean, voip = {}, countFirst = false): Promise<SfuPeer[]> {
  world = new SfuWorld();
  const peers = await world.setup(n, { encrypted, voip, countFirst });
  for (const peer of peers) {
    await world.join(peer);
  }
  await world.advance(20_000);
  return peers;
}

describe.each([true, false])("LiveKit key delivery (encrypted room: %s)", (encrypted) => {
  it("keys travel only Olm-encrypted: no key appears in the transcript in cleartext (K3)", async () => {
    const peers = await callOf(4, encrypted);
    await world.leave(peers[3]!);
    await world.advance(10_000);
    await world.join(peers[3]!);
    await world.advance(10_000);
    expectKeysConsistent(world);
    const keyEvents = world.keyEvents();
    expect(keyEvents.length).toBeGreaterThan(0);
    expect(keyEvents.every((e) => e.encrypted)).toBe(true);
    const wire = JSON.stringify(world.hs.transcript());
    const keys = allKeysBase64(world);
    expect(keys.length).toBeGreaterThan(10);
    for (const key of keys) {
      expect(wire).not.toContain(key);
      expect(wire).not.toContain(key.replace(/=+$/, ""));
    }
  });

  it("one sendToDevice per rotation, whatever the number of recipients", async () => {
    const peers = await callOf(6, encrypted, {}, true);
    const port = peers[0]!.client as CountingPort;
    const before = port.toDeviceCalls.length;
    await world.leave(peers[5]!);
    await world.advance(4_000);
    expect(port.toDeviceCalls.slice(before)).toEqual([
      { type: KeyEventType.KeysV2, encrypted: true, devices: 4 },
    ]);
  });

  it("a device we cannot encrypt to waits without blocking the others, and gets its keys once it can", async () => {
    const [a, b] = await callOf(2, encrypted);
    const c = world.peer("@p2:local", "P2");
    const d = world.peer("@p3:local", "P3");
    await world.hs.joinRoom(world.roomId, c.userId);
    await world.hs.joinRoom(world.roomId, d.userId);
    world.hs.setDeviceEncryptable(c.userId, c.deviceId, false);
    await world.join(c);
    await world.join(d);
    await world.advance(5_000);
    // d got every key; c none yet, and nothing went out in plaintext.
    expect(d.keys.keyOf(a!.id, a!.keys.currentLocalIndex!)).toBeDefined();
    expect(c.keys.keyOf(a!.id, a!.keys.currentLocalIndex!)).toBeUndefined();
    expect(world.keyEvents().every((e) => e.encrypted)).toBe(true);
    world.hs.setDeviceEncryptable(c.userId, c.deviceId, true);
    await world.advance(8_000);
    expectKeysConsistent(world);
    expect(errors(a!)).toEqual([]);
    expect(errors(b!)).toEqual([]);
  });

  it("a rate-limited send is retried with backoff", async () => {
    const [a, , c] = await callOf(3, encrypted, {}, true);
    const port = a!.client as CountingPort;
    await world.leave(c!);
    port.failStatus = 429;
    port.failNext = 1;
    const before = port.toDeviceCalls.length;
    await world.advance(4_000);
    expect(port.toDeviceCalls.length - before).toBe(1);
    // The project's backoff: about 1 s, jittered into [0.5 s, 1 s).
    await world.advance(499);
    expect(port.toDeviceCalls.length - before).toBe(1);
    await world.advance(501);
    expect(port.toDeviceCalls.length - before).toBe(2);
    await world.advance(10_000);
    expectKeysConsistent(world);
    expect(errors(a!)).toEqual([]);
  });

  it("a send that keeps being rate-limited gives up after 5 tries with a send_failed error (K2)", async () => {
    const [a, , c] = await callOf(3, encrypted, {}, true);
    const port = a!.client as CountingPort;
    await world.leave(c!);
    port.failStatus = 429;
    port.failNext = 1_000;
    const before = port.toDeviceCalls.length;
    await world.advance(4_000 + 1_000 + 2_000 + 4_000 + 8_000);
    expect(port.toDeviceCalls.length - before).toBe(5);
    await world.advance(120_000);
    expect(port.toDeviceCalls.length - before).toBe(5);
    const found = errors(a!);
    expect(found).toHaveLength(1);
    expect(found[0]?.kind === "error" ? found[0].error.code : undefined).toBe(VoipErrorCode.SendFailed);
  });

  it("a send the port gave up on (5xx after its own retries) is not sent again: one send, a send_failed error", async () => {
    const [a, , c] = await callOf(3, encrypted, {}, true);
    const port = a!.client as CountingPort;
    await world.leave(c!);
    port.failNext = 1_000;
    const before = port.toDeviceCalls.length;
    await world.advance(4_000);
    expect(port.toDeviceCalls.length - before).toBe(1);
    await world.advance(120_000);
    expect(port.toDeviceCalls.length - before).toBe(1);
    const found = errors(a!);
    expect(found).toHaveLength(1);
    expect(found[0]?.kind === "error" ? found[0].error.code : undefined).toBe(VoipErrorCode.SendFailed);
  });

  it("keys from a device without a membership in the call are ignored (G5)", async () => {
    const [a, b] = await callOf(2, encrypted);
    const outsider = world.hs.createClient("@p9:local", "P9");
    await world.hs.joinRoom(world.roomId, "@p9:local");
    const key = encodeBase64(new Uint8Array(32).fill(42));
    await sendRawKeys(world, outsider, [a!, b!], [{ index: 0, key }]);
    await world.advance(10_000);
    expect(a!.keys.keyOf("@p9:local:P9", 0)).toBeUndefined();
    // Not even when its membership appears after the hold time (K5: dropped).
    await publishRawMembership(world, outsider, "famedly-v2");
    await world.advance(1_000);
    expect(a!.keys.keyOf("@p9:local:P9", 0)).toBeUndefined();
  });

  it("keys that arrive before the sender's membership are held and applied when it appears (K5)", async () => {
    const [a, b] = await callOf(2, encrypted);
    const early = world.hs.createClient("@p8:local", "P8");
    await world.hs.joinRoom(world.roomId, "@p8:local");
    const key = new Uint8Array(32).fill(8);
    await sendRawKeys(world, early, [a!, b!], [{ index: 2, key: encodeBase64(key) }]);
    await world.advance(3_000);
    expect(a!.keys.keyOf("@p8:local:P8", 2)).toBeUndefined();
    await publishRawMembership(world, early, "famedly-v2");
    expect(a!.keys.keyOf("@p8:local:P8", 2)).toEqual(key);
    expect(b!.keys.keyOf("@p8:local:P8", 2)).toEqual(key);
  });

  it("a famedly-v1 member gets v1 key events and its v1 keys and requests are understood (P2)", async () => {
    const [a, b] = await callOf(2, encrypted);
    const old = world.hs.createClient("@p7:local", "P7");
    await world.hs.joinRoom(world.roomId, "@p7:local");
    const mark = world.hs.transcript().length;
    await publishRawMembership(world, old, "famedly-v1");
    await world.advance(10_000);
    const toOld = world.hs
      .transcript()
      .slice(mark)
      .filter(
        (e) =>
          e.kind === "toDevice" &&
          KEY_TYPES.includes(e.type) &&
          e.recipients?.some((r) => r.deviceId === "P7"),
      );
    expect(toOld.length).toBeGreaterThanOrEqual(2);
    expect(toOld.every((e) => e.type === KeyEventType.KeysV1)).toBe(true);
    // Its v1 keys are applied…
    const key = new Uint8Array(32).fill(1);
    await sendRawKeys(world, old, [a!, b!], [{ index: 5, key: encodeBase64(key) }], KeyEventType.KeysV1);
    expect(a!.keys.keyOf("@p7:local:P7", 5)).toEqual(key);
    // …and its v1 request answered in v1.
    const mark2 = world.hs.transcript().length;
    await old.sendToDevice(
      KeyEventType.RequestV1,
      { [a!.userId]: { [a!.deviceId]: { conf_id: CALL_ID, device_id: "P7", room_id: world.roomId } } },
      { encrypted: true },
    );
    await world.settle();
    const replies = world.hs
      .transcript()
      .slice(mark2)
      .filter((e) => e.senderDevice === a!.deviceId);
    expect(replies.map((e) => e.type)).toEqual([KeyEventType.KeysV1]);
  });

  it("with e2eeEnabled false no key event is sent at all", async () => {
    world = new SfuWorld();
    const peers = await world.setup(3, { encrypted });
    // Each app creates its session with e2ee off before anyone enters (a discovered call would take the default).
    for (const peer of peers) {
      await peer.voip.fetchOrCreateGroupCall(CALL_ID, world.roomId, livekitBackend(false));
    }
    for (const peer of peers) {
      await world.join(peer, livekitBackend(false));
    }
    await world.leave(peers[2]!);
    await world.advance(20_000);
    expect(world.keyEvents()).toEqual([]);
    expect(peers.every((p) => p.keys.log.length === 0)).toBe(true);
  });
});

describe("LiveKit key delivery: plaintext", () => {
  it("in an encrypted room, plaintext keys are ignored (G5)", async () => {
    const [a] = await callOf(2, true);
    const plain = world.hs.createClient("@p6:local", "P6");
    await world.hs.joinRoom(world.roomId, "@p6:local");
    await publishRawMembership(world, plain, "famedly-v2");
    const content = {
      keys: [{ index: 0, key: encodeBase64(new Uint8Array(32).fill(6)) }],
      call_id: CALL_ID,
      conf_id: CALL_ID,
      device_id: "P6",
      room_id: world.roomId,
    };
    await plain.sendToDevice(KeyEventType.KeysV2, { [a!.userId]: { [a!.deviceId]: content } });
    await world.settle();
    expect(a!.keys.keyOf("@p6:local:P6", 0)).toBeUndefined();
  });

  it.each([
    [false, true, "plaintext when allowPlaintextKeys is set"],
    [false, false, "nothing without allowPlaintextKeys"],
    [true, true, "nothing in an encrypted room, even with allowPlaintextKeys"],
  ])(
    "encrypted room %s, allowPlaintextKeys %s: a device we cannot encrypt to gets %s",
    async (encrypted, allow) => {
      const [a, b] = await callOf(2, encrypted, { allowPlaintextKeys: allow });
      const c = world.peer("@p2:local", "P2", { allowPlaintextKeys: allow });
      await world.hs.joinRoom(world.roomId, c.userId);
      world.hs.setDeviceEncryptable(c.userId, c.deviceId, false);
      await world.join(c);
      await world.advance(5_000);
      const plaintext = world.keyEvents().filter((e) => !e.encrypted);
      const expectPlain = !encrypted && allow;
      expect(plaintext.length > 0).toBe(expectPlain);
      expect(c.keys.keyOf(a!.id, a!.keys.currentLocalIndex!) !== undefined).toBe(expectPlain);
      expect(plaintext.flatMap((e) => e.recipients ?? []).every((r) => r.deviceId === "P2")).toBe(true);
      expect(b!.keys.keyOf(c.id, c.keys.currentLocalIndex!)).toBeDefined();
    },
  );
});

describe("LiveKit keys: reference §10.2", () => {
  it("dispose clears the recent-key debounce after local keys are removed", async () => {
    world = new SfuWorld();
    const [a] = await world.setup(1, {
      encrypted: true,
      voip: { timeouts: { makeKeyOnLeaveDelayMs: 10, makeKeyOnJoinDelayMs: 1_000, useKeyDelayMs: 10 } },
    });
    const backend = livekitBackend();
    const first = await a!.voip.fetchOrCreateGroupCall(CALL_ID, world.roomId, backend);
    expect(a!.keys.localIndices()).toEqual([0]);
    await first.leave();
    const again = await a!.voip.fetchOrCreateGroupCall("livekit-rejoin-after-dispose", world.roomId, backend);
    expect(again).not.toBe(first);
    expect(a!.keys.localIndices()).toEqual([0, 1]);
    expect(a!.keys.currentLocalIndex).toBe(1);
  });
});
