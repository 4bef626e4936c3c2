import { afterEach, describe, expect, it } from "vitest";
import { MatrixPortError } from "../core/errors.js";
import type { MatrixClientPort, SyncBatch, ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import { LocalHomeserver } from "./LocalHomeserver.js";

const ALICE = "@alice:local";
const BOB = "@bob:local";

let hs: LocalHomeserver;
afterEach(async () => {
  await hs.close();
});

async function setup(options: ConstructorParameters<typeof LocalHomeserver>[0] = {}): Promise<{
  alice: MatrixClientPort;
  bob: MatrixClientPort;
  roomId: string;
}> {
  hs = new LocalHomeserver(options);
  const alice = hs.createClient(ALICE, "ALICE");
  const bob = hs.createClient(BOB, "BOB");
  const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
  return { alice, bob, roomId };
}

function roomEventsOf(type: string): number {
  return hs.transcript().filter((e) => e.type === type).length;
}

describe("LocalHomeserver faults: requests", () => {
  it("a response lost after the server accepted the send is retried with the same txn id, no duplicate", async () => {
    const { alice, roomId } = await setup();
    hs.setFaults({ dropNextResponses: 2 });
    const { eventId } = await alice.sendRoomEvent(roomId, "m.call.invite", { call_id: "c1" });
    expect(roomEventsOf("m.call.invite")).toBe(1);
    expect(hs.transcript().find((e) => e.type === "m.call.invite")?.eventId).toBe(eventId);
    expect(hs.stats.retries).toBe(2);
    expect(hs.stats.injectedFailures).toBe(2);

    hs.setFaults({ dropNextResponses: 1 });
    await alice.sendToDevice("m.test", { [BOB]: { BOB: { n: 1 } } });
    await alice.sendStateEvent(roomId, "org.example", "", {});
    expect(hs.transcript().filter((e) => e.kind === "toDevice")).toHaveLength(1);
    expect(roomEventsOf("org.example")).toBe(1);
  });

  it("lossRate and serverErrorRate: every send that resolves is stored exactly once", async () => {
    const { alice, bob, roomId } = await setup({ seed: 7, maxAttempts: 6 });
    const received: number[] = [];
    bob.onSync((batch: SyncBatch) => {
      for (const r of batch.rooms) {
        received.push(...r.timeline.map((e) => e.content.n as number));
      }
    });
    hs.setFaults({ lossRate: 0.3, serverErrorRate: 0.2 });
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, n) => alice.sendRoomEvent(roomId, "m.room.message", { n })),
    );
    await hs.flush();
    const stored = hs.transcript().filter((e) => e.type === "m.room.message");
    const storedN = stored.map((e) => e.content.n as number);
    expect(new Set(storedN).size).toBe(storedN.length);
    results.forEach((result, n) => {
      if (result.status === "fulfilled") {
        expect(stored.filter((e) => e.eventId === result.value.eventId).map((e) => e.content.n)).toEqual([n]);
      }
    });
    expect(results.filter((r) => r.status === "fulfilled").length).toBeGreaterThan(30);
    expect(hs.stats.injectedFailures).toBeGreaterThan(5);
    expect(hs.stats.retries).toBeGreaterThan(5);
    expect([...received].sort((a, b) => a - b)).toEqual([...storedN].sort((a, b) => a - b));
  });

  it("gives up after maxAttempts with the transport error", async () => {
    const { alice, roomId } = await setup({ maxAttempts: 3 });
    hs.setFaults({ serverErrorRate: 1 });
    const error = await alice.sendRoomEvent(roomId, "m.room.message", {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MatrixPortError);
    expect(error).toMatchObject({ errcode: "M_UNKNOWN", httpStatus: 500 });
    expect(hs.stats.requests).toBe(3);
    hs.setFaults({ lossRate: 1 });
    await expect(alice.getTurnServers()).rejects.toMatchObject({ httpStatus: 0 });
  });

  it("rateLimitEvery: every Nth request gets 429 with retryAfterMs, not retried by the port", async () => {
    const { alice, roomId } = await setup();
    hs.setFaults({ rateLimitEvery: 3, retryAfterMs: 1234 });
    await alice.sendRoomEvent(roomId, "m.room.message", { n: 1 });
    await alice.sendRoomEvent(roomId, "m.room.message", { n: 2 });
    const error = await alice.sendRoomEvent(roomId, "m.room.message", { n: 3 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MatrixPortError);
    expect(error).toMatchObject({ errcode: "M_LIMIT_EXCEEDED", httpStatus: 429, retryAfterMs: 1234 });
    expect(hs.stats.rateLimited).toBe(1);
    expect(hs.stats.retries).toBe(0);
    expect(
      hs
        .transcript()
        .filter((e) => e.type === "m.room.message")
        .map((e) => e.content.n),
    ).toEqual([1, 2]);
    await alice.sendRoomEvent(roomId, "m.room.message", { n: 3 });
    hs.setFaults({});
    expect(hs.getFaults()).toEqual({ dropNextResponses: 0 });
  });

  it("the same seed gives the same fault pattern", async () => {
    const pattern = async (seed: number): Promise<string> => {
      const { alice, roomId } = await setup({ seed, maxAttempts: 1 });
      hs.setFaults({ lossRate: 0.5 });
      const out: string[] = [];
      for (let n = 0; n < 16; n++) {
        out.push(
          await alice.sendRoomEvent(roomId, "m.room.message", { n }).then(
            () => "ok",
            () => "x",
          ),
        );
      }
      await hs.close();
      return out.join("");
    };
    const a = await pattern(42);
    expect(await pattern(42)).toBe(a);
    expect(a).toContain("x");
    expect(a).toContain("ok");
    hs = new LocalHomeserver();
  });
});

