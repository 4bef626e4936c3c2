import { EventEmitter } from "node:events";
import type { MatrixClient } from "matrix-js-sdk";
import {
  ConnectionError,
  Device,
  EventStatus,
  MatrixError,
  MatrixEvent,
  MatrixScheduler,
  Method,
} from "matrix-js-sdk";
import { describe, expect, it, vi } from "vitest";
import type { Clock, TimerHandle } from "../../../core/Clock.js";
import { MatrixPortError } from "../../../core/errors.js";
import { silentLogger } from "../../../core/Logger.js";
import { createMatrixJsSdkPort } from "./index.js";
import { DeviceCache } from "./DeviceCache.js";
import { toToDeviceEvent } from "./toDevice.js";

const ME = "@alice:hs";
const BOB = "@bob:hs";

const instantClock: Clock = {
  now: () => 0,
  setTimeout: (fn) => {
    queueMicrotask(fn);
    return {} as TimerHandle;
  },
  setInterval: () => ({}) as TimerHandle,
  clearTimer: () => undefined,
};

function device(userId: string, deviceId: string, ed25519: string): Device {
  return new Device({ userId, deviceId, algorithms: [], keys: new Map([[`ed25519:${deviceId}`, ed25519]]) });
}

/** The MatrixClient methods the port calls, as mocks. */
function fakeClient() {
  const devices = new Map([[BOB, new Map([["BOB1", device(BOB, "BOB1", "bob1-ed")]])]]);
  const crypto = {
    getUserDeviceInfo: vi.fn((users: string[]) =>
      Promise.resolve(new Map(users.map((u) => [u, devices.get(u) ?? new Map<string, Device>()]))),
    ),
    encryptToDeviceMessages: vi.fn(
      (type: string, targets: { userId: string; deviceId: string }[], payload: Record<string, unknown>) =>
        Promise.resolve({
          eventType: "m.room.encrypted",
          batch: targets
            .filter((t) => devices.get(t.userId)?.has(t.deviceId))
            .map((t) => ({
              ...t,
              payload: {
                algorithm: "m.olm.v1.curve25519-aes-sha2",
                ciphertext: `${type}:${JSON.stringify(payload)}`,
              },
            })),
        }),
    ),
  };
  const client = Object.assign(new EventEmitter(), {
    devices,
    crypto,
    getUserId: () => ME,
    getDeviceId: () => "ALICE1",
    getRooms: () => [],
    getRoom: vi.fn((): unknown => null),
    getCrypto: () => crypto,
    getAccountData: () => undefined,
    getScheduler: vi.fn((): unknown => undefined),
    sendEvent: vi.fn(() => Promise.resolve({ event_id: "$sent" })),
    resendEvent: vi.fn(() => Promise.resolve({ event_id: "$resent" })),
    sendStateEvent: vi.fn(() => Promise.resolve({ event_id: "$state" })),
    sendToDevice: vi.fn(() => Promise.resolve({})),
    _unstable_sendDelayedStateEvent: vi.fn(() => Promise.resolve({ delay_id: "d1" })),
    _unstable_updateDelayedEvent: vi.fn(() => Promise.resolve({})),
    _unstable_getDelayedEvents: vi.fn((): Promise<unknown> => Promise.resolve({ delayed_events: [] })),
    relations: vi.fn((): Promise<unknown> => Promise.resolve({ events: [], nextBatch: null })),
    turnServer: vi.fn((): Promise<unknown> => Promise.resolve({})),
    doesServerSupportUnstableFeature: vi.fn(() => Promise.resolve(true)),
    http: { authedRequest: vi.fn((): Promise<unknown> => Promise.resolve({ event_id: "$redaction" })) },
  });
  const port = createMatrixJsSdkPort(client as unknown as MatrixClient, { clock: instantClock });
  return { client, crypto, port };
}

const serverError = (): MatrixError => new MatrixError({ errcode: "M_UNKNOWN", error: "oops" }, 502);

