import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
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

  it("leaves no handle behind: a process with latency, retries, listeners and delayed events in flight exits", async () => {
    const dir = mkdtempSync(join(tmpdir(), "local-hs-"));
    const script = join(dir, "exit-check.mts");
    const kit = pathToFileURL(join(import.meta.dirname, "index.ts")).href;
    writeFileSync(
      script,
      `import { LocalHomeserver } from ${JSON.stringify(kit)};
const hs = new LocalHomeserver({ maxAttempts: 10 });
const alice = hs.createClient("@alice:local", "ALICE");
const bob = hs.createClient("@bob:local", "BOB");
bob.onSync(() => new Promise(() => undefined));
const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], powerLevels: { state_default: 0 } });
await alice.sendStateEvent(roomId, "x", "", {}, { delayMs: 3_600_000 });
hs.setFaults({ latencyMs: 60_000, reorder: true });
await alice.sendToDevice("m.test", { "@bob:local": { BOB: {} } });
await alice.sendRoomEvent(roomId, "m.room.message", {});
hs.setFaults({ serverErrorRate: 1 });
const retrying = alice.sendRoomEvent(roomId, "m.room.message", {}).catch((e) => e.message);
await new Promise((resolve) => setTimeout(resolve, 20));
if (hs.stats.retries === 0) throw new Error("expected retries in flight");
await hs.close();
console.log("closed:", await retrying);
`,
    );
    const started = Date.now();
    const result = await new Promise<{ code: number | null; out: string; timedOut: boolean }>((resolve) => {
      const child = spawn(process.execPath, ["--import", "tsx", script], { cwd: process.cwd() });
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (out += chunk.toString()));
      const killer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve({ code: null, out, timedOut: true });
      }, 8_000);
      child.on("exit", (code) => {
        clearTimeout(killer);
        resolve({ code, out, timedOut: false });
      });
    });
    rmSync(dir, { recursive: true, force: true });
    expect(result.timedOut, result.out).toBe(false);
    expect(result.code, result.out).toBe(0);
    expect(result.out).toContain("closed: LocalHomeserver is closed");
    expect(Date.now() - started).toBeLessThan(8_000);
  });
});