describe("LocalHomeserver faults: delivery", () => {
  it("latencyMs delays sync delivery in real time", async () => {
    const { alice, bob } = await setup();
    const arrivals: number[] = [];
    bob.onSync((batch) => {
      if (batch.toDevice.length > 0) {
        arrivals.push(Date.now());
      }
    });
    hs.setFaults({ latencyMs: 80 });
    const sent = Date.now();
    await alice.sendToDevice("m.test", { [BOB]: { BOB: {} } });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(arrivals).toHaveLength(0);
    await hs.flush();
    expect(arrivals).toHaveLength(1);
    expect(arrivals[0]! - sent).toBeGreaterThanOrEqual(70);
  });

  it("keeps room events in order while latency changes", async () => {
    const { alice, bob, roomId } = await setup();
    const order: number[] = [];
    bob.onSync((batch) => {
      for (const r of batch.rooms) {
        order.push(...r.timeline.map((e) => e.content.n as number));
      }
    });
    hs.setFaults({ latencyMs: 60 });
    await alice.sendRoomEvent(roomId, "m.room.message", { n: 1 });
    hs.setFaults({ latencyMs: 0 });
    await alice.sendRoomEvent(roomId, "m.room.message", { n: 2 });
    await hs.flush();
    expect(order).toEqual([1, 2]);
  });

  it("reorder shuffles to-device messages across batches; duplicateRate delivers twice", async () => {
    const { alice, bob } = await setup({ seed: 3 });
    const received: ToDeviceEvent[] = [];
    const batchSizes: number[] = [];
    bob.onSync((batch) => {
      received.push(...batch.toDevice);
      batchSizes.push(batch.toDevice.length);
    });
    await hs.flush();
    hs.setFaults({ reorder: true });
    await Promise.all(
      Array.from({ length: 20 }, (_, n) => alice.sendToDevice("m.test", { [BOB]: { BOB: { n } } })),
    );
    await hs.flush();
    const order = received.map((e) => e.content.n as number);
    expect([...order].sort((a, b) => a - b)).toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(order).not.toEqual(Array.from({ length: 20 }, (_, n) => n));
    expect(batchSizes.length).toBeGreaterThan(1);

    received.length = 0;
    hs.setFaults({ duplicateRate: 1 });
    await alice.sendToDevice("m.test", { [BOB]: { BOB: { n: 99 } } });
    await hs.flush();
    expect(received.map((e) => e.content.n)).toEqual([99, 99]);
    expect(hs.transcript().filter((e) => e.kind === "toDevice")).toHaveLength(21);
  });
});
