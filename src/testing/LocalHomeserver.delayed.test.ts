import { afterEach, describe, expect, it } from "vitest";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";
import { LocalHomeserver } from "./LocalHomeserver.js";
import { ManualClock } from "./ManualClock.js";

const ALICE = "@alice:local";
const BOB = "@bob:local";
const MEMBER = "com.famedly.call.member";

let hs: LocalHomeserver;
let clock: ManualClock;
afterEach(async () => {
  await hs.close();
  expect(clock.pendingTimers()).toBe(0);
});

async function setup(options: { delayedEvents?: boolean } = {}): Promise<{
  alice: MatrixClientPort;
  bob: MatrixClientPort;
  roomId: string;
}> {
  clock = new ManualClock(1_000_000);
  hs = new LocalHomeserver({ clock, ...options });
  const alice = hs.createClient(ALICE, "ALICE");
  const bob = hs.createClient(BOB, "BOB");
  const roomId = await hs.createRoom({
    creator: ALICE,
    members: [BOB],
    powerLevels: { events: { [MEMBER]: 0 } },
  });
  return { alice, bob, roomId };
}

function memberState(roomId: string, stateKey: string): Record<string, unknown> | undefined {
  return hs.getRoomState(roomId).find((e) => e.type === MEMBER && e.stateKey === stateKey)?.content;
}

