// MSC4140 delayed leave (reference §6.10, §10.1 11d–11e; PROTOCOL G4) over LocalHomeserver's delayed events.
import { afterEach, describe, expect, it } from "vitest";
import { GroupCallState, MeshBackend, type GroupCallEvents } from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { captureEvents } from "../../src/testing/index.js";
import { groupWorld, memberContent, type GroupWorld } from "../helpers/group.js";

let world: GroupWorld;
afterEach(async () => {
  await world.dispose();
});

const MEMBER = GroupEventType.Member;

async function entered(options: Parameters<typeof groupWorld>[0] = {}) {
  world = groupWorld(options);
  const alice = world.peer("@alice:local", "ALICE");
  const roomId = await world.hs.createRoom({ creator: alice.userId });
  const group = await alice.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
  return { alice, roomId, group };
}

describe("delayed leave", () => {
  it("asks the server once, schedules the leave before sending the membership", async () => {
    const { alice, group } = await entered();
    // Asked when the group call is fetched, so that entering does not wait for the answer.
    expect(alice.requests.at(-1)).toBe("getServerFeatures");
    await group.enter();
    expect(alice.requests).toEqual([
      "sendStateEvent m.room.power_levels ", // fetchOrCreateGroupCall lets every member join
      "getServerFeatures",
      "listDelayedEvents",
      `sendStateEvent ${MEMBER} ${alice.userId} delayed`,
      `sendStateEvent ${MEMBER} ${alice.userId}`,
      "sendRoomEvent org.matrix.msc4075.rtc.notification",
    ]);
    const [scheduled] = await alice.client.listDelayedEvents();
    expect(scheduled).toMatchObject({
      type: MEMBER,
      stateKey: alice.userId,
      delayMs: 18_000,
      content: { memberships: [] },
    });
  });

  it("restarts it every 4 s, so the server never publishes it while we live", async () => {
    const { alice, roomId, group } = await entered();
    await group.enter();
    await world.settle();
    const [before] = await alice.client.listDelayedEvents();
    for (let i = 0; i < 10; i++) {
      await world.advance(4_000);
    }
    expect(alice.requests.filter((r) => r === "updateDelayedEvent restart")).toHaveLength(10);
    const [after] = await alice.client.listDelayedEvents();
    expect(after?.delayId).toBe(before?.delayId);
    expect(after?.runningSince).toBe(world.clock.now());
    expect(
      (memberContent(world.hs, roomId, alice.userId) as { memberships: unknown[] }).memberships,
    ).toHaveLength(1);
  });

  it("cancels stale delayed leaves of ours for this key, paging through the whole list", async () => {
    const { alice, roomId, group } = await entered({ delayedEventsPageSize: 2 });
    for (let i = 0; i < 5; i++) {
      await alice.client.sendStateEvent(
        roomId,
        MEMBER,
        alice.userId,
        { memberships: [], stale: i },
        { delayMs: 60_000 },
      );
    }
    await alice.client.sendStateEvent(roomId, "m.other", alice.userId, { keep: true }, { delayMs: 60_000 });
    await group.enter();
    const left = await alice.client.listDelayedEvents();
    expect(left.map((e) => [e.type, e.content])).toEqual([
      ["m.other", { keep: true }],
      [MEMBER, { memberships: [] }],
    ]);
    expect(alice.requests.filter((r) => r === "updateDelayedEvent cancel")).toHaveLength(5);
  });

  it("cancels it on leave", async () => {
    const { alice, group } = await entered();
    await group.enter();
    expect(world.hs.pendingDelayedEvents).toBe(1);
    await group.leave();
    expect(world.hs.pendingDelayedEvents).toBe(0);
    expect(alice.requests.slice(-2)).toEqual([
      `sendStateEvent ${MEMBER} ${alice.userId}`,
      "updateDelayedEvent cancel",
    ]);
    await world.advance(60_000);
    expect(alice.requests.filter((r) => r === "updateDelayedEvent restart")).toHaveLength(0);
  });

  it("publishes the membership again when the server published our leave while we are still in the call", async () => {
    const { alice, roomId, group } = await entered();
    await group.enter();
    await world.settle();
    const left = captureEvents<GroupCallEvents>(group, ["participantsLeft"]);
    const [ours] = await alice.client.listDelayedEvents();
    await alice.client.updateDelayedEvent(ours?.delayId ?? "", "send");
    await world.settle();
    const content = memberContent(world.hs, roomId, alice.userId) as { memberships: { device_id: string }[] };
    expect(content.memberships.map((m) => m.device_id)).toEqual(["ALICE"]);
    expect(group.state).toBe(GroupCallState.Entered);
    expect(left.events).toEqual([]);
    const [next] = await alice.client.listDelayedEvents();
    expect(next?.delayId).toEqual(expect.any(String));
    expect(next?.delayId).not.toBe(ours?.delayId);
    await world.advance(4_000);
    expect(alice.requests.at(-1)).toBe("updateDelayedEvent restart");
  });

  it("stops the heartbeat when the delayed event is gone (M_NOT_FOUND, §10.1 11e)", async () => {
    const { alice, group } = await entered();
    await group.enter();
    const [ours] = await alice.client.listDelayedEvents();
    await alice.client.updateDelayedEvent(ours?.delayId ?? "", "cancel");
    const restarts = (): number => alice.requests.filter((r) => r === "updateDelayedEvent restart").length;
    await world.advance(4_000);
    expect(restarts()).toBe(1);
    await world.advance(40_000);
    expect(restarts()).toBe(1);
    expect(alice.logs).toContain("info delayed leave is gone from the server; heartbeat stopped");
    expect(group.state).toBe(GroupCallState.Entered);
  });

  it("without server support: explicit leave only, logged once", async () => {
    const { alice, roomId, group } = await entered({ delayedEvents: false });
    const second = await alice.voip.fetchOrCreateGroupCall("second", roomId, new MeshBackend());
    await group.enter();
    await second.enter();
    expect(alice.requests.filter((r) => r.includes("delayed") || r.includes("DelayedEvent"))).toEqual([]);
    expect(alice.logs.filter((l) => l.includes("MSC4140"))).toEqual([
      "info the server has no MSC4140 delayed events: leaving a group call is explicit only",
    ]);
    await group.leave();
    await second.leave();
    await world.settle();
    expect(memberContent(world.hs, roomId, alice.userId)).toEqual({ memberships: [] });
  });

  it("leaving forgets the delayed leave even when the server no longer has it (§10.1 11d)", async () => {
    const { alice, roomId, group } = await entered();
    await group.enter();
    const [ours] = await alice.client.listDelayedEvents();
    await alice.client.updateDelayedEvent(ours?.delayId ?? "", "cancel");
    await group.leave();
    expect(group.state).toBe(GroupCallState.Ended);
    expect(alice.requests.filter((r) => r === "updateDelayedEvent cancel")).toHaveLength(2);
    await world.advance(60_000);
    expect(alice.requests.filter((r) => r === "updateDelayedEvent restart")).toHaveLength(0);
    expect(alice.logs.filter((l) => l.startsWith("warn") || l.startsWith("error"))).toEqual([]);
    expect(memberContent(world.hs, roomId, alice.userId)).toEqual({ memberships: [] });
    expect(world.clock.pendingTimers()).toBe(0);
  });
});