describe("MatrixJsSdkPort: sending", () => {
  it("reuses the transaction id when it retries a room event", async () => {
    const { client, port } = fakeClient();
    client.sendEvent.mockRejectedValueOnce(new ConnectionError("fetch failed"));
    await expect(port.sendRoomEvent("!r:hs", "m.call.invite", { call_id: "c1" })).resolves.toEqual({
      eventId: "$sent",
    });
    const calls = client.sendEvent.mock.calls as unknown as [string, string, object, string][];
    expect(calls).toHaveLength(2);
    expect(calls[0]?.[3]).toMatch(/^fc[A-Za-z0-9]{22}$/);
    expect(calls[1]?.[3]).toBe(calls[0]?.[3]);
    expect(calls[0]?.slice(0, 3)).toEqual(["!r:hs", "m.call.invite", { call_id: "c1" }]);
  });

  it("resends js-sdk's failed local echo (already encrypted) instead of a second sendEvent", async () => {
    const { client, port } = fakeClient();
    const local = { status: EventStatus.NOT_SENT };
    const room = { getEventForTxnId: vi.fn(() => local) };
    client.getRoom.mockReturnValue(room);
    client.sendEvent.mockRejectedValueOnce(serverError());
    await expect(port.sendRoomEvent("!r:hs", "m.call.invite", {})).resolves.toEqual({ eventId: "$resent" });
    expect(client.sendEvent).toHaveBeenCalledTimes(1);
    expect(client.resendEvent).toHaveBeenCalledWith(local, room);
    const txnId = (client.sendEvent.mock.calls as unknown as [string, string, object, string][])[0]?.[3];
    expect(room.getEventForTxnId).toHaveBeenCalledWith(txnId);
  });

  it("leaves 5xx retries of room events to js-sdk's scheduler when the client has one", async () => {
    const { client, port } = fakeClient();
    client.getScheduler.mockReturnValue({});
    client.sendEvent.mockRejectedValueOnce(serverError());
    await expect(port.sendRoomEvent("!r:hs", "m.call.invite", {})).rejects.toMatchObject({ httpStatus: 502 });
    expect(client.sendEvent).toHaveBeenCalledTimes(1);
    client.sendEvent.mockRejectedValueOnce(new ConnectionError("fetch failed"));
    await expect(port.sendRoomEvent("!r:hs", "m.call.invite", {})).resolves.toEqual({ eventId: "$sent" });
  });

  it("retries 5xx of call events itself when js-sdk's default scheduler does not queue them", async () => {
    const { client, port } = fakeClient();
    client.getScheduler.mockReturnValue(new MatrixScheduler());
    client.sendEvent.mockRejectedValueOnce(serverError()).mockRejectedValueOnce(serverError());
    await expect(port.sendRoomEvent("!r:hs", "m.call.candidates", {})).resolves.toEqual({ eventId: "$sent" });
    expect(client.sendEvent).toHaveBeenCalledTimes(3);
  });

  it("rejects at once with the server's error for 4xx answers", async () => {
    const { client, port } = fakeClient();
    client.sendStateEvent.mockRejectedValueOnce(
      new MatrixError({ errcode: "M_FORBIDDEN", error: "PL" }, 403),
    );
    await expect(port.sendStateEvent("!r:hs", "com.famedly.call.member", ME, {})).rejects.toMatchObject({
      errcode: "M_FORBIDDEN",
      httpStatus: 403,
    });
    expect(client.sendStateEvent).toHaveBeenCalledTimes(1);
  });

  it("schedules delayed state through MSC4140 and never retries the (non-idempotent) scheduling", async () => {
    const { client, port } = fakeClient();
    await expect(port.sendStateEvent("!r:hs", "t", ME, { a: 1 }, { delayMs: 1500.4 })).resolves.toEqual({
      delayId: "d1",
    });
    expect(client._unstable_sendDelayedStateEvent).toHaveBeenCalledWith(
      "!r:hs",
      { delay: 1500 },
      "t",
      { a: 1 },
      ME,
    );
    client._unstable_sendDelayedStateEvent.mockRejectedValueOnce(serverError());
    await expect(port.sendStateEvent("!r:hs", "t", ME, {}, { delayMs: 10 })).rejects.toMatchObject({
      httpStatus: 502,
    });
    expect(client._unstable_sendDelayedStateEvent).toHaveBeenCalledTimes(2);
    await expect(port.sendStateEvent("!r:hs", "t", ME, {}, { delayMs: -1 })).rejects.toMatchObject({
      errcode: "M_INVALID_PARAM",
    });
  });

  it("treats 'not found' after a lost cancel as done, but not for restart", async () => {
    const { client, port } = fakeClient();
    const notFound = new MatrixError({ errcode: "M_NOT_FOUND" }, 404);
    client._unstable_updateDelayedEvent.mockRejectedValueOnce(serverError()).mockRejectedValueOnce(notFound);
    await expect(port.updateDelayedEvent("d1", "cancel")).resolves.toBeUndefined();
    client._unstable_updateDelayedEvent.mockRejectedValueOnce(serverError()).mockRejectedValueOnce(notFound);
    await expect(port.updateDelayedEvent("d1", "restart")).rejects.toMatchObject({ errcode: "M_NOT_FOUND" });
    client._unstable_updateDelayedEvent.mockRejectedValueOnce(notFound);
    await expect(port.updateDelayedEvent("d1", "send")).rejects.toMatchObject({ httpStatus: 404 });
  });

  it("redacts with its own transaction id and the given content", async () => {
    const { client, port } = fakeClient();
    await expect(port.redactEvent("!r:hs", "$target", { reason: "r", call_id: "c" })).resolves.toEqual({
      eventId: "$redaction",
    });
    const [method, path, query, body] = client.http.authedRequest.mock.calls[0] as unknown as [
      string,
      string,
      unknown,
      unknown,
    ];
    expect(method).toBe(Method.Put);
    expect(path).toMatch(/^\/rooms\/!r%3Ahs\/redact\/%24target\/fc[A-Za-z0-9]{22}$/);
    expect(query).toBeUndefined();
    expect(body).toEqual({ reason: "r", call_id: "c" });
  });
});

