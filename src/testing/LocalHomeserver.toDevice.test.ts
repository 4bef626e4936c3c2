import { afterEach, describe, expect, it } from "vitest";
import { MatrixPortError } from "../core/errors.js";
import type { MatrixClientPort, ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import { LocalHomeserver } from "./LocalHomeserver.js";

const ALICE = "@alice:local";
const BOB = "@bob:local";

let hs: LocalHomeserver;
afterEach(async () => {
  await hs.close();
});

function inbox(client: MatrixClientPort): ToDeviceEvent[] {
  const events: ToDeviceEvent[] = [];
  client.onSync((batch) => {
    events.push(...batch.toDevice);
  });
  return events;
}

describe("LocalHomeserver to-device", () => {
  it("delivers to exactly the addressed devices; '*' means all of that user's devices", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob1 = inbox(hs.createClient(BOB, "BOB1"));
    const bob2 = inbox(hs.createClient(BOB, "BOB2"));
    const aliceOther = inbox(hs.createClient(ALICE, "ALICE2"));
    await alice.sendToDevice("m.test", { [BOB]: { BOB1: { to: "bob1" } } });
    await hs.flush();
    expect(bob1.map((e) => e.content)).toEqual([{ to: "bob1" }]);
    expect(bob2).toEqual([]);
    await alice.sendToDevice("m.test", { [BOB]: { "*": { to: "all" } }, [ALICE]: { ALICE2: { to: "me2" } } });
    await hs.flush();
    expect(bob1.map((e) => e.content.to)).toEqual(["bob1", "all"]);
    expect(bob2.map((e) => e.content.to)).toEqual(["all"]);
    expect(aliceOther).toEqual([{ type: "m.test", sender: ALICE, content: { to: "me2" }, encrypted: false }]);
  });

  it("drops unknown devices and users silently, like Synapse", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = inbox(hs.createClient(BOB, "BOB"));
    await expect(
      alice.sendToDevice("m.test", {
        [BOB]: { GHOST: { n: 0 }, BOB: { n: 1 } },
        "@nobody:local": { "*": { n: 2 } },
      }),
    ).resolves.toBeUndefined();
    await hs.flush();
    expect(bob.map((e) => e.content.n)).toEqual([1]);
    const entry = hs.transcript().find((e) => e.kind === "toDevice");
    expect(entry?.recipients).toEqual([{ userId: BOB, deviceId: "BOB" }]);
  });

  it("encrypted: recipients get cleartext with the Olm-verified sender device, the server only ciphertext", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob1 = inbox(hs.createClient(BOB, "BOB1"));
    const bob2 = inbox(hs.createClient(BOB, "BOB2"));
    const secret = { keys: [{ index: 0, key: "c2VjcmV0LWtleS1tYXRlcmlhbA==" }], call_id: "c" };
    await alice.sendToDevice(
      "com.famedly.call.encryption_keys",
      { [BOB]: { "*": secret } },
      { encrypted: true },
    );
    await hs.flush();
    for (const events of [bob1, bob2]) {
      expect(events).toEqual([
        {
          type: "com.famedly.call.encryption_keys",
          sender: ALICE,
          content: secret,
          encrypted: true,
          senderDevice: "ALICE",
        },
      ]);
    }
    const entries = hs.transcript().filter((e) => e.kind === "toDevice");
    expect(entries).toHaveLength(1);
    const entry = entries[0]!;
    expect(entry).toMatchObject({
      type: "com.famedly.call.encryption_keys",
      encrypted: true,
      sender: ALICE,
      senderDevice: "ALICE",
    });
    expect(entry.recipients).toEqual([
      { userId: BOB, deviceId: "BOB1" },
      { userId: BOB, deviceId: "BOB2" },
    ]);
    expect(entry.content.algorithm).toBe("m.olm.v1.curve25519-aes-sha2");
    const serialized = JSON.stringify(hs.transcript());
    expect(serialized).not.toContain("c2VjcmV0LWtleS1tYXRlcmlhbA");
    expect(serialized).not.toContain("call_id");
    const bodies = Object.values(entry.perDevice?.[BOB] ?? {}).map((c) => JSON.stringify(c.ciphertext));
    expect(new Set(bodies).size).toBe(2);
  });

  it("canEncryptToDevice: any existing device except your own; configurable per device", () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    hs.createClient(ALICE, "ALICE2");
    hs.createClient(BOB, "BOB");
    expect(alice.canEncryptToDevice(BOB, "BOB")).toBe(true);
    expect(alice.canEncryptToDevice(ALICE, "ALICE2")).toBe(true);
    expect(alice.canEncryptToDevice(ALICE, "ALICE")).toBe(false);
    expect(alice.canEncryptToDevice(BOB, "GHOST")).toBe(false);
    hs.setDeviceEncryptable(BOB, "BOB", false);
    expect(alice.canEncryptToDevice(BOB, "BOB")).toBe(false);
    expect(() => {
      hs.setDeviceEncryptable(BOB, "GHOST", true);
    }).toThrow("Unknown device");
  });

  it("encrypted sends to a device we cannot encrypt to reject, and deliver nothing", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = inbox(hs.createClient(BOB, "BOB"));
    hs.createClient(BOB, "BOB2");
    hs.setDeviceEncryptable(BOB, "BOB2", false);
    for (const target of ["BOB2", "GHOST"]) {
      const error = await alice
        .sendToDevice("m.test", { [BOB]: { BOB: { n: 1 }, [target]: { n: 2 } } }, { encrypted: true })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(MatrixPortError);
      expect((error as MatrixPortError).message).toContain(`Cannot Olm-encrypt to ${BOB} / ${target}`);
    }
    // '*' skips the devices we cannot encrypt to.
    await alice.sendToDevice("m.test", { [BOB]: { "*": { n: 3 } } }, { encrypted: true });
    await hs.flush();
    expect(bob.map((e) => e.content.n)).toEqual([3]);
    expect(hs.transcript().filter((e) => e.kind === "toDevice")).toHaveLength(1);
  });

  it("plaintext to-device has encrypted: false and no senderDevice; the transcript lists one entry per call", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = inbox(hs.createClient(BOB, "BOB"));
    hs.createClient(BOB, "BOB2");
    await alice.sendToDevice("m.call.invite", { [BOB]: { BOB: { a: 1 }, BOB2: { a: 2 } } });
    await hs.flush();
    expect(bob[0]).toEqual({ type: "m.call.invite", sender: ALICE, content: { a: 1 }, encrypted: false });
    expect(bob[0]).not.toHaveProperty("senderDevice");
    const entries = hs.transcript().filter((e) => e.kind === "toDevice");
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      sender: ALICE,
      senderDevice: "ALICE",
      type: "m.call.invite",
      encrypted: false,
      content: { a: 1 },
      perDevice: { [BOB]: { BOB: { a: 1 }, BOB2: { a: 2 } } },
    });
  });

  it("rejects malformed messages with 400", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bad = [{ [BOB]: "x" }, { [BOB]: { BOB: 5 } }, null];
    for (const messages of bad) {
      await expect(alice.sendToDevice("m.test", messages as never)).rejects.toMatchObject({
        errcode: "M_BAD_JSON",
        httpStatus: 400,
      });
    }
    await expect(alice.sendToDevice("", {})).rejects.toMatchObject({ httpStatus: 400 });
  });
});

