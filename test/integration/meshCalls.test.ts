// A mesh group call on a real Synapse through the matrix-js-sdk port (Rust crypto): three members in an encrypted
// room connect every pair with real media, and their to-device signalling is on the wire only as m.room.encrypted
// Olm payloads (alice talks to Synapse through a recording proxy).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallState, MeshBackend, VoIP, type GroupCallSession } from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { startRoomWith, synapse, toDeviceOf, waitFor, type TestClient } from "./clients.js";
import { expectOnlyOlmToDevice, startRecordingProxy, type RecordingProxy } from "./recordingProxy.js";

interface Member {
  tc: TestClient;
  voip: VoIP;
  group?: GroupCallSession;
}

describe("mesh group call on Synapse (matrix-js-sdk port, Rust crypto)", () => {
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
      members.push({ tc, voip: new VoIP(tc.port, createNodeDelegate({ video: false })) });
    }
  }, 120_000);

  afterAll(async () => {
    for (const member of members) {
      await member.voip.dispose().catch(() => undefined);
      member.tc.stop();
    }
    await proxy.close();
  });

  it("three members connect every pair; the signalling leaves alice's client only as Olm ciphertext", async () => {
    for (const member of members) {
      member.group = await member.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    }
    await Promise.all(members.map((m) => m.group!.enter()));
    const connected = (a: Member, b: Member): boolean =>
      a.group!.calls.some(
        (leg) =>
          leg.remoteUserId === b.tc.user.userId &&
          leg.remoteDeviceId === b.tc.deviceId &&
          leg.state === CallState.Connected,
      );
    await waitFor(
      "every pair connected on both sides",
      () => members.every((a) => members.every((b) => a === b || connected(a, b))),
      60_000,
    );
    // Audio both ways on every leg.
    for (const member of members) {
      for (const leg of member.group!.calls) {
        await waitFor(
          `audio on ${member.tc.user.userId}'s leg`,
          async () => (await leg.getStats()).audio.bytesReceived > 0 || undefined,
          20_000,
        );
      }
    }

    // Received: mesh signalling from alice, decrypted from her Olm-verified device.
    const [alice, bob] = members;
    const fromAlice = toDeviceOf(bob!.tc).filter(
      (e) => e.type.startsWith("com.famedly.call.member.") && e.sender === alice!.tc.user.userId,
    );
    expect(fromAlice.map((e) => e.type)).toContain("com.famedly.call.member.invite");
    for (const event of fromAlice) {
      expect(event.encrypted).toBe(true);
      expect(event.senderDevice).toBe(alice!.tc.deviceId);
      expect(event.content).toMatchObject({ conf_id: roomId, room_id: roomId });
    }

    // On the wire: every to-device request of alice is m.room.encrypted with Olm payloads; no SDP, no mesh type.
    expectOnlyOlmToDevice(proxy);
    for (const request of proxy.requests.filter((r) => r.method === "PUT")) {
      expect(request.body).not.toContain("com.famedly.call.member.invite");
      expect(request.body).not.toContain("a=fingerprint");
    }
  }, 120_000);
});