describe("LocalHomeserver MSC4140 delayed events", () => {
  it("publishes a delayed state event when its delay elapses on the injected clock", async () => {
    const { bob, roomId } = await setup();
    await bob.sendStateEvent(roomId, MEMBER, BOB, { memberships: [{ call_id: "" }] });
    const { delayId, eventId } = await bob.sendStateEvent(
      roomId,
      MEMBER,
      BOB,
      { memberships: [] },
      { delayMs: 10_000 },
    );
    expect(delayId).toMatch(/^syd_/);
    expect(eventId).toBeUndefined();
    await clock.advance(9_999);
    expect(memberState(roomId, BOB)).toEqual({ memberships: [{ call_id: "" }] });
    await clock.advance(1);
    expect(memberState(roomId, BOB)).toEqual({ memberships: [] });
    const entry = hs.transcript().at(-1);
    expect(entry).toMatchObject({
      kind: "state",
      type: MEMBER,
      stateKey: BOB,
      delayed: true,
      sender: BOB,
      senderDevice: "BOB",
    });
    expect(entry?.ts).toBe(1_010_000);
    expect(hs.pendingDelayedEvents).toBe(0);
    await hs.flush();
    expect(bob.getStateEvents(roomId, MEMBER)[0]?.content).toEqual({ memberships: [] });
  });

  it("restart pushes the deadline, cancel drops it, send publishes at once", async () => {
    const { bob, roomId } = await setup();
    const { delayId: restartId } = await bob.sendStateEvent(
      roomId,
      MEMBER,
      BOB,
      { v: "restarted" },
      { delayMs: 1000 },
    );
    await clock.advance(800);
    await bob.updateDelayedEvent(restartId!, "restart");
    await clock.advance(800);
    expect(memberState(roomId, BOB)).toBeUndefined();
    const listed = await bob.listDelayedEvents();
    expect(listed).toEqual([
      {
        delayId: restartId,
        roomId,
        type: MEMBER,
        stateKey: BOB,
        delayMs: 1000,
        runningSince: 1_000_800,
        content: { v: "restarted" },
      },
    ]);
    await clock.advance(200);
    expect(memberState(roomId, BOB)).toEqual({ v: "restarted" });

    const { delayId: cancelId } = await bob.sendStateEvent(
      roomId,
      MEMBER,
      BOB,
      { v: "cancelled" },
      { delayMs: 1000 },
    );
    await bob.updateDelayedEvent(cancelId!, "cancel");
    await clock.advance(5000);
    expect(memberState(roomId, BOB)).toEqual({ v: "restarted" });

    const { delayId: sendId } = await bob.sendStateEvent(
      roomId,
      MEMBER,
      BOB,
      { v: "sent" },
      { delayMs: 60_000 },
    );
    await bob.updateDelayedEvent(sendId!, "send");
    expect(memberState(roomId, BOB)).toEqual({ v: "sent" });
    expect(hs.pendingDelayedEvents).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("unknown delay ids reject with 404 M_NOT_FOUND", async () => {
    const { bob } = await setup();
    for (const action of ["cancel", "restart", "send"] as const) {
      await expect(bob.updateDelayedEvent("syd_unknown", action)).rejects.toMatchObject({
        errcode: "M_NOT_FOUND",
        httpStatus: 404,
      });
    }
  });

  it("another user's state event with the same type and key cancels it; the owner's own does not", async () => {
    const { alice, bob, roomId } = await setup();
    await bob.sendStateEvent(roomId, "org.example.shared", "", { by: "bob-delayed" }, { delayMs: 1000 });
    await bob.sendStateEvent(roomId, MEMBER, BOB, { v: "delayed" }, { delayMs: 1000 });
    await bob.sendStateEvent(roomId, MEMBER, BOB, { v: "now" });
    await alice.sendStateEvent(roomId, "org.example.shared", "", { by: "alice" });
    expect((await bob.listDelayedEvents()).map((e) => e.type)).toEqual([MEMBER]);
    await clock.advance(1000);
    expect(memberState(roomId, BOB)).toEqual({ v: "delayed" });
    expect(hs.getRoomState(roomId).find((e) => e.type === "org.example.shared")?.content).toEqual({
      by: "alice",
    });
  });

  it("checks power levels when the event fires, not when it is scheduled", async () => {
    const { alice, bob, roomId } = await setup();
    await bob.sendStateEvent(roomId, "org.example.restricted", "", { v: 1 }, { delayMs: 1000 });
    await alice.sendStateEvent(roomId, MEMBER, ALICE, {});
    await clock.advance(1000);
    expect(hs.getRoomState(roomId).some((e) => e.type === "org.example.restricted")).toBe(false);
    expect(hs.stats.delayedEventsRejected).toBe(1);

    const { delayId } = await bob.sendStateEvent(
      roomId,
      "org.example.restricted",
      "",
      { v: 2 },
      { delayMs: 1000 },
    );
    await expect(bob.updateDelayedEvent(delayId!, "send")).rejects.toMatchObject({ errcode: "M_FORBIDDEN" });
    const levels = alice.getRoom(roomId)?.powerLevels ?? {};
    await alice.sendStateEvent(roomId, "m.room.power_levels", "", {
      ...levels,
      events: { ...(levels.events as object), "org.example.restricted": 0 },
    });
    await bob.sendStateEvent(roomId, "org.example.restricted", "", { v: 3 }, { delayMs: 1000 });
    await clock.advance(1000);
    expect(hs.getRoomState(roomId).find((e) => e.type === "org.example.restricted")?.content).toEqual({
      v: 3,
    });
  });

  it("listDelayedEvents follows next_batch over pages of 10, and lists only your own", async () => {
    const { alice, bob, roomId } = await setup();
    for (let n = 0; n < 23; n++) {
      await bob.sendStateEvent(roomId, MEMBER, `${BOB}_D${n}`, { n }, { delayMs: 60_000 + n });
    }
    await alice.sendStateEvent(roomId, MEMBER, ALICE, { mine: true }, { delayMs: 5000 });
    const before = hs.stats.requests;
    const listed = await bob.listDelayedEvents();
    expect(hs.stats.requests - before).toBe(3);
    expect(listed.map((e) => e.content.n)).toEqual(Array.from({ length: 23 }, (_, n) => n));
    expect(new Set(listed.map((e) => e.delayId)).size).toBe(23);
    expect(await alice.listDelayedEvents()).toHaveLength(1);
  });

  it("getServerFeatures reports support; when disabled, delayed sends are refused", async () => {
    const on = await setup();
    await expect(on.alice.getServerFeatures()).resolves.toEqual({ delayedEvents: true });
    await hs.close();
    const { bob, roomId } = await setup({ delayedEvents: false });
    await expect(bob.getServerFeatures()).resolves.toEqual({ delayedEvents: false });
    await expect(bob.sendStateEvent(roomId, MEMBER, BOB, {}, { delayMs: 1000 })).rejects.toMatchObject({
      errcode: "M_FORBIDDEN",
      httpStatus: 403,
      message: "Sending delayed events has been disallowed",
    });
    await expect(bob.listDelayedEvents()).rejects.toMatchObject({
      errcode: "M_UNRECOGNIZED",
      httpStatus: 400,
    });
    await expect(bob.updateDelayedEvent("syd_x", "cancel")).rejects.toMatchObject({
      errcode: "M_UNRECOGNIZED",
    });
  });

  it("rejects invalid delays and close() clears pending delayed timers", async () => {
    const { bob, roomId } = await setup();
    await expect(bob.sendStateEvent(roomId, MEMBER, BOB, {}, { delayMs: -1 })).rejects.toMatchObject({
      httpStatus: 400,
    });
    await bob.sendStateEvent(roomId, MEMBER, BOB, {}, { delayMs: 1000 });
    await bob.sendStateEvent(roomId, MEMBER, BOB, {}, { delayMs: 2000 });
    expect(clock.pendingTimers()).toBe(2);
    await hs.close();
    expect(clock.pendingTimers()).toBe(0);
  });
});
