import { afterEach, describe, expect, it } from "vitest";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import { silentLogger } from "../core/Logger.js";
import { cryptoRandom } from "../core/random.js";
import { DEFAULT_RETRY_POLICY, waitOn } from "../core/retry.js";
import { CallEventType } from "../matrix/eventTypes.js";
import type { MatrixClientPort, ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import { LocalHomeserver } from "../testing/LocalHomeserver.js";
import { ManualClock } from "../testing/ManualClock.js";
import { ToDeviceTransport, type ToDeviceTransportDeps } from "./ToDeviceTransport.js";

const ALICE = "@alice:local";
const BOB = "@bob:local";

let hs: LocalHomeserver;
afterEach(async () => {
  await hs.close();
});

function inbox(client: MatrixClientPort): ToDeviceEvent[] {
  const events: ToDeviceEvent[] = [];
  client.onSync((batch) => {
    events.push(...batch.toDevice);
  });
  return events;
}

function setup(overrides: Partial<ToDeviceTransportDeps> = {}) {
  hs = new LocalHomeserver();
  const clock = new ManualClock();
  const alice = hs.createClient(ALICE, "ALICE");
  const bob = inbox(hs.createClient(BOB, "BOB"));
  const transport = new ToDeviceTransport({
    client: alice,
    clock,
    retry: { wait: waitOn(clock), random: cryptoRandom, logger: silentLogger, policy: DEFAULT_RETRY_POLICY },
    logger: silentLogger,
    roomId: "!room:local",
    sessionId: "aliceSession",
    target: { userId: BOB, deviceId: "BOB", sessionId: "bobSession" },
    dialect: () => "famedly-v2",
    roomEncrypted: () => false,
    ...overrides,
  });
  return { clock, alice, bob, transport };
}

describe("ToDeviceTransport (reference §3.1, PROTOCOL P2, G7)", () => {
  it("adds seq, dest/sender session ids and room_id; seq follows the order of send calls, not of completion", async () => {
    const { bob, transport } = setup();
    const sends = [
      transport.send(CallEventType.Invite, { call_id: "c", n: 0 }),
      transport.send(CallEventType.Candidates, { call_id: "c", n: 1 }),
    ];
    expect(transport.nextSeq).toBe(2); // taken synchronously, before any await
    await Promise.all(sends);
    await hs.flush();
    expect(bob.map((e) => [e.type, e.content])).toEqual([
      [
        "com.famedly.call.member.invite",
        {
          call_id: "c",
          n: 0,
          seq: 0,
          dest_session_id: "bobSession",
          sender_session_id: "aliceSession",
          room_id: "!room:local",
        },
      ],
      [
        "com.famedly.call.member.candidates",
        {
          call_id: "c",
          n: 1,
          seq: 1,
          dest_session_id: "bobSession",
          sender_session_id: "aliceSession",
          room_id: "!room:local",
        },
      ],
    ]);
  });

  it("writes m.call.* to a famedly-v1 peer (P2), asking the dialect at each send", async () => {
    let dialect: "famedly-v1" | "famedly-v2" = "famedly-v1";
    const { bob, transport } = setup({ dialect: () => dialect });
    await transport.send(CallEventType.Answer, { call_id: "c" });
    dialect = "famedly-v2";
    await transport.send(CallEventType.Hangup, { call_id: "c" });
    await hs.flush();
    expect(bob.map((e) => e.type)).toEqual(["m.call.answer", "com.famedly.call.member.hangup"]);
  });

  it("Olm-encrypts whenever the port can, in unencrypted rooms too (G7): the server sees only ciphertext", async () => {
    const { bob, transport } = setup();
    await transport.send(CallEventType.Invite, { call_id: "c", secret: "sdp" });
    await hs.flush();
    expect(bob[0]?.encrypted).toBe(true);
    expect(bob[0]?.senderDevice).toBe("ALICE");
    const entry = hs.transcript().find((e) => e.kind === "toDevice");
    expect(entry?.encrypted).toBe(true);
    expect(JSON.stringify(entry?.content)).not.toContain("sdp");
  });

  it("sends plaintext only in an unencrypted room to a device it cannot encrypt to", async () => {
    const { bob, transport } = setup();
    hs.setDeviceEncryptable(BOB, "BOB", false);
    await transport.send(CallEventType.Invite, { call_id: "c" });
    await hs.flush();
    expect(bob[0]?.encrypted).toBe(false);
  });

  it("in an encrypted room, waits for the device to become encryptable and never sends plaintext", async () => {
    const { bob, transport, clock } = setup({ roomEncrypted: () => true, encryptWaitMs: 1000 });
    hs.setDeviceEncryptable(BOB, "BOB", false);
    let done = false;
    const sent = transport.send(CallEventType.Invite, { call_id: "c" }).then(() => {
      done = true;
    });
    await clock.advance(300);
    expect(done).toBe(false);
    expect(hs.transcript().filter((e) => e.kind === "toDevice")).toEqual([]);
    hs.setDeviceEncryptable(BOB, "BOB", true);
    await clock.advance(500);
    await sent;
    await hs.flush();
    expect(bob.map((e) => e.encrypted)).toEqual([true]);
  });

  it("in an encrypted room, gives up after the wait with send_failed and nothing on the wire", async () => {
    const { transport, clock } = setup({ roomEncrypted: () => true, encryptWaitMs: 1000 });
    hs.setDeviceEncryptable(BOB, "BOB", false);
    const sent = transport.send(CallEventType.Invite, { call_id: "c" });
    const outcome = sent.then(
      () => "sent",
      (error: unknown) => (error as { code?: string }).code,
    );
    await clock.advance(1100);
    expect(await outcome).toBe(VoipErrorCode.SendFailed);
    expect(hs.transcript().filter((e) => e.kind === "toDevice")).toEqual([]);
  });

  it("a send waiting for encryption keys or out a 429 is cancelled by its signal: no timer left, nothing sent", async () => {
    const ended = new VoipError(VoipErrorCode.InvalidState, "cancelled: the call ended");
    // Waiting for the device's keys in an encrypted room.
    const keys = setup({ roomEncrypted: () => true });
    hs.setDeviceEncryptable(BOB, "BOB", false);
    const waitingForKeys = new AbortController();
    const first = keys.transport
      .send(CallEventType.Invite, { call_id: "c" }, { signal: waitingForKeys.signal })
      .catch((error: unknown) => error);
    await keys.clock.advance(100);
    expect(keys.clock.pendingTimers()).toBe(1);
    waitingForKeys.abort(ended);
    expect(keys.clock.pendingTimers()).toBe(0);
    expect(await first).toBe(ended);
    hs.setDeviceEncryptable(BOB, "BOB", true);
    await keys.clock.advance(60_000);
    await hs.flush();
    expect(keys.bob).toEqual([]);
    await hs.close();

    // Waiting out a rate limit.
    const limited = setup();
    hs.setFaults({ rateLimitEvery: 1, retryAfterMs: 3000 });
    const waitingOut429 = new AbortController();
    const second = limited.transport
      .send(CallEventType.Candidates, { call_id: "c" }, { signal: waitingOut429.signal })
      .catch((error: unknown) => error);
    for (let i = 0; i < 100 && limited.clock.pendingTimers() === 0; i++) {
      await hs.flush();
    }
    expect(limited.clock.pendingTimers()).toBe(1);
    waitingOut429.abort(ended);
    expect(limited.clock.pendingTimers()).toBe(0);
    expect(await second).toBe(ended);
    hs.setFaults({});
    await limited.clock.advance(60_000);
    await hs.flush();
    expect(hs.stats.requests).toBe(1); // the 429, nothing after
    expect(limited.bob).toEqual([]);
  });
});
