// Reactions (reference §3.5, §8.1, §10.4 adapted to our API) over LocalHomeserver.
import { afterEach, describe, expect, it } from "vitest";
import {
  MeshBackend,
  VoipErrorCode,
  type GroupCallEvents,
  type GroupCallSession,
  type MatrixClientPort,
} from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { captureEvents } from "../../src/testing/index.js";
import { famedlyEntry, groupWorld, type GroupPeer, type GroupWorld } from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const SIX_MIN = 6 * 60_000;
const REACTION = GroupEventType.Reaction;

interface Setup {
  alice: GroupPeer;
  bob: MatrixClientPort;
  roomId: string;
  group: GroupCallSession;
  bobMembership: string;
  publishMember: (client: MatrixClientPort, callId?: string, application?: string) => Promise<string>;
}

async function setup(callId?: string, application?: string): Promise<Setup> {
  world = groupWorld();
  const alice = world.peer("@alice:local", "ALICE");
  const bob = world.hs.createClient("@bob:local", "BOB");
  const roomId = await world.hs.createRoom({
    creator: alice.userId,
    members: [bob.userId, "@carol:local"],
    powerLevels: { events: { [GroupEventType.Member]: 0 } },
  });
  const publishMember = async (
    client: MatrixClientPort,
    id = callId ?? roomId,
    app?: string,
  ): Promise<string> => {
    const { eventId } = await client.sendStateEvent(roomId, GroupEventType.Member, client.userId, {
      memberships: [
        famedlyEntry({
          callId: id,
          deviceId: client.deviceId,
          expiresTs: world.clock.now() + SIX_MIN,
          ...(app === undefined ? {} : { application: app }),
        }),
      ],
    });
    await world.settle();
    return eventId ?? "";
  };
  const bobMembership = await publishMember(bob, callId ?? roomId, application);
  const group = await alice.voip.fetchOrCreateGroupCall(
    callId ?? roomId,
    roomId,
    new MeshBackend(),
    application,
  );
  await group.enter();
  await world.settle();
  return { alice, bob, roomId, group, bobMembership, publishMember };
}

function reaction(
  key: string,
  ephemeral: boolean,
  callId: string,
  deviceId: string,
  membershipEventId: string,
) {
  return {
    key,
    is_ephemeral: ephemeral,
    call_id: callId,
    device_id: deviceId,
    "m.relates_to": { rel_type: "m.reference", event_id: membershipEventId },
  };
}

function redaction(callId: string, deviceId: string, scope?: string) {
  return {
    device_id: deviceId,
    call_id: callId,
    redacts_type: REACTION,
    reason: "lowered hand",
    ...(scope === undefined ? {} : { scope }),
  };
}

