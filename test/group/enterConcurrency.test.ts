// What enter() does while local media is acquired (a camera can take seconds): the TURN credentials and the MSC4140
// delayed leave (with the features check) are fetched meanwhile; the membership goes out once both are through.
// Over LocalHomeserver on a manual clock, with getUserMedia held open by hand.
import { afterEach, describe, expect, it } from "vitest";
import {
  GroupCallState,
  MeshBackend,
  VoipError,
  VoipErrorCode,
  type MatrixClientPort,
} from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import {
  groupWorld,
  memberContent,
  publishedMeshEntry,
  type GroupPeer,
  type GroupWorld,
} from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const MEMBER = GroupEventType.Member;
const SIX_MIN = 6 * 60_000;

/**
 * Holds `getUserMedia` of `peer` until `release()` (then it answers) or `fail()` (then every call rejects);
 * `restore()` puts the delegate's own back.
 */
function holdMedia(peer: GroupPeer): {
  asked: Promise<void>;
  /** The streams handed out after release. */
  streams: MediaStream[];
  release: () => void;
  fail: () => void;
  restore: () => void;
} {
  const devices = peer.delegate.mediaDevices as {
    getUserMedia: (c?: MediaStreamConstraints) => Promise<MediaStream>;
  };
  const original = devices.getUserMedia.bind(devices);
  let ask!: () => void;
  let decide!: (ok: boolean) => void;
  const asked = new Promise<void>((resolve) => (ask = resolve));
  const decided = new Promise<boolean>((resolve) => (decide = resolve));
  const streams: MediaStream[] = [];
  devices.getUserMedia = async (constraints) => {
    ask();
    if (!(await decided)) {
      throw new DOMException("Permission denied", "NotAllowedError");
    }
    const stream = await original(constraints);
    streams.push(stream);
    return stream;
  };
  return {
    asked,
    streams,
    release: () => {
      decide(true);
    },
    fail: () => {
      decide(false);
    },
    restore: () => {
      devices.getUserMedia = original;
    },
  };
}

/** Our delayed events on the server (`listDelayedEvents`), without recording that request among the library's. */
async function delayedOnServer(
  peer: GroupPeer,
): Promise<Awaited<ReturnType<MatrixClientPort["listDelayedEvents"]>>> {
  const recorded = peer.requests.length;
  const scheduled = await peer.client.listDelayedEvents();
  peer.requests.splice(recorded);
  return scheduled;
}

async function aliceInRoom(
  options: Parameters<typeof groupWorld>[0] = {},
  beforeGroup: (alice: ReturnType<GroupWorld["peer"]>) => void = () => undefined,
) {
  world = groupWorld(options);
  world.hs.setTurnServers({
    uris: ["turn:127.0.0.1:3478?transport=udp"],
    username: "u",
    password: "p",
    ttl: 86_400,
  });
  const alice = world.peer("@alice:local", "ALICE");
  const roomId = await world.hs.createRoom({ creator: alice.userId });
  beforeGroup(alice);
  const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
  return { alice, roomId, group, media: holdMedia(alice) };
}

