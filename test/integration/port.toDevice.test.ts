// The matrix-js-sdk port against a real Synapse: Olm-encrypted to-device messages to two devices, shown on the
// wire through a recording proxy; plaintext to-device; the unknown-device rule.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createRoom,
  registerUser,
  startClient,
  synapse,
  toDeviceOf,
  waitFor,
  waitForDevice,
  type TestClient,
} from "./clients.js";
import { startRecordingProxy, type RecordingProxy } from "./recordingProxy.js";

const INVITE_TYPE = "com.famedly.call.member.invite.test";

describe("matrix-js-sdk port on Synapse: to-device", () => {
  let proxy: RecordingProxy;
  let alice: TestClient; // the sender, through the recording proxy
  let bob1: TestClient;
  let bob2: TestClient;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    proxy = await startRecordingProxy(synapse().baseUrl);
    const aliceUser = await registerUser("alice");
    const bobUser = await registerUser("bob");
    alice = await startClient(aliceUser, { baseUrl: proxy.url });
    bob1 = await startClient(bobUser, { devicePrefix: "BOBONE" });
    bob2 = await startClient(bobUser, { devicePrefix: "BOBTWO" });
    clients.push(alice, bob1, bob2);
    // Olm needs both sides to track each other: a shared encrypted room, then device lists (notes §4.3).
    await createRoom(alice, [bob1], { encrypted: true });
    await waitForDevice(alice.client, bobUser.userId, bob1.deviceId);
    await waitForDevice(alice.client, bobUser.userId, bob2.deviceId);
    await waitForDevice(bob1.client, aliceUser.userId, alice.deviceId);
    await waitForDevice(bob2.client, aliceUser.userId, alice.deviceId);
  });

  afterAll(async () => {
    for (const c of clients) {
      c.stop();
    }
    await proxy.close();
  });

  it("knows which devices it can encrypt to", async () => {
    const bob = bob1.user.userId;
    await waitFor(
      "alice's port to know bob's devices",
      () =>
        alice.port.canEncryptToDevice(bob, bob1.deviceId) &&
        alice.port.canEncryptToDevice(bob, bob2.deviceId),
    );
    expect(alice.port.canEncryptToDevice(bob, "NOSUCHDEVICE")).toBe(false);
    expect(alice.port.canEncryptToDevice("@stranger:localhost", "ANY")).toBe(false);
  });

  it("Olm-encrypts per device; each device gets its own content decrypted, with the verified sending device", async () => {
    const bob = bob1.user.userId;
    const markers = [`first-secret-${Date.now()}`, `second-secret-${Date.now()}`];
    const before = proxy.requests.length;
    await alice.port.sendToDevice(
      INVITE_TYPE,
      {
        [bob]: {
          [bob1.deviceId]: { call_id: "c1", marker: markers[0] },
          [bob2.deviceId]: { call_id: "c1", marker: markers[1] },
        },
      },
      { encrypted: true },
    );

    for (const [device, marker] of [
      [bob1, markers[0]],
      [bob2, markers[1]],
    ] as const) {
      const received = await waitFor(`${device.deviceId} to receive the invite`, () =>
        toDeviceOf(device).find((e) => e.type === INVITE_TYPE && e.content.marker === marker),
      );
      expect(received).toEqual({
        type: INVITE_TYPE,
        sender: alice.user.userId,
        content: { call_id: "c1", marker },
        encrypted: true,
        senderDevice: alice.deviceId,
      });
    }
    expect(toDeviceOf(bob1).some((e) => e.content.marker === markers[1])).toBe(false);

    // On the wire: one PUT /sendToDevice/m.room.encrypted/{txnId} with an Olm ciphertext per device.
    const sends = proxy.requests
      .slice(before)
      .filter((r) => r.method === "PUT" && r.path.includes("/sendToDevice/"));
    expect(sends).toHaveLength(1);
    const [send] = sends;
    expect(send?.path).toMatch(/\/_matrix\/client\/v3\/sendToDevice\/m\.room\.encrypted\/[^/]+$/);
    expect(send?.status).toBe(200);
    const body = JSON.parse(send?.body ?? "{}") as {
      messages: Record<string, Record<string, Record<string, unknown>>>;
    };
    expect(Object.keys(body.messages[bob] ?? {}).sort()).toEqual([bob1.deviceId, bob2.deviceId].sort());
    for (const payload of Object.values(body.messages[bob] ?? {})) {
      expect(payload.algorithm).toBe("m.olm.v1.curve25519-aes-sha2");
      expect(typeof payload.sender_key).toBe("string");
      expect(Object.keys(payload.ciphertext as object)).toHaveLength(1);
    }
    for (const secret of [...markers, INVITE_TYPE, "call_id"]) {
      expect(send?.body).not.toContain(secret);
    }
  });

  it("sends plaintext to-device when asked; it arrives as not encrypted, without a sending device", async () => {
    const bob = bob1.user.userId;
    const marker = `plain-${Date.now()}`;
    await alice.port.sendToDevice("org.example.plain", { [bob]: { [bob2.deviceId]: { marker } } });
    const received = await waitFor("bob2 to receive the plaintext message", () =>
      toDeviceOf(bob2).find((e) => e.type === "org.example.plain"),
    );
    expect(received).toEqual({
      type: "org.example.plain",
      sender: alice.user.userId,
      content: { marker },
      encrypted: false,
    });
    const send = proxy.find("PUT", /\/sendToDevice\/org\.example\.plain\//);
    expect(send).toHaveLength(1);
    expect(send[0]?.body).toContain(marker);
  });

  it("rejects an encrypted send before sending anything when one device cannot be encrypted to", async () => {
    const bob = bob1.user.userId;
    const before = proxy.find("PUT", /\/sendToDevice\//).length;
    const send = alice.port.sendToDevice(
      INVITE_TYPE,
      { [bob]: { [bob1.deviceId]: { call_id: "c2" }, NOSUCHDEVICE: { call_id: "c2" } } },
      { encrypted: true },
    );
    await expect(send).rejects.toMatchObject({
      name: "MatrixPortError",
      errcode: "M_UNKNOWN_DEVICE",
      httpStatus: 400,
    });
    await expect(send).rejects.toThrow(/NOSUCHDEVICE/);
    expect(proxy.find("PUT", /\/sendToDevice\//)).toHaveLength(before);
  });
});
