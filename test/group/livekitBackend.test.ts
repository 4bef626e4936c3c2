import { afterEach, describe, expect, it } from "vitest";
import { decodeBase64 } from "../../src/core/random.js";
import { KeyEventType } from "../../src/matrix/eventTypes.js";
import type { ToDeviceEvent } from "../../src/index.js";
import { memberContent } from "../helpers/group.js";
import { CALL_ID, SfuWorld, livekitBackend } from "../helpers/livekit.js";

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

describe("LiveKitBackend in a group call", () => {
  it("publishes the livekit focus in both famedly shapes, without feeds", async () => {
    world = new SfuWorld();
    const [a] = await world.setup(1, { encrypted: true });
    await world.join(a!);
    const content = memberContent(world.hs, world.roomId, a!.userId) as {
      memberships: Record<string, unknown>[];
    };
    const focus = {
      type: "livekit",
      livekit_alias: "sfu-room",
      livekit_service_url: "https://livekit-jwt.local",
    };
    expect(content.memberships).toHaveLength(1);
    expect(content.memberships[0]).toMatchObject({ call_id: CALL_ID, backend: focus, foci_active: [focus] });
    expect(content.memberships[0]).not.toHaveProperty("feeds");
    expect(a!.group!.backend).toMatchObject({ type: "livekit", e2eeEnabled: true, livekitAlias: "sfu-room" });
    // Media goes through the SFU with the LiveKit SDK's own ICE servers: entering asks ours for no TURN.
    expect(world.hs.stats.turnRequests).toBe(0);
  });

  it("has no media of its own: empty calls, no active speaker, mute and screen share never throw", async () => {
    world = new SfuWorld();
    const [a, b] = await world.setup(2, { encrypted: false });
    await world.join(a!);
    await world.join(b!);
    const group = a!.group!;
    expect(group.calls).toEqual([]);
    expect(group.activeSpeaker).toBeUndefined();
    await expect(group.setMicrophoneMuted(true)).resolves.toBeUndefined();
    await expect(group.setLocalVideoMuted(true)).resolves.toBeUndefined();
    await expect(group.setScreensharingEnabled(true)).resolves.toBe(false);
    expect(group.participants.map((p) => p.id).sort()).toEqual([a!.id, b!.id].sort());
  });

  it("keysChanged fires for our key once in use and for every key received, with participant and index", async () => {
    world = new SfuWorld();
    const [a, b] = await world.setup(2, { encrypted: true });
    // Without pre-sharing, so that our first key is made after the listener is on.
    await world.join(a!, livekitBackend(), false);
    await world.join(b!, livekitBackend(), false);
    const changes = a!.events.flatMap((e) =>
      e.kind === "keysChanged"
        ? [[e.change.participant.id, e.change.index, e.change.participant.isLocal]]
        : [],
    );
    expect(changes).toEqual([
      [a!.id, 0, true],
      [b!.id, 0, false],
    ]);
  });

  it("key events carry 32-byte keys in padded standard base64 and the reference's fields", async () => {
    world = new SfuWorld();
    const [a, b] = await world.setup(2, { encrypted: true });
    const received: ToDeviceEvent[] = [];
    b!.client.onSync((batch) => {
      received.push(...batch.toDevice.filter((e) => e.type === KeyEventType.KeysV2));
    });
    await world.join(a!);
    await world.join(b!);
    const event = received.find((e) => e.sender === a!.userId);
    expect(event?.encrypted).toBe(true);
    expect(event?.content).toEqual({
      keys: [{ index: 0, key: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/) as unknown }],
      call_id: CALL_ID,
      conf_id: CALL_ID,
      device_id: a!.deviceId,
      room_id: world.roomId,
    });
    const key = (event?.content.keys as { key: string }[])[0]!.key;
    expect(decodeBase64(key)).toHaveLength(32);
    expect(decodeBase64(key)).toEqual(a!.keys.keyOf(a!.id, 0));
  });

  it("keyRingSize sets the index modulus", async () => {
    world = new SfuWorld();
    const [a, b] = await world.setup(2, { encrypted: true, voip: { keyRingSize: 2 } });
    await world.join(a!);
    await world.join(b!);
    for (let i = 0; i < 3; i++) {
      await world.leave(b!);
      await world.advance(20_000);
      await world.join(b!);
      await world.advance(20_000);
    }
    expect(new Set(a!.keys.localIndices())).toEqual(new Set([0, 1]));
    expect(a!.keys.localIndices().length).toBeGreaterThan(3);
  });

  it("a discovered call gets end-to-end keys by default (e2eeEnabled true)", () => {
    expect(livekitBackend().e2eeEnabled).toBe(true);
    expect(livekitBackend(false).e2eeEnabled).toBe(false);
  });
});