describe("enter() while local media is acquired", () => {
  it("schedules the delayed leave and fetches TURN meanwhile; publishes the membership only after media and delayed leave", async () => {
    const { alice, roomId, group, media } = await aliceInRoom();
    const entering = group.enter();
    await media.asked;
    await world.settle();

    expect(group.state).toBe(GroupCallState.InitializingLocalCallFeed);
    expect(alice.requests).toEqual([
      "sendStateEvent m.room.power_levels ", // fetchOrCreateGroupCall lets every member join
      "getServerFeatures",
      "listDelayedEvents",
      `sendStateEvent ${MEMBER} ${alice.userId} delayed`,
    ]);
    expect(await delayedOnServer(alice)).toEqual([
      expect.objectContaining({ type: MEMBER, stateKey: alice.userId, content: { memberships: [] } }),
    ]);
    expect(world.hs.stats.turnRequests).toBe(1);
    expect(memberContent(world.hs, roomId, alice.userId)).toBeUndefined();

    media.release();
    await entering;
    await world.settle();
    expect(group.state).toBe(GroupCallState.Entered);
    expect(alice.requests.slice(3)).toEqual([
      `sendStateEvent ${MEMBER} ${alice.userId} delayed`,
      `sendStateEvent ${MEMBER} ${alice.userId}`,
      "sendRoomEvent org.matrix.msc4075.rtc.notification",
    ]);
    expect(memberContent(world.hs, roomId, alice.userId)).toEqual({
      memberships: [
        publishedMeshEntry({
          callId: roomId,
          deviceId: "ALICE",
          expiresTs: world.clock.now() + SIX_MIN,
          membershipId: alice.voip.sessionId,
        }),
      ],
    });
    expect(world.hs.pendingDelayedEvents).toBe(1);
    expect(world.hs.stats.turnRequests).toBe(1);
  });

  it("under a shared state key the delayed leave keeps the other devices' entries, as they were when it was scheduled", async () => {
    const { alice, roomId, group, media } = await aliceInRoom();
    const other = {
      call_id: roomId,
      application: "m.call",
      scope: "m.room",
      foci_active: [{ type: "mesh" }],
      device_id: "PHONE",
      expires_ts: world.clock.now() + SIX_MIN,
      membershipID: "phone-session",
    };
    const phone = world.hs.createClient(alice.userId, "PHONE");
    await phone.sendStateEvent(roomId, MEMBER, alice.userId, { memberships: [other] });
    await world.settle();
    const entering = group.enter();
    await media.asked;
    await world.settle();
    expect(await delayedOnServer(alice)).toEqual([
      expect.objectContaining({ stateKey: alice.userId, content: { memberships: [other] } }),
    ]);
    media.release();
    await entering;
    const content = memberContent(world.hs, roomId, alice.userId) as { memberships: { device_id: string }[] };
    expect(content.memberships.map((m) => m.device_id)).toEqual(["PHONE", "ALICE"]);
  });

  it("media refused after the delayed leave was scheduled: no membership, the delayed leave cancelled, enter() rejects", async () => {
    const { alice, roomId, group, media } = await aliceInRoom();
    const entering = group.enter();
    await media.asked;
    await world.settle();
    expect(world.hs.pendingDelayedEvents).toBe(1);
    media.fail();
    const error = await entering.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(VoipError);
    expect((error as VoipError).code).toBe(VoipErrorCode.UserMediaFailed);
    expect(group.state).toBe(GroupCallState.LocalCallFeedUninitialized);
    expect(await delayedOnServer(alice)).toEqual([]);
    expect(world.hs.pendingDelayedEvents).toBe(0);
    expect(alice.requests.slice(1)).toEqual([
      "getServerFeatures",
      "listDelayedEvents",
      `sendStateEvent ${MEMBER} ${alice.userId} delayed`,
      "updateDelayedEvent cancel",
    ]);
    expect(memberContent(world.hs, roomId, alice.userId)).toBeUndefined();
    // No heartbeat left behind either.
    await world.advance(60_000);
    expect(alice.requests.filter((r) => r.startsWith("updateDelayedEvent restart"))).toEqual([]);
    expect(world.hs.transcript().filter((e) => e.type === MEMBER)).toEqual([]);
  });

  it("media refused at once, before the delayed leave is through: it is cancelled once it is scheduled", async () => {
    const { alice, roomId, group, media } = await aliceInRoom();
    media.fail();
    await expect(group.enter()).rejects.toMatchObject({ code: VoipErrorCode.UserMediaFailed });
    expect(alice.requests.slice(1)).toEqual([
      "getServerFeatures",
      "listDelayedEvents",
      `sendStateEvent ${MEMBER} ${alice.userId} delayed`,
      "updateDelayedEvent cancel",
    ]);
    expect(await delayedOnServer(alice)).toEqual([]);
    expect(memberContent(world.hs, roomId, alice.userId)).toBeUndefined();
  });

  it("entering again after refused media schedules one new delayed leave and publishes", async () => {
    const { alice, roomId, group, media } = await aliceInRoom();
    media.fail();
    await expect(group.enter()).rejects.toMatchObject({ code: VoipErrorCode.UserMediaFailed });
    media.restore();
    await group.enter();
    expect(group.state).toBe(GroupCallState.Entered);
    expect(await delayedOnServer(alice)).toHaveLength(1);
    expect(alice.requests.slice(5)).toEqual([
      "listDelayedEvents",
      `sendStateEvent ${MEMBER} ${alice.userId} delayed`,
      `sendStateEvent ${MEMBER} ${alice.userId}`,
      "sendRoomEvent org.matrix.msc4075.rtc.notification",
    ]);
    expect(memberContent(world.hs, roomId, alice.userId)).toMatchObject({
      memberships: [{ device_id: "ALICE", feeds: [{ purpose: "m.usermedia" }] }],
    });
  });

  it("leave() while media is acquired: enter() rejects, nothing published, no delayed leave left, media stopped", async () => {
    const { alice, roomId, group, media } = await aliceInRoom();
    const entering = group.enter();
    await media.asked;
    await world.settle();
    await group.leave();
    expect(group.state).toBe(GroupCallState.Ended);
    media.release();
    await expect(entering).rejects.toMatchObject({ code: VoipErrorCode.InvalidState });
    await world.settle();
    // The camera and microphone that arrived after we left are released at once.
    expect(media.streams).toHaveLength(1);
    expect(media.streams.flatMap((s) => s.getTracks()).map((t) => t.readyState)).toEqual(
      media.streams[0]!.getTracks().map(() => "ended"),
    );
    expect(group.state).toBe(GroupCallState.Ended);
    expect(await delayedOnServer(alice)).toEqual([]);
    expect(memberContent(world.hs, roomId, alice.userId)).toBeUndefined();
    expect(alice.requests.at(-1)).toBe("updateDelayedEvent cancel");
    await world.advance(10 * 60_000);
    expect(alice.requests.filter((r) => r.startsWith("sendStateEvent"))).toEqual([
      "sendStateEvent m.room.power_levels ",
      `sendStateEvent ${MEMBER} ${alice.userId} delayed`,
    ]);
  });

  it("without server support for delayed events: features asked meanwhile, then the membership, as before", async () => {
    const { alice, roomId, group, media } = await aliceInRoom({ delayedEvents: false });
    const entering = group.enter();
    await media.asked;
    await world.settle();
    expect(alice.requests.slice(1)).toEqual(["getServerFeatures"]);
    expect(world.hs.stats.turnRequests).toBe(1);
    media.release();
    await entering;
    expect(alice.requests.slice(1)).toEqual([
      "getServerFeatures",
      `sendStateEvent ${MEMBER} ${alice.userId}`,
      "sendRoomEvent org.matrix.msc4075.rtc.notification",
    ]);
    expect(memberContent(world.hs, roomId, alice.userId)).toMatchObject({
      memberships: [{ device_id: "ALICE", feeds: [{ purpose: "m.usermedia" }] }],
    });
    expect(alice.logs).toContain(
      "info the server has no MSC4140 delayed events: leaving a group call is explicit only",
    );
  });

  it("a failed schedule is logged and entering goes on without a delayed leave, trying no second time", async () => {
    // A server that says it has MSC4140 but refuses to schedule (M_FORBIDDEN, as Synapse when it is disabled).
    const { alice, roomId, group, media } = await aliceInRoom({ delayedEvents: false }, (peer) => {
      peer.client.getServerFeatures = () => Promise.resolve({ delayedEvents: true });
    });
    const entering = group.enter();
    await media.asked;
    await world.settle();
    media.release();
    await entering;
    expect(group.state).toBe(GroupCallState.Entered);
    expect(alice.logs).toContain("warn scheduling the delayed leave failed; leaving will be explicit only");
    expect(alice.requests.slice(1)).toEqual([
      "getServerFeatures",
      "listDelayedEvents",
      `sendStateEvent ${MEMBER} ${alice.userId} delayed`,
      `sendStateEvent ${MEMBER} ${alice.userId}`,
      "sendRoomEvent org.matrix.msc4075.rtc.notification",
    ]);
    expect(memberContent(world.hs, roomId, alice.userId)).toMatchObject({
      memberships: [{ device_id: "ALICE" }],
    });
  });
});