describe("MatrixJsSdkPort: to-device", () => {
  it("Olm-encrypts each message for its device and sends m.room.encrypted, retrying with the same txn id", async () => {
    const { client, crypto, port } = fakeClient();
    client.sendToDevice.mockRejectedValueOnce(serverError());
    await port.sendToDevice("m.call.invite", { [BOB]: { BOB1: { call_id: "c1" } } }, { encrypted: true });
    expect(crypto.encryptToDeviceMessages).toHaveBeenCalledWith(
      "m.call.invite",
      [{ userId: BOB, deviceId: "BOB1" }],
      {
        call_id: "c1",
      },
    );
    const calls = client.sendToDevice.mock.calls as unknown as [
      string,
      Map<string, Map<string, unknown>>,
      string,
    ][];
    expect(calls).toHaveLength(2);
    expect(calls[0]?.[0]).toBe("m.room.encrypted");
    expect(calls[0]?.[1].get(BOB)?.get("BOB1")).toEqual({
      algorithm: "m.olm.v1.curve25519-aes-sha2",
      ciphertext: 'm.call.invite:{"call_id":"c1"}',
    });
    expect(calls[1]?.[2]).toBe(calls[0]?.[2]);
  });

  it("rejects with M_UNKNOWN_DEVICE and sends nothing when a device cannot be encrypted to", async () => {
    const { client, port } = fakeClient();
    const send = port.sendToDevice("m.call.invite", { [BOB]: { BOB1: {}, GHOST: {} } }, { encrypted: true });
    await expect(send).rejects.toBeInstanceOf(MatrixPortError);
    await expect(send).rejects.toMatchObject({
      errcode: "M_UNKNOWN_DEVICE",
      httpStatus: 400,
      message: expect.stringContaining(`${BOB}/GHOST`) as string,
    });
    expect(client.sendToDevice).not.toHaveBeenCalled();
  });

  it("sends plaintext messages under their own type", async () => {
    const { client, crypto, port } = fakeClient();
    await port.sendToDevice("m.call.hangup", { [BOB]: { "*": { call_id: "c1" } } });
    expect(crypto.encryptToDeviceMessages).not.toHaveBeenCalled();
    const [type, map] = client.sendToDevice.mock.calls[0] as unknown as [
      string,
      Map<string, Map<string, unknown>>,
    ];
    expect(type).toBe("m.call.hangup");
    expect(map.get(BOB)?.get("*")).toEqual({ call_id: "c1" });
  });

  it("answers canEncryptToDevice from the crypto store's tracked devices", async () => {
    const { client, crypto, port } = fakeClient();
    expect(port.canEncryptToDevice(BOB, "BOB1")).toBe(false); // not looked up yet: starts a refresh
    await vi.waitFor(() => {
      expect(port.canEncryptToDevice(BOB, "BOB1")).toBe(true);
    });
    expect(port.canEncryptToDevice(BOB, "BOB2")).toBe(false);
    client.devices.get(BOB)?.set("BOB2", device(BOB, "BOB2", "bob2-ed"));
    client.emit("crypto.devicesUpdated", [BOB], false);
    await vi.waitFor(() => {
      expect(port.canEncryptToDevice(BOB, "BOB2")).toBe(true);
    });
    expect(crypto.getUserDeviceInfo).toHaveBeenCalledWith([BOB]);
  });
});