describe("LiveKit keys: bad input and leaks", () => {
  it("malformed key events and requests are dropped without disturbing the call", async () => {
    world = new SfuWorld();
    const [a, b] = await world.setup(2, { encrypted: true });
    await world.join(a!);
    await world.join(b!);
    const before = a!.keys.log.length;
    const bad: Record<string, unknown>[] = [
      {
        keys: "not-a-list",
        call_id: CALL_ID,
        conf_id: CALL_ID,
        device_id: b!.deviceId,
        room_id: world.roomId,
      },
      {
        keys: [{ index: -1, key: "AAAA" }],
        call_id: CALL_ID,
        conf_id: CALL_ID,
        device_id: b!.deviceId,
        room_id: world.roomId,
      },
      {
        keys: [{ index: 0, key: "!!" }],
        call_id: CALL_ID,
        conf_id: CALL_ID,
        device_id: b!.deviceId,
        room_id: world.roomId,
      },
      {
        keys: [{ index: 3, key: "AAAA" }],
        call_id: CALL_ID,
        conf_id: "another-call",
        device_id: b!.deviceId,
        room_id: world.roomId,
      },
      { keys: [{ index: 4, key: "AAAA" }], call_id: CALL_ID, conf_id: CALL_ID, room_id: world.roomId },
    ];
    for (const content of bad) {
      await b!.client.sendToDevice(
        KeyEventType.KeysV2,
        { [a!.userId]: { [a!.deviceId]: content } },
        { encrypted: true },
      );
    }
    await b!.client.sendToDevice(
      KeyEventType.RequestV2,
      { [a!.userId]: { [a!.deviceId]: { conf_id: CALL_ID } } },
      { encrypted: true },
    );
    await world.advance(10_000);
    expect(a!.keys.log.length).toBe(before);
    expect(a!.events.filter((e) => e.kind === "error")).toEqual([]);
    // The call still works: a leave rotates as usual.
    const c = world.peer("@p2:local", "P2");
    await world.hs.joinRoom(world.roomId, c.userId);
    await world.join(c);
    await world.advance(10_000);
    expect(c.keys.keyOf(a!.id, a!.keys.currentLocalIndex!)).toEqual(
      a!.keys.keyOf(a!.id, a!.keys.currentLocalIndex!),
    );
  });

  it("leaving mid-rotation, with retries pending, leaves no timer of the key manager behind", async () => {
    world = new SfuWorld();
    const [a, b, c] = await world.setup(3, { encrypted: true });
    for (const peer of [a!, b!, c!]) {
      await world.join(peer);
    }
    world.hs.setDeviceEncryptable(b!.userId, b!.deviceId, false); // a's next keys to b wait for a retry
    await world.leave(c!); // a: leave debounce armed
    await world.advance(4_000); // a: new key, use timer armed, retry for b armed
    const withKeys = world.clock.pendingTimers();
    for (const peer of [a!, b!]) {
      await world.leave(peer);
    }
    for (const peer of world.peers) {
      await peer.voip.dispose();
    }
    expect(withKeys).toBeGreaterThan(0);
    expect(world.clock.pendingTimers()).toBe(0);
  });
});
