// Group-call membership on a real Synapse through the matrix-js-sdk port: publish, refresh, leave, and a delayed
// leave that Synapse publishes once our client stops heart-beating (MSC4140), seen by a second client.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GroupCallState,
  MeshBackend,
  systemClock,
  VoIP,
  type Clock,
  type GroupCallSession,
  type TimerHandle,
} from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import {
  CALL_MEMBER_TYPE,
  createRoom,
  registerUser,
  startClient,
  waitFor,
  type TestClient,
} from "./clients.js";

/** The system clock, until `freeze()`: then no timer fires any more (a process that hangs or died). */
function freezableClock(): Clock & { freeze(): void } {
  const live = new Set<TimerHandle>();
  let frozen = false;
  return {
    now: () => systemClock.now(),
    setTimeout: (fn, ms) => {
      const handle = systemClock.setTimeout(() => {
        live.delete(handle);
        if (!frozen) {
          fn();
        }
      }, ms);
      live.add(handle);
      return handle;
    },
    setInterval: (fn, ms) => {
      const handle = systemClock.setInterval(() => {
        if (!frozen) {
          fn();
        }
      }, ms);
      live.add(handle);
      return handle;
    },
    clearTimer: (handle) => {
      if (handle !== undefined) {
        live.delete(handle);
      }
      systemClock.clearTimer(handle);
    },
    freeze: () => {
      frozen = true;
      for (const handle of live) {
        systemClock.clearTimer(handle);
      }
      live.clear();
    },
  };
}

interface Memberships {
  memberships: { device_id: string; expires_ts: number; call_id: string }[];
}

function memberState(viewer: TestClient, roomId: string, stateKey: string): Memberships | undefined {
  const event = viewer.port.getStateEvents(roomId, CALL_MEMBER_TYPE).find((e) => e.stateKey === stateKey);
  return event?.content as Memberships | undefined;
}

const TIMEOUTS = { updateExpireTsIntervalMs: 1_500, delayedLeaveMs: 3_000, delayedLeaveRestartMs: 500 };

describe("group calls on Synapse", () => {
  let alice: TestClient;
  let bob: TestClient;
  let roomId: string;
  let bobVoip: VoIP;
  const voips: VoIP[] = [];
  const clients: TestClient[] = [];

  beforeAll(async () => {
    alice = await startClient(await registerUser("alice"));
    bob = await startClient(await registerUser("bob"));
    clients.push(alice, bob);
    roomId = await createRoom(alice, [bob]);
    bobVoip = new VoIP(bob.port, createNodeDelegate());
    voips.push(bobVoip);
  }, 60_000);

  afterAll(async () => {
    for (const voip of voips) {
      await voip.dispose().catch(() => undefined);
    }
    for (const client of clients) {
      client.stop();
    }
  });

  it("publishes, refreshes and leaves; the other client discovers the call and sees it end", async () => {
    const aliceVoip = new VoIP(alice.port, createNodeDelegate(), { timeouts: TIMEOUTS });
    voips.push(aliceVoip);
    const discovered = new Promise<GroupCallSession>((resolve) => bobVoip.on("incomingGroupCall", resolve));
    const group = await aliceVoip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
    await group.enter();
    const bobGroup = await discovered;
    expect(bobGroup.groupCallId).toBe(roomId);
    await waitFor("bob to count alice", () =>
      bobGroup.participants.some((p) => p.userId === alice.user.userId),
    );
    const first = memberState(bob, roomId, alice.user.userId);
    expect(first?.memberships).toEqual([
      {
        call_id: roomId,
        application: "m.call",
        scope: "m.room",
        backend: { type: "mesh" },
        foci_active: [{ type: "mesh" }],
        device_id: alice.deviceId,
        expires_ts: expect.any(Number) as number,
        membershipID: aliceVoip.sessionId,
        feeds: [{ purpose: "m.usermedia" }],
      },
    ]);
    // Refresh: a new membership event with a later expires_ts.
    const refreshed = await waitFor(
      "bob to see the refresh",
      () => {
        const next = memberState(bob, roomId, alice.user.userId)?.memberships[0]?.expires_ts ?? 0;
        return next > (first?.memberships[0]?.expires_ts ?? Infinity) ? next : undefined;
      },
      15_000,
    );
    expect(refreshed).toBeGreaterThan(Date.now() + 5 * 60_000);
    // Our delayed leave is scheduled on the server and kept alive.
    const scheduled = await alice.port.listDelayedEvents();
    expect(scheduled.filter((e) => e.roomId === roomId && e.stateKey === alice.user.userId)).toHaveLength(1);

    const ended = new Promise<GroupCallSession>((resolve) => bobVoip.on("groupCallEnded", resolve));
    await group.leave();
    expect(group.state).toBe(GroupCallState.Ended);
    await waitFor(
      "bob to see alice's entry removed",
      () => memberState(bob, roomId, alice.user.userId)?.memberships.length === 0,
    );
    await expect(ended).resolves.toBe(bobGroup);
    expect((await alice.port.listDelayedEvents()).filter((e) => e.roomId === roomId)).toEqual([]);
  }, 60_000);

  it("Synapse publishes our delayed leave when the client stops heart-beating; the other client sees it", async () => {
    const carol = await startClient(await registerUser("carol"));
    clients.push(carol);
    const room = await createRoom(carol, [bob]);
    const clock = freezableClock();
    const carolVoip = new VoIP(carol.port, createNodeDelegate(), { clock, timeouts: TIMEOUTS });
    voips.push(carolVoip);
    const discovered = new Promise<GroupCallSession>((resolve) =>
      bobVoip.on("incomingGroupCall", (g) => {
        if (g.roomId === room) {
          resolve(g);
        }
      }),
    );
    const group = await carolVoip.fetchOrCreateGroupCall(room, room, new MeshBackend());
    await group.enter();
    const bobGroup = await discovered;
    await waitFor("bob to count carol", () => bobGroup.participants.length === 1);
    // Still alive after more than one delay: the heartbeat restarts it.
    await new Promise((r) => {
      setTimeout(r, TIMEOUTS.delayedLeaveMs + 1_000);
    });
    expect(memberState(bob, room, carol.user.userId)?.memberships).toHaveLength(1);

    // The client hangs: no timer fires, no sync arrives; Synapse publishes the leave after the delay.
    const left = new Promise<string[]>((resolve) =>
      bobGroup.on("participantsLeft", (p) => {
        resolve(p.map((x) => x.id));
      }),
    );
    carol.stop();
    clock.freeze();
    const stoppedAt = Date.now();
    await expect(left).resolves.toEqual([`${carol.user.userId}:${carol.deviceId}`]);
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(
      TIMEOUTS.delayedLeaveMs - TIMEOUTS.delayedLeaveRestartMs - 100,
    );
    expect(memberState(bob, room, carol.user.userId)).toEqual({ memberships: [] });
  }, 60_000);
});
