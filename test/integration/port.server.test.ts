// The matrix-js-sdk port against a real Synapse: MSC4140 delayed state events, feature flags, TURN credentials.
import { createHmac } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CALL_MEMBER_TYPE,
  createRoom,
  registerUser,
  startClient,
  stateOf,
  synapse,
  waitFor,
  type TestClient,
} from "./clients.js";

describe("matrix-js-sdk port on Synapse: server features, TURN, delayed events", () => {
  let alice: TestClient;
  let bob: TestClient;
  let roomId: string;

  beforeAll(async () => {
    alice = await startClient(await registerUser("alice"));
    bob = await startClient(await registerUser("bob"));
    roomId = await createRoom(alice, [bob]);
  });

  afterAll(() => {
    alice.stop();
    bob.stop();
  });

  it("reports MSC4140 delayed events as supported", async () => {
    await expect(alice.port.getServerFeatures()).resolves.toEqual({ delayedEvents: true });
  });

  it("returns the homeserver's TURN credentials (time-limited, HMAC of the shared secret)", async () => {
    const turn = await alice.port.getTurnServers();
    const info = synapse();
    expect(turn?.uris).toEqual(info.turnUris);
    expect(turn?.ttl).toBe(3600);
    const username = turn?.username ?? "";
    const [expiry, userId] = username.split(/:(.*)/s);
    expect(userId).toBe(alice.user.userId);
    expect(Number(expiry)).toBeGreaterThan(Date.now() / 1000 + 3500);
    expect(turn?.password).toBe(createHmac("sha1", info.turnSecret).update(username).digest("base64"));
  });

  it("schedules, lists, restarts and cancels a delayed state event", async () => {
    const content = { memberships: [], reason: "leave-on-disconnect" };
    const { delayId, eventId } = await alice.port.sendStateEvent(
      roomId,
      CALL_MEMBER_TYPE,
      alice.user.userId,
      content,
      {
        delayMs: 60_000,
      },
    );
    expect(eventId).toBeUndefined();
    expect(delayId).toEqual(expect.any(String));

    const listed = (await alice.port.listDelayedEvents()).find((e) => e.delayId === delayId);
    expect(listed).toEqual({
      delayId,
      roomId,
      type: CALL_MEMBER_TYPE,
      stateKey: alice.user.userId,
      delayMs: 60_000,
      runningSince: expect.any(Number) as number,
      content,
    });
    await new Promise((r) => setTimeout(r, 20));
    await alice.port.updateDelayedEvent(delayId ?? "", "restart");
    const restarted = (await alice.port.listDelayedEvents()).find((e) => e.delayId === delayId);
    expect(restarted?.runningSince).toBeGreaterThan(listed?.runningSince ?? Infinity);

    await alice.port.updateDelayedEvent(delayId ?? "", "cancel");
    expect((await alice.port.listDelayedEvents()).some((e) => e.delayId === delayId)).toBe(false);
    await expect(alice.port.updateDelayedEvent(delayId ?? "", "restart")).rejects.toMatchObject({
      errcode: "M_NOT_FOUND",
      httpStatus: 404,
    });
    // Bob's view: nothing was ever published.
    expect(stateOf(bob, roomId).some((e) => e.content.reason === "leave-on-disconnect")).toBe(false);
  });

  it("publishes a delayed state event at once on 'send'", async () => {
    const { delayId } = await alice.port.sendStateEvent(
      roomId,
      CALL_MEMBER_TYPE,
      alice.user.userId,
      { memberships: [], reason: "sent-now" },
      { delayMs: 60_000 },
    );
    await alice.port.updateDelayedEvent(delayId ?? "", "send");
    const published = await waitFor("bob to see the sent delayed event", () =>
      stateOf(bob, roomId).find((e) => e.content.reason === "sent-now"),
    );
    expect(published).toMatchObject({
      type: CALL_MEMBER_TYPE,
      stateKey: alice.user.userId,
      sender: alice.user.userId,
    });
  });

  it("lets Synapse publish a delayed state event when its delay runs out; the other client gets it by sync", async () => {
    await alice.port.sendStateEvent(roomId, CALL_MEMBER_TYPE, alice.user.userId, {
      memberships: [{ call_id: "", device_id: alice.deviceId }],
    });
    const scheduledAt = Date.now();
    const { delayId } = await alice.port.sendStateEvent(
      roomId,
      CALL_MEMBER_TYPE,
      alice.user.userId,
      { memberships: [], reason: "timed-out" },
      { delayMs: 1_500 },
    );
    const published = await waitFor("bob to see the timed-out delayed event", () =>
      stateOf(bob, roomId).find((e) => e.content.reason === "timed-out"),
    );
    const elapsed = Date.now() - scheduledAt;
    expect(elapsed).toBeGreaterThanOrEqual(1_400);
    expect(elapsed).toBeLessThan(10_000);
    expect(published).toMatchObject({
      type: CALL_MEMBER_TYPE,
      stateKey: alice.user.userId,
      sender: alice.user.userId,
    });
    expect(
      bob.port.getStateEvents(roomId, CALL_MEMBER_TYPE).find((e) => e.stateKey === alice.user.userId)
        ?.content,
    ).toEqual({
      memberships: [],
      reason: "timed-out",
    });
    expect((await alice.port.listDelayedEvents()).some((e) => e.delayId === delayId)).toBe(false);
  });
});