describe("toToDeviceEvent", () => {
  const { client } = fakeClient();
  const cache = new DeviceCache(client as unknown as MatrixClient, silentLogger);
  const olmFields = (ed25519: string) => ({
    keys: { ed25519 },
    recipient: ME,
    recipient_keys: { ed25519: "alice-ed" },
    "org.matrix.msc4147.device_keys": { device_id: "BOB1", keys: { "ed25519:BOB1": ed25519 } },
  });

  it("marks a decrypted event encrypted, with the device whose Ed25519 key sent it", async () => {
    const event = new MatrixEvent({
      type: "m.call.invite",
      sender: BOB,
      content: { call_id: "c" },
      ...olmFields("bob1-ed"),
    });
    await expect(toToDeviceEvent(event, cache, silentLogger)).resolves.toEqual({
      type: "m.call.invite",
      sender: BOB,
      content: { call_id: "c" },
      encrypted: true,
      senderDevice: "BOB1",
    });
  });

  it("treats Olm fields with a key of no known device as unencrypted (a forging server)", async () => {
    const event = new MatrixEvent({
      type: "m.call.invite",
      sender: BOB,
      content: {},
      ...olmFields("forged-ed"),
    });
    await expect(toToDeviceEvent(event, cache, silentLogger)).resolves.toEqual({
      type: "m.call.invite",
      sender: BOB,
      content: {},
      encrypted: false,
    });
  });

  it("passes plaintext events as unencrypted and drops undecryptable and crypto-internal ones", async () => {
    const plain = new MatrixEvent({ type: "m.call.hangup", sender: BOB, content: { call_id: "c" } });
    await expect(toToDeviceEvent(plain, cache, silentLogger)).resolves.toMatchObject({ encrypted: false });
    const undecryptable = new MatrixEvent({
      type: "m.room.encrypted",
      sender: BOB,
      content: { ciphertext: {} },
    });
    await expect(toToDeviceEvent(undecryptable, cache, silentLogger)).resolves.toBeUndefined();
    const roomKey = new MatrixEvent({
      type: "m.room_key",
      sender: BOB,
      content: { session_key: "k" },
      ...olmFields("bob1-ed"),
    });
    await expect(toToDeviceEvent(roomKey, cache, silentLogger)).resolves.toBeUndefined();
  });
});

describe("MatrixJsSdkPort: server", () => {
  it("maps the TURN answer, and an empty one to undefined", async () => {
    const { client, port } = fakeClient();
    client.turnServer.mockResolvedValueOnce({ uris: ["turn:t"], username: "u", password: "p", ttl: 86400 });
    await expect(port.getTurnServers()).resolves.toEqual({
      uris: ["turn:t"],
      username: "u",
      password: "p",
      ttl: 86400,
    });
    await expect(port.getTurnServers()).resolves.toBeUndefined();
  });

  it("reports the MSC4140 flag", async () => {
    const { client, port } = fakeClient();
    client.doesServerSupportUnstableFeature.mockResolvedValueOnce(false);
    await expect(port.getServerFeatures()).resolves.toEqual({ delayedEvents: false });
    expect(client.doesServerSupportUnstableFeature).toHaveBeenCalledWith("org.matrix.msc4140");
  });

  it("follows next_batch when listing delayed events and drops malformed entries", async () => {
    const { client, port } = fakeClient();
    const entry = (id: string) => ({
      delay_id: id,
      room_id: "!r:hs",
      type: "t",
      state_key: ME,
      delay: 5,
      running_since: 7,
      content: { x: id },
    });
    client._unstable_getDelayedEvents
      .mockResolvedValueOnce({ delayed_events: [entry("a"), { delay_id: 3 }], next_batch: "p2" })
      .mockResolvedValueOnce({ delayed_events: [entry("b")] });
    const list = await port.listDelayedEvents();
    expect(list.map((e) => e.delayId)).toEqual(["a", "b"]);
    expect(list[0]).toEqual({
      delayId: "a",
      roomId: "!r:hs",
      type: "t",
      stateKey: ME,
      delayMs: 5,
      runningSince: 7,
      content: { x: "a" },
    });
    expect(client._unstable_getDelayedEvents.mock.calls).toEqual([[undefined], ["p2"]]);
  });

  it("pages relations and keeps only the asked event type", async () => {
    const { client, port } = fakeClient();
    const ev = (id: string, type: string) =>
      new MatrixEvent({
        event_id: id,
        room_id: "!r:hs",
        sender: BOB,
        type,
        content: {},
        origin_server_ts: 1,
      });
    client.relations
      .mockResolvedValueOnce({ events: [ev("$1", "reaction"), ev("$x", "other")], nextBatch: "n2" })
      .mockResolvedValueOnce({ events: [ev("$2", "reaction")], nextBatch: null });
    const found = await port.getRelations("!r:hs", "$t", "m.reference", "reaction");
    expect(found.map((e) => e.eventId)).toEqual(["$1", "$2"]);
    expect((client.relations.mock.calls as unknown as unknown[][])[1]?.[4]).toMatchObject({
      from: "n2",
      limit: 100,
    });
  });
});