describe("reactions", () => {
  it("receives a hand raise and its removal by redaction (§10.4 items 1, 2)", async () => {
    const { bob, roomId, group, bobMembership } = await setup();
    const events = captureEvents<GroupCallEvents>(group, ["reactionAdded", "reactionRemoved"]);
    const { eventId } = await bob.sendRoomEvent(
      roomId,
      REACTION,
      reaction("🖐️", true, roomId, "BOB", bobMembership),
    );
    await world.settle();
    await bob.redactEvent(roomId, eventId, redaction(roomId, "BOB"));
    await world.settle();
    expect(events.events.map((e) => [e.event, e.args[0]])).toEqual([
      [
        "reactionAdded",
        {
          participant: expect.objectContaining({ id: "@bob:local:BOB", isLocal: false }) as unknown,
          key: "🖐️",
          eventId,
          membershipEventId: bobMembership,
          ephemeral: true,
        },
      ],
      [
        "reactionRemoved",
        {
          participant: expect.objectContaining({ id: "@bob:local:BOB" }) as unknown,
          redactedEventId: eventId,
        },
      ],
    ]);
  });

  it("reactions of a 1:1 MatrixRTC call (call_id '', application m.call.video) reach the session (§10.4 item 3)", async () => {
    const { bob, roomId, group, bobMembership } = await setup("", "m.call.video");
    const events = captureEvents<GroupCallEvents>(group, ["reactionAdded", "reactionRemoved"]);
    const { eventId } = await bob.sendRoomEvent(
      roomId,
      REACTION,
      reaction("👍", false, "", "BOB", bobMembership),
    );
    await world.settle();
    await bob.redactEvent(roomId, eventId, redaction("", "BOB", "m.room"));
    await world.settle();
    expect(events.events.map((e) => e.event)).toEqual(["reactionAdded", "reactionRemoved"]);
    expect(events.of("reactionAdded")[0]?.[0]).toMatchObject({ key: "👍", ephemeral: false });
  });

  it("several participants, several keys, in order; our own reactions too (§10.4 items 4, 5, 10, 11)", async () => {
    const { bob, roomId, group, bobMembership, publishMember } = await setup();
    const carol = world.hs.createClient("@carol:local", "CAROL");
    const carolMembership = await publishMember(carol);
    const events = captureEvents<GroupCallEvents>(group, ["reactionAdded"]);
    await bob.sendRoomEvent(roomId, REACTION, reaction("👍", true, roomId, "BOB", bobMembership));
    await carol.sendRoomEvent(roomId, REACTION, reaction("👏", true, roomId, "CAROL", carolMembership));
    await bob.sendRoomEvent(roomId, REACTION, reaction("❤️", false, roomId, "BOB", bobMembership));
    const own = await group.sendReaction("🖐️");
    await world.settle();
    expect(events.of("reactionAdded").map(([r]) => [r.participant.id, r.key, r.ephemeral])).toEqual([
      ["@bob:local:BOB", "👍", true],
      ["@carol:local:CAROL", "👏", true],
      ["@bob:local:BOB", "❤️", false],
      ["@alice:local:ALICE", "🖐️", true],
    ]);
    expect(events.of("reactionAdded")[3]?.[0]).toMatchObject({
      eventId: own,
      membershipEventId: group.membershipEventId,
    });
    expect(events.of("reactionAdded")[3]?.[0].participant.isLocal).toBe(true);
  });

  it("sends the reaction and its removal with the exact wire content (§10.4 item 6)", async () => {
    const { alice, roomId, group } = await setup();
    const eventId = await group.sendReaction("🖐️");
    await group.removeReaction(eventId);
    await world.settle();
    // No MSC4075 notification: bob's membership means the call was already running.
    const sent = world.hs.transcript().filter((e) => e.sender === alice.userId && e.kind === "room");
    expect(sent.map((e) => [e.type, e.content])).toEqual([
      [REACTION, reaction("🖐️", true, roomId, "ALICE", group.membershipEventId ?? "")],
      ["m.room.redaction", { device_id: "ALICE", call_id: roomId, scope: "m.room", redacts_type: REACTION }],
    ]);
  });

  it("ignores invalid reactions and reactions on an old membership event (§10.4 item 8)", async () => {
    const { bob, roomId, group, bobMembership, publishMember } = await setup();
    const events = captureEvents<GroupCallEvents>(group, ["reactionAdded"]);
    const valid = reaction("👍", true, roomId, "BOB", bobMembership);
    const without = (field: string): Record<string, unknown> =>
      Object.fromEntries(Object.entries(valid).filter(([key]) => key !== field));
    const [noRelation, noKey, noDevice] = [without("m.relates_to"), without("key"), without("device_id")];
    for (const content of [
      noRelation,
      noKey,
      noDevice,
      { ...valid, is_ephemeral: "yes" },
      { ...valid, call_id: "other" },
    ]) {
      await bob.sendRoomEvent(roomId, REACTION, content);
    }
    await publishMember(bob); // a new membership event: reactions on the old one no longer count
    await bob.sendRoomEvent(roomId, REACTION, valid);
    await world.settle();
    expect(events.events).toEqual([]);
  });

  it("ignores invalid redactions (§10.4 item 9)", async () => {
    const { bob, roomId, group, bobMembership } = await setup();
    const { eventId } = await bob.sendRoomEvent(
      roomId,
      REACTION,
      reaction("👍", true, roomId, "BOB", bobMembership),
    );
    const events = captureEvents<GroupCallEvents>(group, ["reactionRemoved"]);
    await bob.sendRoomEvent(roomId, "m.room.redaction", redaction(roomId, "BOB")); // no redacts anywhere
    await bob.redactEvent(roomId, eventId, {});
    await bob.redactEvent(roomId, eventId, redaction(roomId, "BOB", "m.user"));
    await bob.redactEvent(roomId, eventId, { ...redaction(roomId, "BOB"), redacts_type: "m.reaction" });
    await world.settle();
    expect(events.events).toEqual([]);
  });

  it("drops ephemeral reactions older than 2 s; old permanent ones still count (§10.4 item 12)", async () => {
    const { roomId, group, bobMembership } = await setup();
    const events = captureEvents<GroupCallEvents>(group, ["reactionAdded"]);
    const now = world.clock.now();
    const at = (eventId: string, ts: number) => ({
      eventId,
      roomId,
      type: REACTION,
      sender: "@bob:local",
      originServerTs: ts,
    });
    const old = now - 10 * 60_000;
    group.handleReaction(
      { ...at("$old", old), content: {} },
      reaction("🖐️", true, roomId, "BOB", bobMembership),
    );
    group.handleReaction(
      { ...at("$new", now - 500), content: {} },
      reaction("👍", true, roomId, "BOB", bobMembership),
    );
    group.handleReaction(
      { ...at("$perm", old), content: {} },
      reaction("❤️", false, roomId, "BOB", bobMembership),
    );
    expect(events.of("reactionAdded").map(([r]) => r.key)).toEqual(["👍", "❤️"]);
  });

  it("throttles ephemeral reactions (more than 10 in flight), decaying one per second (§10.4 item 13)", async () => {
    const { group } = await setup();
    for (let i = 0; i < 11; i++) {
      await group.sendReaction(`e${i}`);
    }
    await expect(group.sendReaction("one too many")).rejects.toMatchObject({
      code: VoipErrorCode.InvalidState,
    });
    await expect(group.sendReaction("👍", { ephemeral: false })).resolves.toEqual(expect.any(String));
    await world.advance(2_000);
    await expect(group.sendReaction("again")).resolves.toEqual(expect.any(String));
  });

  it("needs our membership: before enter() sendReaction is invalid_state", async () => {
    world = groupWorld();
    const alice = world.peer("@alice:local", "ALICE");
    const roomId = await world.hs.createRoom({ creator: alice.userId });
    const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await expect(group.sendReaction("🖐️")).rejects.toMatchObject({ code: VoipErrorCode.InvalidState });
  });

  it("carries permanent reactions over when our membership is re-sent; ephemeral and removed ones stay behind", async () => {
    const { alice, roomId, group } = await setup();
    await group.sendReaction("👍", { ephemeral: false });
    const removed = await group.sendReaction("❤️", { ephemeral: false });
    await group.sendReaction("🖐️");
    await group.removeReaction(removed);
    await world.settle();
    const first = group.membershipEventId;
    await world.advance(2 * 60_000);
    const second = group.membershipEventId;
    expect(second).not.toBe(first);
    const reactions = world.hs
      .transcript()
      .filter((e) => e.sender === alice.userId && e.type === REACTION)
      .map((e) => e.content);
    expect(reactions.slice(3)).toEqual([reaction("👍", false, roomId, "ALICE", second ?? "")]);
  });
});
