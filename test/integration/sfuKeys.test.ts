// SFU media keys on a real Synapse through the matrix-js-sdk port: three members of a LiveKit group call in an
// encrypted room each end up holding the others' current keys, and on the wire the keys travel only as Olm
// ciphertext (alice talks to Synapse through a recording proxy).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeBase64 } from "../../src/core/random.js";
import { LiveKitBackend, VoIP, type GroupCallSession } from "../../src/index.js";
import { KeyEventType } from "../../src/matrix/eventTypes.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { RecordingKeyProvider } from "../../src/testing/index.js";
import { startRoomWith, synapse, toDeviceOf, waitFor, type TestClient } from "./clients.js";
import { expectOnlyOlmToDevice, startRecordingProxy, type RecordingProxy } from "./recordingProxy.js";

interface Member {
  tc: TestClient;
  id: string;
  voip: VoIP;
  keys: RecordingKeyProvider;
  group?: GroupCallSession;
}

const CALL_ID = "sfu-synapse";

describe("SFU keys on Synapse (matrix-js-sdk port, Rust crypto)", () => {
  let proxy: RecordingProxy;
  let roomId: string;
  const members: Member[] = [];

  beforeAll(async () => {
    proxy = await startRecordingProxy(synapse().baseUrl);
    let clients: TestClient[];
    ({ clients, roomId } = await startRoomWith(["alice", "bob", "carol"], {
      encrypted: true,
      firstBaseUrl: proxy.url,
    }));
    for (const tc of clients) {
      const keys = new RecordingKeyProvider();
      const voip = new VoIP(tc.port, createNodeDelegate({ keyProvider: keys }), {
        timeouts: { useKeyDelayMs: 500, makeKeyOnLeaveDelayMs: 500 },
      });
      members.push({ tc, id: `${tc.user.userId}:${tc.deviceId}`, voip, keys });
    }
  });

  afterAll(async () => {
    for (const member of members) {
      await member.voip.dispose();
      member.tc.stop();
    }
    await proxy.close();
  });

  function consistent(): boolean {
    return members.every((owner) => {
      const index = owner.keys.currentLocalIndex;
      const key = index === undefined ? undefined : owner.keys.keyOf(owner.id, index);
      return (
        key !== undefined &&
        members.every((other) => other === owner || equal(other.keys.keyOf(owner.id, index!), key))
      );
    });
  }

  it("three members exchange keys; the keys leave alice's client only as Olm ciphertext", async () => {
    const backend = (): LiveKitBackend =>
      new LiveKitBackend({ livekitServiceUrl: "https://livekit-jwt.localhost", livekitAlias: roomId });
    for (const member of members) {
      member.group = await member.voip.fetchOrCreateGroupCall(CALL_ID, roomId, backend());
      await member.group.enter();
    }
    await waitFor("every member to hold every other member's current key", () => consistent(), 30_000);

    // What bob received from alice: famedly-v2 key events, Olm-encrypted from alice's verified device.
    const [alice, bob] = members;
    const fromAlice = toDeviceOf(bob!.tc).filter(
      (e) => e.type === KeyEventType.KeysV2 && e.sender === alice!.tc.user.userId,
    );
    expect(fromAlice.length).toBeGreaterThan(0);
    for (const event of fromAlice) {
      expect(event.encrypted).toBe(true);
      expect(event.senderDevice).toBe(alice!.tc.deviceId);
      expect(event.content).toMatchObject({ call_id: CALL_ID, conf_id: CALL_ID, room_id: roomId });
    }

    // On the wire: alice's to-device requests are all m.room.encrypted with Olm payloads; no key, no key event
    // type and no call id appear in any request body.
    expectOnlyOlmToDevice(proxy);
    const keys = members.flatMap((m) => m.keys.log.map((entry) => encodeBase64(entry.key)));
    expect(keys.length).toBeGreaterThanOrEqual(9);
    for (const request of proxy.requests) {
      for (const key of keys) {
        expect(request.body).not.toContain(key);
        expect(request.body).not.toContain(key.replace(/=+$/, ""));
      }
      expect(request.body).not.toContain(KeyEventType.KeysV2);
    }
  });

  it("carol leaves: alice and bob rotate, and the new keys reach only each other", async () => {
    const [alice, bob, carol] = members;
    const before = [alice!.keys.currentLocalIndex, bob!.keys.currentLocalIndex];
    const carolHeld = carol!.keys.log.length;
    await carol!.group!.leave();
    members.pop();
    await waitFor(
      "alice and bob to use new keys the other holds",
      () =>
        alice!.keys.currentLocalIndex !== before[0] &&
        bob!.keys.currentLocalIndex !== before[1] &&
        consistent(),
      30_000,
    );
    expect(carol!.keys.log.length).toBe(carolHeld);
    members.push(carol!);
  });
});

function equal(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return a?.length === b.length && a.every((byte, i) => byte === b[i]);
}
