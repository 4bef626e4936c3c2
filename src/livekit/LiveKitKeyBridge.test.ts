import { KeyProviderEvent, type KeyInfo } from "livekit-client";
import { describe, expect, it } from "vitest";
import { CallParticipant } from "../call/CallParticipant.js";
import { isVoipError, VoipErrorCode } from "../core/errors.js";
import { LiveKitKeyBridge } from "./LiveKitKeyBridge.js";

const alice = new CallParticipant("@alice:example.org", "ALICEDEV", true);
const bob = new CallParticipant("@bob:example.org", "BOBDEV");

/** Every key livekit-client's provider hands to its E2EE worker, with the "use this index now" flag. */
function recordKeys(bridge: LiveKitKeyBridge): { info: KeyInfo; updateIndex: boolean }[] {
  const seen: { info: KeyInfo; updateIndex: boolean }[] = [];
  bridge.keyProvider.on(KeyProviderEvent.SetKey, (info, updateIndex) => {
    seen.push({ info, updateIndex });
  });
  return seen;
}

/** The 128-bit AES key LiveKit derives from key material (HKDF, SHA-256, salt LKFrameEncryptionKey). */
async function frameKeyOf(material: CryptoKey): Promise<string> {
  const params = {
    name: "HKDF",
    salt: new TextEncoder().encode("LKFrameEncryptionKey"),
    hash: "SHA-256",
    info: new ArrayBuffer(128),
  };
  return Buffer.from(await crypto.subtle.deriveBits(params, material, 128)).toString("hex");
}

async function rawMaterial(bytes: Uint8Array<ArrayBuffer>): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", bytes, "HKDF", false, ["deriveBits", "deriveKey"]);
}

describe("LiveKitKeyBridge (famedly-calls/livekit)", () => {
  it("is a per-participant provider whose keyring covers our index ring, failing fast on a wrong key", () => {
    expect(new LiveKitKeyBridge().keyProvider.getOptions()).toMatchObject({
      sharedKey: false,
      keyringSize: 16,
      ratchetWindowSize: 0,
    });
    expect(
      new LiveKitKeyBridge({ keyRingSize: 32, ratchetWindowSize: 8 }).keyProvider.getOptions(),
    ).toMatchObject({
      keyringSize: 32,
      ratchetWindowSize: 8,
    });
  });

  it("installs each key under the participant identity `${userId}:${deviceId}` at its index", async () => {
    const bridge = new LiveKitKeyBridge();
    const seen = recordKeys(bridge);
    const key = crypto.getRandomValues(new Uint8Array(16));
    await bridge.onSetEncryptionKey(bob, key, 15);
    await bridge.onSetEncryptionKey(alice, key, 0);
    expect(seen.map((s) => [s.info.participantIdentity, s.info.keyIndex, s.updateIndex])).toEqual([
      ["@bob:example.org:BOBDEV", 15, true],
      ["@alice:example.org:ALICEDEV", 0, true],
    ]);
    // The material is our raw key: LiveKit derives the same frame key from it as from the bytes themselves.
    expect(await frameKeyOf(seen[0]!.info.key)).toBe(await frameKeyOf(await rawMaterial(key)));
    expect(await bridge.onExportKey(bob, 15)).toEqual(key);
    expect(bridge.keyProvider.getKeys()).toHaveLength(2);
  });

  it("keeps its own copy of a key", async () => {
    const bridge = new LiveKitKeyBridge();
    const key = new Uint8Array(16).fill(7);
    await bridge.onSetEncryptionKey(bob, key, 1);
    key.fill(0);
    expect(await bridge.onExportKey(bob, 1)).toEqual(new Uint8Array(16).fill(7));
  });

  it("rejects an index outside the ring, an empty key and exporting a key it does not have", async () => {
    const bridge = new LiveKitKeyBridge();
    const seen = recordKeys(bridge);
    const key = new Uint8Array(16).fill(1);
    for (const index of [-1, 16, 1.5]) {
      await expect(bridge.onSetEncryptionKey(bob, key, index)).rejects.toSatisfy((e) =>
        isVoipError(e, VoipErrorCode.InvalidArgument),
      );
    }
    await expect(bridge.onSetEncryptionKey(bob, new Uint8Array(0), 0)).rejects.toSatisfy((e) =>
      isVoipError(e, VoipErrorCode.InvalidArgument),
    );
    await expect(bridge.onExportKey(bob, 0)).rejects.toSatisfy((e) =>
      isVoipError(e, VoipErrorCode.InvalidState),
    );
    await expect(bridge.onRatchetKey(bob, 0)).rejects.toSatisfy((e) =>
      isVoipError(e, VoipErrorCode.InvalidState),
    );
    expect(seen).toEqual([]);
    expect(() => new LiveKitKeyBridge({ keyRingSize: 0 })).toThrow(/key ring size/);
  });

  it("ratchets a key as LiveKit's worker does (HKDF with the ratchet salt) and installs it at the same index", async () => {
    const bridge = new LiveKitKeyBridge();
    const key = crypto.getRandomValues(new Uint8Array(16));
    await bridge.onSetEncryptionKey(alice, key, 4);
    const seen = recordKeys(bridge);
    const next = await bridge.onRatchetKey(alice, 4);
    // Computed independently: HKDF-SHA-256 over the old key, salt "LKFrameEncryptionKey", 128 zero bytes of info.
    const expected = await crypto.subtle.deriveBits(
      {
        name: "HKDF",
        salt: new TextEncoder().encode("LKFrameEncryptionKey"),
        hash: "SHA-256",
        info: new ArrayBuffer(128),
      },
      await rawMaterial(key),
      256,
    );
    expect(Buffer.from(next).toString("hex")).toBe(Buffer.from(expected).toString("hex"));
    expect(seen.map((s) => [s.info.participantIdentity, s.info.keyIndex])).toEqual([
      ["@alice:example.org:ALICEDEV", 4],
    ]);
    expect(await bridge.onExportKey(alice, 4)).toEqual(next);
    // Ratcheting again moves on from the ratcheted key.
    expect(await bridge.onRatchetKey(alice, 4)).not.toEqual(next);
  });
});
