/**
 * famedly-calls/livekit-node against a real LiveKit server: @livekit/rtc-node participants with per-participant keys
 * fed through LiveKitNodeKeyBridge publish a tone and a coloured video, and what arrives shows whether it decrypted.
 * Also proves each workaround for rtc-node 1.1.0's E2EE gaps (keys with bytes, our own key index, E2EE states).
 */
import { dispose, EncryptionState } from "@livekit/rtc-node";
import { afterAll, afterEach, describe, expect, inject, it } from "vitest";
import { NodeSfuParticipant, type ReceivedMedia } from "../../demo/livekit/nodeParticipant.js";
import { CallParticipant } from "../../src/call/CallParticipant.js";
import { LiveKitKeyBridge } from "../../src/livekit/index.js";
import * as ffi from "../../src/livekitNode/ffi.js";
import { LiveKitNodeKeyBridge, type LiveKitNodeKeyBridgeOptions } from "../../src/livekitNode/index.js";
import { expectOnlyNoise } from "./noise.js";
import { mintToken } from "./tokens.js";

const livekit = inject("livekit");
const joined: NodeSfuParticipant[] = [];
let roomCounter = 0;

afterEach(async () => {
  await Promise.all(joined.splice(0).map((p) => p.leave()));
});
afterAll(async () => {
  await dispose();
});

const device = (name: string): CallParticipant => new CallParticipant(`@${name}:local`, name.toUpperCase());
const newKey = (): Uint8Array => crypto.getRandomValues(new Uint8Array(16));

/** A bridge holding `keys` (participant → key at `index`). */
async function bridgeWith(
  keys: [CallParticipant, Uint8Array][],
  index = 0,
  options?: LiveKitNodeKeyBridgeOptions,
): Promise<LiveKitNodeKeyBridge> {
  const bridge = new LiveKitNodeKeyBridge(options);
  for (const [participant, key] of keys) {
    await bridge.onSetEncryptionKey(participant, key, index);
  }
  return bridge;
}

async function join(
  room: string,
  who: CallParticipant,
  bridge?: LiveKitNodeKeyBridge,
): Promise<NodeSfuParticipant> {
  const participant = await NodeSfuParticipant.join(
    livekit.wsUrl,
    await mintToken(livekit, who.id, room),
    who.id,
    bridge,
  );
  joined.push(participant);
  return participant;
}

/** Resolves once `bridge` has reported `state` for `identity`. */
async function stateOf(
  bridge: LiveKitNodeKeyBridge,
  identity: string,
  state: EncryptionState,
): Promise<void> {
  if (bridge.encryptionState(identity) === state) {
    return;
  }
  await new Promise<void>((resolveState) => {
    const off = bridge.on("encryptionStateChanged", (who, now) => {
      if (who === identity && now === state) {
        off();
        resolveState();
      }
    });
  });
}

const decodes = (m: ReceivedMedia): boolean => m.tonalFrames >= 20 && m.colourFrames >= 5;

