// The matrix-js-sdk port against a real Synapse: state events and power levels, room events in sync batches
// (unencrypted and Megolm-encrypted), relations and redactions, initial batches.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MatrixPortError } from "../../src/core/errors.js";
import {
  CALL_MEMBER_TYPE,
  createRoom,
  registerUser,
  startClient,
  stateOf,
  synapse,
  timelineOf,
  waitFor,
  type TestClient,
  type TestUser,
} from "./clients.js";
import { startRecordingProxy, type RecordingProxy } from "./recordingProxy.js";

describe("matrix-js-sdk port on Synapse: rooms", () => {
  let proxy: RecordingProxy;
  let aliceUser: TestUser;
  let alice: TestClient; // talks to Synapse through the recording proxy
  let bob: TestClient;
  let plainRoom: string;
  let encryptedRoom: string;
  const clients: TestClient[] = [];

  beforeAll(async () => {
    proxy = await startRecordingProxy(synapse().baseUrl);
    aliceUser = await registerUser("alice");
    const bobUser = await registerUser("bob");
    alice = await startClient(aliceUser, { baseUrl: proxy.url });
    bob = await startClient(bobUser);
    clients.push(alice, bob);
    plainRoom = await createRoom(alice, [bob]);
    encryptedRoom = await createRoom(alice, [bob], { encrypted: true });
  });

  afterAll(async () => {
    for (const c of clients) {
      c.stop();
    }
    await proxy.close();
  });

  it("lets a member (PL 0) publish call member state under their own user id, and everyone sees it", async () => {
    const info = bob.port.getRoom(plainRoom);
    expect(info).toMatchObject({
      roomId: plainRoom,
      encrypted: false,
      roomVersion: "10",
      myMembership: "join",
    });
    expect(info?.joinedMembers.sort()).toEqual([alice.user.userId, bob.user.userId].sort());
    expect((info?.powerLevels?.events as Record<string, number>)[CALL_MEMBER_TYPE]).toBe(0);
    expect((info?.powerLevels?.users as Record<string, number>)[bob.user.userId]).toBeUndefined();

    const content = {
      memberships: [{ call_id: "", device_id: bob.deviceId, expires_ts: Date.now() + 3_600_000 }],
    };
    const { eventId, delayId } = await bob.port.sendStateEvent(
      plainRoom,
      CALL_MEMBER_TYPE,
      bob.user.userId,
      content,
    );
    expect(eventId).toMatch(/^\$/);
    expect(delayId).toBeUndefined();

    const seen = await waitFor("alice's sync to deliver bob's member state", () =>
      stateOf(alice, plainRoom).find((e) => e.eventId === eventId),
    );
    expect(seen).toMatchObject({
      type: CALL_MEMBER_TYPE,
      stateKey: bob.user.userId,
      sender: bob.user.userId,
      content,
    });
    expect(timelineOf(alice, plainRoom).some((e) => e.eventId === eventId)).toBe(false);
    expect(alice.port.getStateEvents(plainRoom, CALL_MEMBER_TYPE)).toEqual([
      expect.objectContaining({ eventId, stateKey: bob.user.userId, content }),
    ]);
  });

  it("rejects what power levels forbid with the server's errcode and status", async () => {
    const nameChange = bob.port.sendStateEvent(plainRoom, "m.room.name", "", { name: "nope" });
    await expect(nameChange).rejects.toBeInstanceOf(MatrixPortError);
    await expect(nameChange).rejects.toMatchObject({ errcode: "M_FORBIDDEN", httpStatus: 403 });
    // Another user's state key: power levels allow the type, the ownership rule does not.
    const othersKey = bob.port.sendStateEvent(plainRoom, CALL_MEMBER_TYPE, alice.user.userId, {
      memberships: [],
    });
    await expect(othersKey).rejects.toMatchObject({ errcode: "M_FORBIDDEN", httpStatus: 403 });
  });

  it("delivers room events of an unencrypted room in order, in incremental sync batches", async () => {
    const sent: string[] = [];
    for (let seq = 0; seq < 5; seq++) {
      sent.push(
        (await alice.port.sendRoomEvent(plainRoom, "org.example.ping", { seq, text: `plain ${seq}` }))
          .eventId,
      );
    }
    const received = await waitFor("bob to receive 5 pings", () => {
      const pings = timelineOf(bob, plainRoom).filter((e) => e.type === "org.example.ping");
      return pings.length >= 5 ? pings : undefined;
    });
    expect(received.map((e) => e.eventId)).toEqual(sent);
    expect(received.map((e) => e.content.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(received.every((e) => e.sender === alice.user.userId && e.roomId === plainRoom)).toBe(true);
    expect(received.every((e) => typeof e.unsigned?.age === "number" && e.originServerTs > 0)).toBe(true);
    const batchesWithPings = bob.batches.filter((b) =>
      b.rooms.some((r) => r.timeline.some((e) => sent.includes(e.eventId))),
    );
    expect(batchesWithPings.every((b) => b.rooms.every((r) => !r.initial))).toBe(true);
    // The sender's own sync returns its events too (remote echoes).
    await waitFor("alice's own echoes", () =>
      sent.every((id) => timelineOf(alice, plainRoom).some((e) => e.eventId === id)),
    );
  });

  it("Megolm-encrypts room events in an encrypted room; the receiver's batches hold them decrypted, in order", async () => {
    expect(alice.port.getRoom(encryptedRoom)?.encrypted).toBe(true);
    const marker = `secret-${Date.now()}`;
    const sent: string[] = [];
    for (let seq = 0; seq < 3; seq++) {
      sent.push((await alice.port.sendRoomEvent(encryptedRoom, "org.example.ping", { seq, marker })).eventId);
    }
    const received = await waitFor("bob to receive 3 encrypted pings", () => {
      const pings = timelineOf(bob, encryptedRoom).filter((e) => e.type === "org.example.ping");
      return pings.length >= 3 ? pings : undefined;
    });
    expect(received.map((e) => [e.eventId, e.content.seq, e.content.marker])).toEqual(
      sent.map((id, seq) => [id, seq, marker]),
    );
    expect(timelineOf(bob, encryptedRoom).some((e) => e.type === "m.room.encrypted")).toBe(false);

    // On the wire: m.room.encrypted with a Megolm ciphertext, never the cleartext type or content.
    const sends = proxy.find("PUT", new RegExp(`/rooms/${encodeURIComponent(encryptedRoom)}/send/`));
    expect(sends.length).toBeGreaterThanOrEqual(3);
    for (const request of sends) {
      expect(request.path).toContain("/send/m.room.encrypted/");
      const body = JSON.parse(request.body) as Record<string, unknown>;
      expect(body.algorithm).toBe("m.megolm.v1.aes-sha2");
      expect(typeof body.ciphertext).toBe("string");
      expect(request.body).not.toContain(marker);
      expect(request.body).not.toContain("org.example.ping");
    }
  });

  it("finds relations (also in the encrypted room) and redacts with extra content fields", async () => {
    for (const roomId of [plainRoom, encryptedRoom]) {
      const target = await alice.port.sendRoomEvent(roomId, "org.example.target", { body: "react to me" });
      const relation = { rel_type: "m.reference", event_id: target.eventId };
      const reaction = await bob.port.sendRoomEvent(roomId, "com.famedly.call.member.reaction", {
        key: "🖐️",
        "m.relates_to": relation,
      });
      await bob.port.sendRoomEvent(roomId, "org.example.other", { "m.relates_to": relation });

      const relations = await waitFor("the reaction to be related", async () => {
        const list = await alice.port.getRelations(
          roomId,
          target.eventId,
          "m.reference",
          "com.famedly.call.member.reaction",
        );
        return list.length > 0 ? list : undefined;
      });
      expect(relations).toEqual([
        expect.objectContaining({
          eventId: reaction.eventId,
          sender: bob.user.userId,
          type: "com.famedly.call.member.reaction",
        }),
      ]);
      expect(relations[0]?.content.key).toBe("🖐️");

      const extra = {
        reason: "lowered",
        device_id: bob.deviceId,
        call_id: "call-1",
        redacts_type: "com.famedly.call.member.reaction",
      };
      const redaction = await bob.port.redactEvent(roomId, reaction.eventId, extra);
      const seen = await waitFor("alice to receive the redaction", () =>
        timelineOf(alice, roomId).find((e) => e.eventId === redaction.eventId),
      );
      expect(seen).toMatchObject({
        type: "m.room.redaction",
        redacts: reaction.eventId,
        sender: bob.user.userId,
        content: extra,
      });
      await waitFor(
        "the redacted reaction to leave the relations",
        async () =>
          (
            await alice.port.getRelations(
              roomId,
              target.eventId,
              "m.reference",
              "com.famedly.call.member.reaction",
            )
          ).length === 0,
      );
    }
  });

  it("marks the rooms of a new client's first sync as initial, with the current state", async () => {
    const late = await startClient(aliceUser);
    clients.push(late);
    const initial = await waitFor("the initial batch", () => late.batches[0]);
    const rooms = initial.rooms;
    expect(rooms.map((r) => r.roomId).sort()).toEqual([plainRoom, encryptedRoom].sort());
    expect(rooms.every((r) => r.initial)).toBe(true);
    const member = rooms.find((r) => r.roomId === plainRoom)?.state.find((e) => e.type === CALL_MEMBER_TYPE);
    expect(member).toMatchObject({ stateKey: bob.user.userId, sender: bob.user.userId });
    expect(late.port.getJoinedRoomIds().sort()).toEqual([plainRoom, encryptedRoom].sort());
    // History from before this device existed cannot be decrypted: it is dropped, never delivered encrypted.
    const history = rooms.find((r) => r.roomId === encryptedRoom)?.timeline ?? [];
    expect(history.some((e) => e.type === "m.room.encrypted")).toBe(false);
  });
});
