import { EventEmitter } from "node:events";
import type { IEvent, MatrixClient } from "matrix-js-sdk";
import { ClientEvent, MatrixEvent, SyncState } from "matrix-js-sdk";
import { logger as sdkLogger } from "matrix-js-sdk/lib/logger.js";
import { afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { systemClock } from "../../../core/Clock.js";
import { silentLogger } from "../../../core/Logger.js";
import type { SyncBatch } from "../../MatrixClientPort.js";
import { SyncBatcher } from "./SyncBatcher.js";

const ROOM = "!room:hs";

/** Stands in for js-sdk's crypto backend: decrypts events whose id is in `keys`. */
class FakeCrypto {
  public readonly keys = new Map<string, { type: string; content: Record<string, unknown> }>();
  public decryptEvent(event: MatrixEvent): Promise<{ clearEvent: Partial<IEvent> }> {
    const clear = this.keys.get(event.getId() ?? "");
    if (clear === undefined) {
      return Promise.reject(new Error("no room key"));
    }
    return Promise.resolve({ clearEvent: { ...clear, room_id: event.getRoomId() } });
  }
}

/** The part of MatrixClient a SyncBatcher uses: events, and decryptEventIfNeeded. */
class FakeClient extends EventEmitter {
  public readonly crypto = new FakeCrypto();
  public decryptEventIfNeeded(event: MatrixEvent): Promise<void> {
    if (event.shouldAttemptDecryption()) {
      void event.attemptDecryption(this.crypto as never);
    }
    return event.getDecryptionPromise() ?? Promise.resolve();
  }
  /** Emits one processed /sync response as js-sdk does: events, then the sync state. */
  public sync(
    state: SyncState,
    events: MatrixEvent[],
    toDevice: MatrixEvent[] = [],
    oldSyncToken?: string,
  ): void {
    for (const event of toDevice) {
      this.emit(ClientEvent.ToDeviceEvent, event);
    }
    for (const event of events) {
      this.emit(ClientEvent.Event, event);
    }
    this.emit(ClientEvent.Sync, state, null, { oldSyncToken, nextSyncToken: "s2" });
  }
}

let seq = 0;
function roomEvent(type: string, content: Record<string, unknown>, extra: Partial<IEvent> = {}): MatrixEvent {
  seq++;
  return new MatrixEvent({
    event_id: `$e${seq}`,
    room_id: ROOM,
    sender: "@alice:hs",
    type,
    content,
    origin_server_ts: 1000 + seq,
    unsigned: { age: 5 },
    ...extra,
  });
}

function setup(decryptionTimeoutMs = 200): {
  client: FakeClient;
  batcher: SyncBatcher;
  batches: SyncBatch[];
} {
  const client = new FakeClient();
  const batcher = new SyncBatcher({
    client: client as unknown as MatrixClient,
    clock: systemClock,
    logger: silentLogger,
    decryptionTimeoutMs,
    convertToDevice: (event) =>
      Promise.resolve({
        type: event.getType(),
        sender: event.getSender() ?? "",
        content: event.getContent(),
        encrypted: false,
      }),
  });
  const batches: SyncBatch[] = [];
  batcher.subscribe((batch) => {
    batches.push(batch);
  });
  return { client, batcher, batches };
}

describe("SyncBatcher", () => {
  beforeAll(() => {
    // js-sdk logs every failed decryption attempt
    (sdkLogger as unknown as { setLevel(level: string): void }).setLevel("silent");
  });

  afterEach(() => {
    vi.useRealTimers();
  });

  it("makes one batch per sync: state events (state block and timeline) in `state`, the rest in `timeline`", async () => {
    const { client, batcher, batches } = setup();
    const member = roomEvent("com.famedly.call.member", { memberships: [] }, { state_key: "@alice:hs" });
    const invite = roomEvent("m.call.invite", { call_id: "c1" });
    const typing = new MatrixEvent({ type: "m.typing", content: { user_ids: [] }, room_id: ROOM });
    const toDevice = new MatrixEvent({
      type: "m.call.candidates",
      sender: "@bob:hs",
      content: { call_id: "c1" },
    });
    client.sync(SyncState.Syncing, [member, invite, typing], [toDevice], "s1");
    await batcher.whenIdle();

    expect(batches).toHaveLength(1);
    expect(batches[0]?.rooms).toEqual([
      {
        roomId: ROOM,
        initial: false,
        state: [
          expect.objectContaining({
            eventId: member.getId(),
            stateKey: "@alice:hs",
            type: "com.famedly.call.member",
          }),
        ],
        timeline: [
          {
            eventId: invite.getId(),
            roomId: ROOM,
            type: "m.call.invite",
            sender: "@alice:hs",
            content: { call_id: "c1" },
            originServerTs: invite.getTs(),
            unsigned: { age: 5 },
          },
        ],
      },
    ]);
    expect(batches[0]?.toDevice).toEqual([
      { type: "m.call.candidates", sender: "@bob:hs", content: { call_id: "c1" }, encrypted: false },
    ]);
  });

  it("marks the first sync's rooms initial and later ones not; skips empty syncs", async () => {
    const { client, batcher, batches } = setup();
    client.sync(SyncState.Prepared, [roomEvent("m.call.invite", {})]);
    client.sync(SyncState.Syncing, []);
    client.sync(SyncState.Syncing, [roomEvent("m.call.hangup", {})], [], "s1");
    await batcher.whenIdle();
    expect(batches.map((b) => b.rooms.map((r) => [r.timeline[0]?.type, r.initial]))).toEqual([
      [["m.call.invite", true]],
      [["m.call.hangup", false]],
    ]);
  });

  it("delivers a batch only after its encrypted events are decrypted, and in order", async () => {
    const { client, batcher, batches } = setup();
    const secret = roomEvent("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "x" });
    client.crypto.keys.set(secret.getId() ?? "", { type: "m.call.answer", content: { call_id: "c9" } });
    const plain = roomEvent("m.call.hangup", { call_id: "c9" });
    client.sync(SyncState.Syncing, [secret], [], "s1");
    client.sync(SyncState.Syncing, [plain], [], "s2");
    await batcher.whenIdle();
    expect(batches.map((b) => b.rooms[0]?.timeline.map((e) => [e.type, e.content.call_id]))).toEqual([
      [["m.call.answer", "c9"]],
      [["m.call.hangup", "c9"]],
    ]);
  });

  it("waits for keys that arrive late, and drops events whose keys never come", async () => {
    const { client, batcher, batches } = setup(300);
    const late = roomEvent("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "late" });
    const never = roomEvent("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "never" });
    client.sync(SyncState.Syncing, [late, never], [], "s1");
    await new Promise((r) => setTimeout(r, 50));
    expect(batches).toHaveLength(0); // held back while undecryptable
    client.crypto.keys.set(late.getId() ?? "", { type: "m.call.invite", content: { call_id: "late" } });
    await late.attemptDecryption(client.crypto as never, { isRetry: true }); // what js-sdk does when keys arrive
    await batcher.whenIdle();
    expect(batches).toHaveLength(1);
    expect(batches[0]?.rooms[0]?.timeline.map((e) => e.content.call_id)).toEqual(["late"]);
  });

  it("does not wait for keys in the initial batch (history from before the device existed)", async () => {
    const { client, batcher, batches } = setup(60_000);
    const history = roomEvent("m.room.encrypted", { algorithm: "m.megolm.v1.aes-sha2", ciphertext: "old" });
    const started = Date.now();
    client.sync(SyncState.Prepared, [history, roomEvent("m.room.create", {}, { state_key: "" })]);
    await batcher.whenIdle();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(batches[0]?.rooms[0]?.timeline).toEqual([]);
    expect(batches[0]?.rooms[0]?.state.map((e) => e.type)).toEqual(["m.room.create"]);
  });

  it("delivers the next batch only after every listener settled, and survives a failing listener", async () => {
    const { client, batcher } = setup();
    const log: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    batcher.subscribe(async (batch) => {
      const type = batch.rooms[0]?.timeline[0]?.type ?? "";
      log.push(`start ${type}`);
      if (type === "m.call.invite") {
        await gate;
      }
      log.push(`end ${type}`);
    });
    batcher.subscribe(() => {
      throw new Error("a broken listener");
    });
    client.sync(SyncState.Syncing, [roomEvent("m.call.invite", {})], [], "s1");
    client.sync(SyncState.Syncing, [roomEvent("m.call.hangup", {})], [], "s2");
    await new Promise((r) => setTimeout(r, 30));
    expect(log).toEqual(["start m.call.invite"]);
    release();
    await batcher.whenIdle();
    expect(log).toEqual([
      "start m.call.invite",
      "end m.call.invite",
      "start m.call.hangup",
      "end m.call.hangup",
    ]);
  });

  it("stops delivering after unsubscribe and dispose", async () => {
    const { client, batcher, batches } = setup();
    const other = vi.fn();
    const unsubscribe = batcher.subscribe(other);
    unsubscribe();
    client.sync(SyncState.Syncing, [roomEvent("m.call.invite", {})], [], "s1");
    await batcher.whenIdle();
    expect(other).not.toHaveBeenCalled();
    expect(batches).toHaveLength(1);
    batcher.dispose();
    client.sync(SyncState.Syncing, [roomEvent("m.call.hangup", {})], [], "s2");
    await batcher.whenIdle();
    expect(batches).toHaveLength(1);
    expect(client.listenerCount(ClientEvent.Event)).toBe(0);
  });
});
