import { afterEach, describe, expect, it } from "vitest";
import { MatrixPortError } from "../core/errors.js";
import { LocalHomeserver } from "./LocalHomeserver.js";
import { ManualClock } from "./ManualClock.js";

const ALICE = "@alice:local";
const BOB = "@bob:local";
const CAROL = "@carol:local";

let hs: LocalHomeserver;
afterEach(async () => {
  await hs.close();
});

async function rejection(promise: Promise<unknown>): Promise<MatrixPortError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(MatrixPortError);
  return error as MatrixPortError;
}

describe("LocalHomeserver rooms", () => {
  it("creates rooms with every member joined and Synapse's default power levels", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    expect(roomId).toMatch(/^!.+:local$/);
    for (const client of [alice, bob]) {
      expect(client.getJoinedRoomIds()).toEqual([roomId]);
      const info = client.getRoom(roomId);
      expect(info).toMatchObject({
        roomId,
        encrypted: false,
        isDirect: false,
        roomVersion: "10",
        myMembership: "join",
        joinedMembers: [ALICE, BOB],
      });
      expect(info?.powerLevels).toMatchObject({
        users: { [ALICE]: 100 },
        users_default: 0,
        events_default: 0,
        state_default: 50,
      });
    }
    expect(hs.createClient(CAROL, "CAROL").getRoom(roomId)).toBeUndefined();
  });

  it("honours encrypted, isDirect, roomVersion and merges a power-level override", async () => {
    hs = new LocalHomeserver({ serverName: "example.org" });
    const alice = hs.createClient(ALICE, "ALICE");
    const roomId = await hs.createRoom({
      creator: ALICE,
      members: [BOB],
      encrypted: true,
      isDirect: true,
      roomVersion: "org.matrix.msc3757.10",
      powerLevels: { events: { "com.famedly.call.member": 0 }, users: { [BOB]: 50 } },
    });
    expect(roomId.endsWith(":example.org")).toBe(true);
    const info = alice.getRoom(roomId);
    expect(info).toMatchObject({ encrypted: true, isDirect: true, roomVersion: "org.matrix.msc3757.10" });
    expect(info?.powerLevels).toMatchObject({
      users: { [ALICE]: 100, [BOB]: 50 },
      events: { "com.famedly.call.member": 0, "m.room.power_levels": 100, "m.room.encryption": 100 },
    });
    const types = hs.getRoomState(roomId).map((e) => e.type);
    expect(types).toContain("m.room.encryption");
    expect(types).toContain("m.room.create");
  });

  it("checks power levels for state events: required = events[type] ?? state_default", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({
      creator: ALICE,
      members: [BOB],
      powerLevels: { events: { "org.example.open": 0 } },
    });
    const denied = await rejection(
      bob.sendStateEvent(roomId, "com.famedly.call.member", BOB, { memberships: [] }),
    );
    expect(denied).toMatchObject({ errcode: "M_FORBIDDEN", httpStatus: 403 });
    expect(denied.message).toContain("user_level (0) < send_level (50)");
    await expect(bob.sendStateEvent(roomId, "org.example.open", BOB, { ok: true })).resolves.toHaveProperty(
      "eventId",
    );
    await expect(alice.sendStateEvent(roomId, "com.famedly.call.member", ALICE, {})).resolves.toHaveProperty(
      "eventId",
    );
    const state = hs.getRoomState(roomId);
    expect(state.find((e) => e.type === "org.example.open")).toMatchObject({
      sender: BOB,
      stateKey: BOB,
      content: { ok: true },
    });
    expect(state.some((e) => e.type === "com.famedly.call.member" && e.stateKey === BOB)).toBe(false);
  });

  it("enforces state-key ownership, with MSC3757 owned keys in msc3757 rooms", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const open = { events: { m: 0 }, state_default: 0 };
    const v10 = await hs.createRoom({ creator: ALICE, members: [BOB], powerLevels: open });
    const msc = await hs.createRoom({
      creator: ALICE,
      members: [BOB],
      roomVersion: "org.matrix.msc3757.10",
      powerLevels: open,
    });

    // v10: exactly your own user id, or no "@" prefix at all.
    await expect(bob.sendStateEvent(v10, "m", BOB, {})).resolves.toBeDefined();
    await expect(bob.sendStateEvent(v10, "m", `_${BOB}_BOB`, {})).resolves.toBeDefined();
    expect(await rejection(bob.sendStateEvent(v10, "m", `${BOB}_BOB`, {}))).toMatchObject({
      httpStatus: 403,
    });
    expect(await rejection(bob.sendStateEvent(v10, "m", ALICE, {}))).toMatchObject({
      errcode: "M_FORBIDDEN",
    });
    // Even the room creator cannot set others' state in a v10 room.
    expect(await rejection(alice.sendStateEvent(v10, "m", BOB, {}))).toMatchObject({ httpStatus: 403 });

    // msc3757: `${sender}_${suffix}` too; someone else's key only with a higher power level.
    await expect(bob.sendStateEvent(msc, "m", `${BOB}_BOB`, {})).resolves.toBeDefined();
    expect(await rejection(bob.sendStateEvent(msc, "m", `${ALICE}_ALICE`, {}))).toMatchObject({
      httpStatus: 403,
    });
    await expect(alice.sendStateEvent(msc, "m", `${BOB}_X`, {})).resolves.toBeDefined();
    expect(await rejection(bob.sendStateEvent(msc, "m", "@nocolon_X", {}))).toMatchObject({
      errcode: "M_BAD_JSON",
    });
  });

  it("rejects sends to rooms you are not in with 403", async () => {
    hs = new LocalHomeserver();
    hs.createClient(ALICE, "ALICE");
    const carol = hs.createClient(CAROL, "CAROL");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    for (const attempt of [
      carol.sendRoomEvent(roomId, "m.call.invite", {}),
      carol.sendStateEvent(roomId, "x", "", {}),
      carol.sendRoomEvent("!unknown:local", "m.call.invite", {}),
      carol.getRelations(roomId, "$x", "m.annotation", "m.reaction"),
    ]) {
      expect(await rejection(attempt)).toMatchObject({ errcode: "M_FORBIDDEN", httpStatus: 403 });
    }
  });

  it("rejects malformed input with 400 and membership changes through state", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const roomId = await hs.createRoom({ creator: ALICE });
    expect(await rejection(alice.sendRoomEvent(roomId, "", {}))).toMatchObject({ httpStatus: 400 });
    expect(await rejection(alice.sendRoomEvent(roomId, "x", null as unknown as object))).toMatchObject({
      errcode: "M_BAD_JSON",
    });
    expect(
      await rejection(alice.sendStateEvent(roomId, "m.room.member", ALICE, { membership: "leave" })),
    ).toMatchObject({
      httpStatus: 400,
    });
    expect(() => hs.createClient(ALICE, "ALICE")).toThrow("exists already");
    expect(() => hs.createClient("alice", "X")).toThrow("Invalid user");
    await expect(hs.createRoom({ creator: "nobody" })).rejects.toThrow("Invalid user id");
  });

  it("getRoomState lists the full current state with ids and injected-clock timestamps", async () => {
    const clock = new ManualClock(1_000_000);
    hs = new LocalHomeserver({ clock });
    const alice = hs.createClient(ALICE, "ALICE");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    await clock.advance(500);
    await alice.sendStateEvent(roomId, "org.example.topic", "", { v: 1 });
    await alice.sendStateEvent(roomId, "org.example.topic", "", { v: 2 });
    const state = hs.getRoomState(roomId);
    const keys = state.map((e) => `${e.type}|${e.stateKey}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        "m.room.create|",
        `m.room.member|${ALICE}`,
        `m.room.member|${BOB}`,
        "m.room.power_levels|",
        "m.room.join_rules|",
        "org.example.topic|",
      ]),
    );
    expect(new Set(keys).size).toBe(keys.length);
    const topic = state.find((e) => e.type === "org.example.topic");
    expect(topic).toMatchObject({ content: { v: 2 }, sender: ALICE, originServerTs: 1_000_500 });
    expect(topic?.eventId).toMatch(/^\$/);
    expect(state.find((e) => e.type === "m.room.create")?.originServerTs).toBe(1_000_000);
    expect(() => hs.getRoomState("!nope:local")).toThrow("Unknown room");
  });

  it("joinRoom and leaveRoom change membership and what the clients see", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const carol = hs.createClient(CAROL, "CAROL");
    const roomId = await hs.createRoom({ creator: ALICE });
    await alice.sendRoomEvent(roomId, "m.room.message", { body: "before carol" });
    await hs.joinRoom(roomId, CAROL);
    expect(carol.getRoom(roomId)).toMatchObject({ myMembership: "join", joinedMembers: [ALICE, CAROL] });
    expect(carol.getStateEvents(roomId, "m.room.power_levels")).toHaveLength(1);
    await hs.leaveRoom(roomId, CAROL);
    expect(carol.getJoinedRoomIds()).toEqual([]);
    expect(carol.getRoom(roomId)?.myMembership).toBe("leave");
    expect(alice.getRoom(roomId)?.joinedMembers).toEqual([ALICE]);
    expect(await rejection(carol.sendRoomEvent(roomId, "m.room.message", {}))).toMatchObject({
      httpStatus: 403,
    });
  });
});

describe("LocalHomeserver redactions and relations", () => {
  it("getRelations returns matching, unredacted related events of that type", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB], encrypted: true });
    const { eventId: target } = await alice.sendRoomEvent(roomId, "m.room.message", { body: "hi" });
    const { eventId: other } = await alice.sendRoomEvent(roomId, "m.room.message", { body: "other" });
    const rel = (eventId: string, key: string): object => ({
      "m.relates_to": { rel_type: "m.annotation", event_id: eventId, key },
    });
    const { eventId: thumbs } = await bob.sendRoomEvent(
      roomId,
      "com.famedly.call.member.reaction",
      rel(target, "👍"),
    );
    await bob.sendRoomEvent(roomId, "com.famedly.call.member.reaction", rel(target, "🎉"));
    await bob.sendRoomEvent(roomId, "com.famedly.call.member.reaction", rel(other, "x"));
    await bob.sendRoomEvent(roomId, "m.reaction", rel(target, "y"));
    await bob.sendRoomEvent(roomId, "com.famedly.call.member.reaction", {
      "m.relates_to": { rel_type: "m.reference", event_id: target },
    });
    await bob.redactEvent(roomId, thumbs, { reason: "oops" });
    const related = await alice.getRelations(
      roomId,
      target,
      "m.annotation",
      "com.famedly.call.member.reaction",
    );
    expect(related.map((e) => (e.content["m.relates_to"] as { key: string }).key)).toEqual(["🎉"]);
    expect(related[0]).toMatchObject({ sender: BOB, roomId, type: "com.famedly.call.member.reaction" });
    expect(related[0]?.unsigned?.age).toBeGreaterThanOrEqual(0);
  });

  it("redactions: own events at level 0, others' events need the redact level; content is stripped", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB], powerLevels: { events: { s: 0 } } });
    const { eventId: aliceMsg } = await alice.sendRoomEvent(roomId, "m.room.message", { body: "a" });
    const { eventId: bobState } = await bob.sendStateEvent(roomId, "s", BOB, { secret: 1 });
    expect(await rejection(bob.redactEvent(roomId, aliceMsg))).toMatchObject({ httpStatus: 403 });
    const { eventId: redaction } = await alice.redactEvent(roomId, bobState!, { reason: "cleanup" });
    expect(redaction).toMatch(/^\$/);
    expect(hs.getRoomState(roomId).find((e) => e.type === "s")?.content).toEqual({});
    const entry = hs.transcript().find((e) => e.eventId === redaction);
    expect(entry).toMatchObject({
      kind: "room",
      type: "m.room.redaction",
      redacts: bobState,
      content: { reason: "cleanup" },
    });
    await hs.flush();
    expect(bob.getStateEvents(roomId, "s")[0]?.content).toEqual({});
  });
});