describe("LiveKitNodeKeyBridge with @livekit/rtc-node 1.1.0 and a real LiveKit server", () => {
  it("three participants with per-participant keys decode each other's tone and video", async () => {
    const room = `three-${++roomCounter}`;
    const people = [device("alice"), device("bob"), device("carol")];
    const keys = people.map((p): [CallParticipant, Uint8Array] => [p, newKey()]);
    const bridges = await Promise.all(people.map(() => bridgeWith(keys)));
    const members = await Promise.all(people.map((p, i) => join(room, p, bridges[i])));
    await Promise.all(members.map((m) => m.publish()));
    for (const receiver of members) {
      for (const sender of people.filter((p) => p.id !== receiver.identity)) {
        await receiver.waitFor(sender.id, decodes, "decrypted tone and video");
      }
    }
    for (const [i, bridge] of bridges.entries()) {
      for (const sender of people.filter((_, j) => j !== i)) {
        await stateOf(bridge, sender.id, EncryptionState.OK);
      }
    }
  });

  it("a wrong key decodes nothing (DECRYPTION_FAILED); a participant without E2EE receives only noise", async () => {
    const room = `wrong-${++roomCounter}`;
    const [alice, bob, mallory, eve] = [device("alice"), device("bob"), device("mallory"), device("eve")];
    const aliceKey = newKey();
    const sender = await join(room, alice, await bridgeWith([[alice, aliceKey]]));
    const bobBridge = await bridgeWith([[alice, aliceKey]]);
    const malloryBridge = await bridgeWith([[alice, newKey()]]);
    const bobSide = await join(room, bob, bobBridge);
    const mallorySide = await join(room, mallory, malloryBridge);
    const eveSide = await join(room, eve); // no E2EE at all
    await sender.publish();
    await stateOf(malloryBridge, alice.id, EncryptionState.DECRYPTION_FAILED);
    // Meanwhile the right key decodes plenty, so media reached everyone.
    await bobSide.waitFor(alice.id, (m) => m.tonalFrames >= 100 && m.colourFrames >= 15, "decrypted media");
    await eveSide.waitFor(alice.id, (m) => m.audioFrames >= 100, "audio frames");
    expect(bobBridge.encryptionState(alice.id)).toBe(EncryptionState.OK);
    expect(mallorySide.from(alice.id)).toMatchObject({ tonalFrames: 0, colourFrames: 0 });
    expectOnlyNoise(eveSide.from(alice.id));
  });

  it("a key at a new index moves our own tracks to it; holders keep decoding, others get MISSING_KEY", async () => {
    const room = `rotate-${++roomCounter}`;
    const [alice, bob, carol] = [device("alice"), device("bob"), device("carol")];
    const key0 = newKey();
    const aliceBridge = await bridgeWith([[alice, key0]]);
    const bobBridge = await bridgeWith([[alice, key0]]);
    const carolBridge = await bridgeWith([[alice, key0]]);
    const sender = await join(room, alice, aliceBridge);
    const bobSide = await join(room, bob, bobBridge);
    const carolSide = await join(room, carol, carolBridge);
    await sender.publish();
    await bobSide.waitFor(alice.id, decodes, "media before the rotation");
    await carolSide.waitFor(alice.id, decodes, "media before the rotation");

    const key1 = newKey();
    await bobBridge.onSetEncryptionKey(alice, key1, 1);
    await aliceBridge.onSetEncryptionKey(alice, key1, 1);
    // The workaround: rtc-node's own FrameCryptor.setKeyIndex cannot do this (it has no track sid).
    const own = ffi.frameCryptors(sender.room).filter((c) => c.participantIdentity === alice.id);
    expect(own.map((c) => c.keyIndex)).toEqual([1, 1]);
    expect(aliceBridge.keyIndex(alice.id)).toBe(1);

    await stateOf(carolBridge, alice.id, EncryptionState.MISSING_KEY);
    // Bob decodes a second of media with the new key. Frames in flight at the switch and the decoder's packet-loss
    // concealment (which extends a tone) may still show up at Carol's for a moment; over the next second, nothing does.
    const bobAtSwitch = bobSide.from(alice.id);
    await bobSide.waitFor(
      alice.id,
      (m) => m.tonalFrames >= bobAtSwitch.tonalFrames + 100,
      "audio with the new key",
    );
    const carolLater = carolSide.from(alice.id);
    const bobLater = bobSide.from(alice.id);
    await bobSide.waitFor(
      alice.id,
      (m) => m.colourFrames >= bobLater.colourFrames + 15 && m.tonalFrames >= bobLater.tonalFrames + 100,
      "more media with the new key",
    );
    expect(carolSide.from(alice.id)).toMatchObject({
      colourFrames: carolLater.colourFrames,
      tonalFrames: carolLater.tonalFrames,
    });
    expect(carolBridge.encryptionState(alice.id)).toBe(EncryptionState.MISSING_KEY);
  });

  it("ratchets as rtc-node and livekit-client do; a receiver with a ratchet window follows", async () => {
    const room = `ratchet-${++roomCounter}`;
    const [alice, bob] = [device("alice"), device("bob")];
    const key = newKey();
    const aliceBridge = await bridgeWith([[alice, key]]);
    const bobBridge = await bridgeWith([[alice, key]], 0, { ratchetWindowSize: 8 });
    const sender = await join(room, alice, aliceBridge);
    const bobSide = await join(room, bob, bobBridge);
    await sender.publish();
    const before = await bobSide.waitFor(alice.id, decodes, "media before the ratchet");

    const browserBridge = new LiveKitKeyBridge();
    await browserBridge.onSetEncryptionKey(alice, key, 0);
    ffi.setKey(bobSide.room, "probe", key, 3);
    const ratcheted = await aliceBridge.onRatchetKey(alice, 0);
    expect(ratcheted).toEqual(ffi.ratchetKey(bobSide.room, "probe", 3));
    expect(ratcheted).toEqual(await browserBridge.onRatchetKey(alice, 0));
    expect(ffi.getKey(sender.room, alice.id, 0)).toEqual(ratcheted);

    // Bob only has the old key: his receiver ratchets it forward itself and keeps decoding.
    await bobSide.waitFor(
      alice.id,
      (m) => m.colourFrames >= before.colourFrames + 15 && m.tonalFrames >= before.tonalFrames + 100,
      "media after the ratchet",
    );
    expect(ffi.getKey(bobSide.room, alice.id, 0)).toEqual(ratcheted);
  });

  it("rejects bad input with clear errors and an unconnected room with a clear error", async () => {
    const bridge = new LiveKitNodeKeyBridge();
    const alice = device("alice");
    await expect(bridge.onSetEncryptionKey(alice, newKey(), 16)).rejects.toThrow(/outside the key ring/);
    await expect(bridge.onExportKey(alice, 0)).rejects.toThrow(/no key/);
    const { Room } = await import("@livekit/rtc-node");
    expect(() => {
      bridge.attach(new Room());
    }).toThrow(/not connected/);
  });
});