describe("LocalHomeserver simulated room encryption", () => {
  it("stores room events of encrypted rooms as opaque Megolm ciphertext; members get cleartext", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({
      creator: ALICE,
      members: [BOB],
      encrypted: true,
      powerLevels: { state_default: 0 },
    });
    const received: unknown[] = [];
    bob.onSync((batch) => {
      received.push(...batch.rooms.flatMap((r) => (r.initial ? [] : r.timeline)));
    });
    const offer = { call_id: "c1", offer: { type: "offer", sdp: "v=0 a=fingerprint:sha-256 AB:CD" } };
    const { eventId } = await alice.sendRoomEvent(roomId, "m.call.invite", offer);
    await alice.sendRoomEvent(roomId, "m.reaction", {
      "m.relates_to": { rel_type: "m.annotation", event_id: eventId },
    });
    await alice.sendStateEvent(roomId, "com.famedly.call.member", ALICE, { memberships: [] });
    await hs.flush();
    expect(received[0]).toMatchObject({ eventId, type: "m.call.invite", content: offer });

    const room = hs.transcript().filter((e) => e.roomId === roomId && e.kind === "room");
    expect(room.map((e) => [e.type, e.encrypted])).toEqual([
      ["m.call.invite", true],
      ["m.reaction", true],
    ]);
    expect(room[0]?.content).toMatchObject({ algorithm: "m.megolm.v1.aes-sha2", device_id: "ALICE" });
    expect(Object.keys(room[0]?.content ?? {}).sort()).toEqual([
      "algorithm",
      "ciphertext",
      "device_id",
      "sender_key",
      "session_id",
    ]);
    expect(JSON.stringify(room)).not.toContain("fingerprint");
    // Like a real client, the relation stays readable so that the server can aggregate it.
    expect(room[1]?.content["m.relates_to"]).toEqual({ rel_type: "m.annotation", event_id: eventId });
    const state = hs.transcript().find((e) => e.type === "com.famedly.call.member");
    expect(state).toMatchObject({
      kind: "state",
      encrypted: false,
      content: { memberships: [] },
      stateKey: ALICE,
    });
  });

  it("unencrypted rooms keep cleartext in the transcript", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const roomId = await hs.createRoom({ creator: ALICE });
    await alice.sendRoomEvent(roomId, "m.call.hangup", { reason: "user_hangup" });
    const entry = hs.transcript().find((e) => e.type === "m.call.hangup");
    expect(entry).toMatchObject({
      kind: "room",
      encrypted: false,
      content: { reason: "user_hangup" },
      sender: ALICE,
      senderDevice: "ALICE",
    });
  });
});
