import { afterEach, describe, expect, it } from "vitest";
import { GroupCallState } from "../../src/index.js";
import { KeyEventType } from "../../src/matrix/eventTypes.js";
import type { TranscriptEntry } from "../../src/testing/index.js";
import { SfuWorld, expectKeysConsistent, livekitBackend, type SfuPeer } from "../helpers/livekit.js";

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

/** Transcript entries after position `since` that are key events sent by `from`. */
function keyEventsSince(from: SfuPeer, since: number): TranscriptEntry[] {
  return world.hs
    .transcript()
    .slice(since)
    .filter(
      (e) =>
        e.kind === "toDevice" &&
        e.senderDevice === from.deviceId &&
        (e.type === KeyEventType.KeysV2 || e.type === KeyEventType.KeysV1),
    );
}

function recipientIds(entry: TranscriptEntry): string[] {
  return (entry.recipients ?? []).map((r) => `${r.userId}:${r.deviceId}`).sort();
}

async function callOf(n: number, encrypted: boolean, voip = {}): Promise<SfuPeer[]> {
  world = new SfuWorld();
  const peers = await world.setup(n, { encrypted, voip });
  for (const peer of peers) {
    await world.join(peer);
  }
  await world.advance(20_000);
  return peers;
}

describe.each([true, false])("LiveKit key rotation (encrypted room: %s)", (encrypted) => {
  it("a leave: new key after the debounce, used after the delay, never sent to the leaver", async () => {
    const [a, b, c] = await callOf(3, encrypted);
    const before = a!.keys.currentLocalIndex!;
    const mark = world.hs.transcript().length;
    await world.leave(c!);
    await world.advance(3_999);
    expect(keyEventsSince(a!, mark)).toEqual([]);
    await world.advance(1);
    const [rotation] = keyEventsSince(a!, mark);
    expect(rotation).toBeDefined();
    expect(recipientIds(rotation!)).toEqual([b!.id]);
    // Sent, not used yet; b already holds it.
    expect(a!.keys.currentLocalIndex).toBe(before);
    const next = (before + 1) % 16;
    const received = b!.keys.keyOf(a!.id, next);
    expect(received).toBeDefined();
    await world.advance(3_999);
    expect(a!.keys.currentLocalIndex).toBe(before);
    await world.advance(1);
    expect(a!.keys.currentLocalIndex).toBe(next);
    expect(a!.keys.keyOf(a!.id, next)).toEqual(received);
    // Nothing after the leave went to c.
    const toLeaver = world.keyEvents().filter((e) => world.hs.transcript().indexOf(e) >= mark);
    expect(toLeaver.flatMap(recipientIds)).not.toContain(c!.id);
    expect(c!.keys.keyOf(a!.id, next)).toBeUndefined();
    expectKeysConsistent(world);
  });

  it("a joiner receives every existing member's current key (K1), and a join within 8 s reuses the key", async () => {
    const [a, b, c, d] = await callOf(2, encrypted).then(async () => {
      const more = [world.peer("@p2:local", "P2"), world.peer("@p3:local", "P3")];
      await world.hs.joinRoom(world.roomId, "@p2:local");
      await world.hs.joinRoom(world.roomId, "@p3:local");
      return [...world.peers.slice(0, 2), ...more];
    });
    // c joins 20 s after a's last key: a and b make new keys (index 1) for everyone, c included (K1); c never
    // gets the keys from before it joined.
    await world.join(c!);
    for (const member of [a!, b!]) {
      expect(c!.keys.keyOf(member.id, 1)).toBeDefined();
      expect(c!.keys.keyOf(member.id, 0)).toBeUndefined();
    }
    await world.advance(2_000);
    const mark = world.hs.transcript().length;
    // d joins 2 s later: a reuses its new key (index 1), sent to d only.
    await world.join(d!);
    const sent = keyEventsSince(a!, mark);
    expect(sent.map(recipientIds)).toContainEqual([d!.id]);
    expect(sent.flatMap(recipientIds).filter((id) => id !== d!.id)).toEqual([]);
    await world.advance(10_000);
    expect(a!.keys.localIndices()).toEqual([0, 1]);
    expect(d!.keys.keyOf(a!.id, 1)).toEqual(a!.keys.keyOf(a!.id, 1));
    expectKeysConsistent(world);
  });

  it("ratchet mode: a join ratchets the key through the provider and sends it to the joiner only", async () => {
    const [a, b] = await callOf(2, encrypted, { enableSFUE2EEKeyRatcheting: true });
    const c = world.peer("@p2:local", "P2", { enableSFUE2EEKeyRatcheting: true });
    await world.hs.joinRoom(world.roomId, c.userId);
    const mark = world.hs.transcript().length;
    await world.join(c);
    await world.advance(10_000);
    const index = a!.keys.currentLocalIndex!;
    expect(a!.keys.ratchets).toContainEqual([a!.id, index]);
    expect(a!.keys.localIndices()).toEqual([0]); // no new index
    const sent = keyEventsSince(a!, mark);
    expect(sent.map(recipientIds)).toEqual([[c.id]]);
    expect(c.keys.keyOf(a!.id, index)).toEqual(a!.keys.keyOf(a!.id, index));
    expect(c.keys.keyOf(b!.id, 0)).toEqual(b!.keys.keyOf(b!.id, 0));
  });

  it("requests both ways are answered with the latest key, to the requester only", async () => {
    const [a, b, c] = await callOf(3, encrypted);
    const aInB = b!.group!.participants.find((p) => p.id === a!.id)!;
    const mark = world.hs.transcript().length;
    await b!.group!.requestEncryptionKey([aInB]);
    await world.settle();
    const requests = world.hs
      .transcript()
      .slice(mark)
      .filter((e) => e.type === KeyEventType.RequestV2);
    expect(requests.map(recipientIds)).toEqual([[a!.id]]);
    expect(keyEventsSince(a!, mark).map(recipientIds)).toEqual([[b!.id]]);
    expect(keyEventsSince(c!, mark)).toEqual([]);
    // And the other way.
    const mark2 = world.hs.transcript().length;
    const bInA = a!.group!.participants.find((p) => p.id === b!.id)!;
    await a!.group!.requestEncryptionKey([bInA]);
    await world.settle();
    expect(keyEventsSince(b!, mark2).map(recipientIds)).toEqual([[a!.id]]);
  });

  it("a request from a device that is not in the call is never answered", async () => {
    const [a] = await callOf(2, encrypted);
    const outsider = world.peer("@p9:local", "P9");
    await world.hs.joinRoom(world.roomId, outsider.userId);
    const mark = world.hs.transcript().length;
    await outsider.client.sendToDevice(
      KeyEventType.RequestV2,
      { [a!.userId]: { [a!.deviceId]: { conf_id: "sfu-call", device_id: "P9", room_id: world.roomId } } },
      { encrypted: true },
    );
    await world.advance(10_000);
    expect(keyEventsSince(a!, mark)).toEqual([]);
  });

  it("leave then rejoin with the same backend: dispose reset the key state, the index moves on", async () => {
    world = new SfuWorld();
    const [a, b] = await world.setup(2, { encrypted });
    const backend = livekitBackend();
    await world.join(a!, backend);
    await world.join(b!);
    await world.advance(20_000);
    await world.leave(a!);
    expect(a!.group).toBeUndefined();
    await world.advance(20_000);
    const group = await world.join(a!, backend);
    expect(group.state).toBe(GroupCallState.Entered);
    await world.advance(10_000);
    expect(a!.keys.localIndices()).toEqual([0, 1]);
    expectKeysConsistent(world);
  });
});

describe("LiveKit keys between famedly-v1 and famedly-v2 apps (P2)", () => {
  it("a v1 app and v2 apps hold each other's keys; the v1 app gets v1 key events, the others v2", async () => {
    world = new SfuWorld();
    const [a, b] = await world.setup(2, { encrypted: true });
    const old = world.peer("@p2:local", "P2", { dialect: "famedly-v1" });
    await world.hs.joinRoom(world.roomId, old.userId);
    for (const peer of [a!, b!, old]) {
      await world.join(peer);
    }
    await world.leave(b!);
    await world.advance(10_000);
    await world.join(b!);
    await world.advance(10_000);
    expectKeysConsistent(world);
    const events = world.keyEvents();
    for (const event of events) {
      const toOld = (event.recipients ?? []).some((r) => r.deviceId === old.deviceId);
      expect(event.type).toBe(toOld ? KeyEventType.KeysV1 : KeyEventType.KeysV2);
    }
    expect(events.some((e) => e.type === KeyEventType.KeysV1)).toBe(true);
    expect(events.some((e) => e.senderDevice === old.deviceId && e.type === KeyEventType.KeysV2)).toBe(true);
  });
});
