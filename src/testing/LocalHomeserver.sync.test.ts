import { afterEach, describe, expect, it } from "vitest";
import type { MatrixClientPort, RoomEvent, SyncBatch } from "../matrix/MatrixClientPort.js";
import { waitFor } from "./helpers.js";
import { LocalHomeserver } from "./LocalHomeserver.js";
import { ManualClock } from "./ManualClock.js";

const ALICE = "@alice:local";
const BOB = "@bob:local";

let hs: LocalHomeserver;
afterEach(async () => {
  await hs.close();
});

function record(client: MatrixClientPort): SyncBatch[] {
  const batches: SyncBatch[] = [];
  client.onSync((batch) => {
    batches.push(batch);
  });
  return batches;
}

function timeline(batches: SyncBatch[], roomId: string): RoomEvent[] {
  return batches.flatMap((b) =>
    b.rooms.filter((r) => r.roomId === roomId && !r.initial).flatMap((r) => r.timeline),
  );
}

describe("LocalHomeserver sync", () => {
  it("delivers asynchronously, never inside the send call, and echoes to the sender", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    const aliceBatches = record(alice);
    const bobBatches = record(bob);
    await hs.flush();
    const before = bobBatches.length;
    const send = alice.sendRoomEvent(roomId, "m.call.invite", { call_id: "c1" });
    expect(bobBatches.length).toBe(before);
    const { eventId } = await send;
    await hs.flush();
    for (const batches of [aliceBatches, bobBatches]) {
      const events = timeline(batches, roomId);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        eventId,
        roomId,
        type: "m.call.invite",
        sender: ALICE,
        content: { call_id: "c1" },
      });
    }
  });

  it("keeps order per client and groups events of one tick into one batch", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    const batches = record(bob);
    await hs.flush();
    await Promise.all([0, 1, 2, 3, 4].map((n) => alice.sendRoomEvent(roomId, "m.room.message", { n })));
    for (let n = 5; n < 10; n++) {
      await alice.sendRoomEvent(roomId, "m.room.message", { n });
    }
    await hs.flush();
    const live = batches.filter((b) => b.rooms.some((r) => !r.initial));
    expect(timeline(batches, roomId).map((e) => e.content.n)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The five concurrent sends arrive together; the sequential ones in their own batches.
    expect(live[0]?.rooms[0]?.timeline.map((e) => e.content.n)).toEqual([0, 1, 2, 3, 4]);
    expect(live.length).toBeGreaterThanOrEqual(6);
  });

  it("hands a listener the next batch only after its previous promise settled", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    const log: string[] = [];
    let running = 0;
    let maxRunning = 0;
    bob.onSync(async (batch) => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      const n = batch.rooms[0]?.timeline[0]?.content.n;
      log.push(`start ${String(n)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
      log.push(`end ${String(n)}`);
      running--;
    });
    for (let n = 0; n < 3; n++) {
      await alice.sendRoomEvent(roomId, "m.room.message", { n });
    }
    await hs.flush();
    expect(maxRunning).toBe(1);
    expect(log.filter((l) => l !== "start undefined" && l !== "end undefined")).toEqual([
      "start 0",
      "end 0",
      "start 1",
      "end 1",
      "start 2",
      "end 2",
    ]);
  });

  it("gives a new subscription an initial batch with the joined rooms' state and recent timeline", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    await alice.sendRoomEvent(roomId, "m.call.invite", { call_id: "old" });
    const bob = hs.createClient(BOB, "BOB");
    const batches = record(bob);
    await alice.sendRoomEvent(roomId, "m.call.hangup", { call_id: "old" });
    await hs.flush();
    const [first, ...rest] = batches;
    expect(first?.rooms).toHaveLength(1);
    expect(first?.rooms[0]).toMatchObject({ roomId, initial: true });
    expect(first?.rooms[0]?.state.map((e) => e.type)).toContain("m.room.power_levels");
    expect(first?.rooms[0]?.timeline.map((e) => e.type)).toEqual(["m.call.invite"]);
    expect(rest.flatMap((b) => b.rooms).every((r) => !r.initial)).toBe(true);
    expect(timeline(rest, roomId).map((e) => e.type)).toEqual(["m.call.hangup"]);
  });

  it("skips the initial batch for a client in no room; unsubscribe stops delivery", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const batches: SyncBatch[] = [];
    const unsubscribe = bob.onSync((b) => {
      batches.push(b);
    });
    await hs.flush();
    expect(batches).toHaveLength(0);
    await alice.sendToDevice("m.test", { [BOB]: { BOB: { n: 1 } } });
    await hs.flush();
    expect(batches.map((b) => b.toDevice.length)).toEqual([1]);
    unsubscribe();
    unsubscribe();
    await alice.sendToDevice("m.test", { [BOB]: { BOB: { n: 2 } } });
    await hs.flush();
    expect(batches).toHaveLength(1);
  });

  it("puts state events in `state` and a newly created room's state reaches subscribed members", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const batches = record(bob);
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    await alice.sendStateEvent(roomId, "m.room.name", "", { name: "Call room" });
    await hs.flush();
    const parts = batches.flatMap((b) => b.rooms);
    expect(parts.every((r) => !r.initial && r.timeline.length === 0)).toBe(true);
    const state = parts.flatMap((r) => r.state);
    expect(state.map((e) => e.type)).toEqual(
      expect.arrayContaining(["m.room.create", "m.room.member", "m.room.name"]),
    );
    expect(state.find((e) => e.type === "m.room.name")).toMatchObject({
      stateKey: "",
      content: { name: "Call room" },
    });
  });

  it("fills unsigned.age from the injected clock at delivery", async () => {
    const clock = new ManualClock(10_000);
    hs = new LocalHomeserver({ clock });
    const alice = hs.createClient(ALICE, "ALICE");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    await alice.sendRoomEvent(roomId, "m.call.invite", { lifetime: 60_000 });
    await clock.advance(61_000);
    const bob = hs.createClient(BOB, "BOB");
    const batches = record(bob);
    await hs.flush();
    const invite = batches[0]?.rooms[0]?.timeline[0];
    expect(invite?.originServerTs).toBe(10_000);
    expect(invite?.unsigned?.age).toBe(61_000);
    await alice.sendRoomEvent(roomId, "m.call.hangup", {});
    await hs.flush();
    const hangup = timeline(batches, roomId).at(-1);
    expect(hangup).toMatchObject({ type: "m.call.hangup", originServerTs: 71_000, unsigned: { age: 0 } });
  });

  it("client views lag the server until the batch is received", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB], powerLevels: { state_default: 0 } });
    hs.setFaults({ latencyMs: 40 });
    await alice.sendStateEvent(roomId, "com.famedly.call.member", ALICE, { memberships: [{ call_id: "" }] });
    expect(hs.getRoomState(roomId).some((e) => e.type === "com.famedly.call.member")).toBe(true);
    expect(bob.getStateEvents(roomId, "com.famedly.call.member")).toEqual([]);
    await waitFor(() => bob.getStateEvents(roomId, "com.famedly.call.member").length === 1);
    expect(bob.getStateEvents(roomId, "com.famedly.call.member")[0]).toMatchObject({
      stateKey: ALICE,
      sender: ALICE,
    });
  });

  it("a throwing or rejecting listener does not stop later batches", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const seen: number[] = [];
    bob.onSync((batch) => {
      const n = batch.toDevice[0]?.content.n as number;
      seen.push(n);
      if (n === 1) {
        throw new Error("listener bug");
      }
      if (n === 2) {
        return Promise.reject(new Error("async listener bug"));
      }
      return undefined;
    });
    for (const n of [1, 2, 3]) {
      await alice.sendToDevice("m.test", { [BOB]: { BOB: { n } } });
      await hs.flush();
    }
    expect(seen).toEqual([1, 2, 3]);
  });
});
