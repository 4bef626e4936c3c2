import { afterEach, describe, expect, it } from "vitest";
import { MatrixPortError } from "../core/errors.js";
import type { SyncBatch } from "../matrix/MatrixClientPort.js";
import { LocalHomeserver } from "./LocalHomeserver.js";
import { ManualClock } from "./ManualClock.js";

const ALICE = "@alice:local";
const BOB = "@bob:local";

let hs: LocalHomeserver;
afterEach(async () => {
  await hs.close();
});

/** Active timer-like handles of this process (Node's own view). */
function timerHandles(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout" || r === "Immediate").length;
}

describe("LocalHomeserver TURN", () => {
  it("answers a Synapse-style credential by default and counts requests", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    hs = new LocalHomeserver({ clock });
    const alice = hs.createClient(ALICE, "ALICE");
    const first = await alice.getTurnServers();
    expect(first).toMatchObject({
      uris: ["turn:127.0.0.1:3478?transport=udp"],
      username: `${1_700_000_000 + 86_400}:${ALICE}`,
      ttl: 86_400,
    });
    expect(first?.password).toMatch(/^[A-Za-z0-9+/]{20,}$/);
    const second = await alice.getTurnServers();
    expect(second?.password).not.toBe(first?.password);
    expect(hs.stats.turnRequests).toBe(2);
  });

  it("setTurnServers: a fixed answer, none, or back to the default", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const fixed = {
      uris: ["turns:turn.example.org:443?transport=tcp"],
      username: "u",
      password: "p",
      ttl: 60,
    };
    hs.setTurnServers(fixed);
    fixed.ttl = 1;
    await expect(alice.getTurnServers()).resolves.toEqual({ ...fixed, ttl: 60 });
    hs.setTurnServers(undefined);
    await expect(alice.getTurnServers()).resolves.toBeUndefined();
    hs.setTurnServers("default");
    await expect(alice.getTurnServers()).resolves.toMatchObject({ ttl: 86_400 });
    expect(hs.stats.turnRequests).toBe(3);
    hs.setTurnServers({ uris: [] });
    await expect(alice.getTurnServers()).resolves.toEqual({ uris: [] });
  });

  it("the turnServers option sets the initial answer", async () => {
    hs = new LocalHomeserver({ turnServers: null });
    await expect(hs.createClient(ALICE, "ALICE").getTurnServers()).resolves.toBeUndefined();
  });
});

describe("LocalHomeserver close", () => {
  it("rejects pending and later requests with a clear error and stops deliveries", async () => {
    hs = new LocalHomeserver();
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB] });
    const batches: SyncBatch[] = [];
    bob.onSync((b) => {
      batches.push(b);
    });
    await hs.flush();
    const seen = batches.length;
    hs.setFaults({ latencyMs: 50 });
    await alice.sendRoomEvent(roomId, "m.room.message", { n: 1 });
    const pending = alice.sendRoomEvent(roomId, "m.room.message", { n: 2 });
    await hs.close();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MatrixPortError);
    expect((error as MatrixPortError).message).toBe("LocalHomeserver is closed");
    await expect(alice.sendToDevice("m.test", {})).rejects.toThrow("LocalHomeserver is closed");
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(batches).toHaveLength(seen);
    expect(hs.closed).toBe(true);
    expect(() => hs.createClient("@carol:local", "C")).toThrow("closed");
    await hs.close();
  });

  it("leaves no timer handle behind, even with latency, retries and delayed events in flight", async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const baseline = timerHandles();
    hs = new LocalHomeserver({ maxAttempts: 10 });
    const alice = hs.createClient(ALICE, "ALICE");
    const bob = hs.createClient(BOB, "BOB");
    bob.onSync(() => new Promise(() => undefined));
    const roomId = await hs.createRoom({ creator: ALICE, members: [BOB], powerLevels: { state_default: 0 } });
    await alice.sendStateEvent(roomId, "x", "", {}, { delayMs: 3_600_000 });
    hs.setFaults({ latencyMs: 10_000, reorder: true });
    await alice.sendToDevice("m.test", { [BOB]: { BOB: {} } });
    await alice.sendRoomEvent(roomId, "m.room.message", {});
    hs.setFaults({ serverErrorRate: 1 });
    const retrying = alice.sendRoomEvent(roomId, "m.room.message", {}).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(hs.stats.retries).toBeGreaterThan(0);
    expect(timerHandles()).toBeGreaterThan(baseline);
    await hs.close();
    expect(await retrying).toBeInstanceOf(MatrixPortError);
    expect(timerHandles()).toBe(baseline);
  });
});
