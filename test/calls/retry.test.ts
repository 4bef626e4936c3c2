import { describe, expect, it } from "vitest";
import { CandidateBatcher, type WireCandidate } from "../../src/call/CandidateBatcher.js";
import type { Logger } from "../../src/core/Logger.js";
import { DEFAULT_RETRY_POLICY, waitOn, type RetryContext } from "../../src/core/retry.js";
import { CallState, CallType, VoipErrorCode, type MatrixClientPort } from "../../src/index.js";
import { LocalHomeserver, ManualClock } from "../../src/testing/index.js";
import { roomSignallingTransport } from "../../src/voip/roomSend.js";
import { connectedCall, deferredCleanup, twoPeers, until, untilState } from "../helpers/calls.js";

const defer = deferredCleanup();
const N = DEFAULT_RETRY_POLICY.maxAttempts;

/** Records every log line as `level message`. */
function recordingLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    child: () => logger,
  };
  return logger;
}

const cand: WireCandidate = {
  candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host",
  sdpMid: "0",
  sdpMLineIndex: 0,
};

/**
 * The outbound stack of a call's candidates with its real layers: the batcher, the library's room transport
 * (429 retries, on a manual clock, no jitter) and `LocalHomeserver`'s port (transport retries).
 */
async function candidateStack(): Promise<{
  hs: LocalHomeserver;
  clock: ManualClock;
  lines: string[];
  givenUp: unknown[];
  batcher: CandidateBatcher;
  client: MatrixClientPort;
  roomId: string;
  retry: RetryContext;
}> {
  const hs = new LocalHomeserver();
  defer(() => hs.close());
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"] });
  const client = hs.createClient("@alice:local", "ALICE");
  const clock = new ManualClock();
  const lines: string[] = [];
  const logger = recordingLogger(lines);
  const retry: RetryContext = {
    wait: waitOn(clock),
    random: { bytes: (n) => new Uint8Array(n) }, // jitter 0: the waits are exact
    logger,
    policy: DEFAULT_RETRY_POLICY,
  };
  const transport = roomSignallingTransport(retry, client, roomId);
  const givenUp: unknown[] = [];
  const batcher = new CandidateBatcher({
    clock,
    logger,
    delayMs: 100,
    send: (candidates) =>
      transport.send("m.call.candidates", { call_id: "c1", party_id: "P", version: "1", candidates }),
    onGiveUp: (error) => givenUp.push(error),
  });
  defer(() => {
    batcher.dispose();
  });
  await hs.flush();
  return { hs, clock, lines, givenUp, batcher, client, roomId, retry };
}

describe("one retry policy: the sends of one logical request are counted", () => {
  it(`one candidate batch under permanent 5xx: exactly ${N} sends (the port's retries), then a clear error, never more`, async () => {
    const { hs, clock, lines, givenUp, batcher } = await candidateStack();
    hs.setFaults({ serverErrorRate: 1 });
    const before = hs.stats.requests;
    batcher.enable();
    batcher.add(cand);
    await clock.advance(100);
    await until(() => givenUp.length === 1, "the batcher to give up");
    expect(hs.stats.requests - before).toBe(N);
    expect(hs.stats.retries).toBe(N - 1);
    expect(givenUp[0]).toMatchObject({ httpStatus: 500 });
    expect(lines).toContain("error could not send ICE candidates; giving up");
    expect(batcher.pending).toEqual([cand]); // kept, not lost
    for (let i = 0; i < 10; i++) {
      await clock.advance(60_000);
    }
    await hs.flush();
    expect(hs.stats.requests - before).toBe(N);
    expect(clock.pendingTimers()).toBe(0);
  });

  it(`one candidate batch under permanent 429 with retry_after_ms: waits exactly that long, ${N} sends, never more`, async () => {
    const { hs, clock, lines, givenUp, batcher } = await candidateStack();
    hs.setFaults({ rateLimitEvery: 1, retryAfterMs: 3000 });
    const before = hs.stats.requests;
    const sends = (): number => hs.stats.requests - before;
    batcher.enable();
    batcher.add(cand);
    await clock.advance(100);
    await until(() => sends() === 1 && clock.pendingTimers() === 1, "the first send");
    for (let attempt = 2; attempt <= N; attempt++) {
      await clock.advance(2999);
      await hs.flush();
      expect(sends()).toBe(attempt - 1); // not a millisecond early
      await clock.advance(1);
      await until(() => sends() === attempt, `send ${attempt}`);
    }
    await until(() => givenUp.length === 1, "the batcher to give up");
    expect(givenUp[0]).toMatchObject({ httpStatus: 429, retryAfterMs: 3000 });
    expect(hs.stats.retries).toBe(0); // the port never retries a 429
    expect(lines.filter((l) => l === "warn request failed, retrying")).toHaveLength(N - 1);
    expect(lines).toContain("warn request failed, giving up");
    for (let i = 0; i < 10; i++) {
      await clock.advance(60_000);
    }
    await hs.flush();
    expect(sends()).toBe(N);
  });

  it("a 4xx (M_FORBIDDEN) is sent once: no layer retries it", async () => {
    const { hs, client, retry } = await candidateStack();
    const outsider = await hs.createRoom({ creator: "@bob:local", members: [] });
    const before = hs.stats.requests;
    const transport = roomSignallingTransport(retry, client, outsider);
    await expect(
      transport.send("m.call.hangup", { call_id: "c", party_id: "P", version: "1" }),
    ).rejects.toMatchObject({ errcode: "M_FORBIDDEN", httpStatus: 403 });
    expect(hs.stats.requests - before).toBe(1);
    expect(hs.stats.retries).toBe(0);
  });

  it(`a real call's hangup under permanent 5xx: exactly ${N} sends, the call still ends locally`, async () => {
    const env = await twoPeers();
    env.hs.setTurnServers(undefined);
    defer(env.close);
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    await env.hs.flush();
    env.hs.setFaults({ serverErrorRate: 1 });
    const before = env.hs.stats.requests;
    await outgoing.hangup();
    expect(outgoing.state).toBe(CallState.Ended);
    await env.hs.flush();
    expect(env.hs.stats.requests - before).toBe(N);
    // A 500 may come after the server applied the request: the retries reuse the transaction id, so the
    // hangup is in the room at most once, however often it was sent.
    const hangups = env.hs.transcript().filter((e) => e.type === "m.call.hangup");
    expect(hangups.length).toBeLessThanOrEqual(1);
    env.hs.setFaults({});
    if (hangups.length === 0) {
      await incoming.hangup();
    }
    await untilState(incoming, CallState.Ended);
  });
});

describe("one budget per send, cancelled when the call ends", () => {
  for (const [rateLimitEvery, nth] of [
    [2, "2nd"],
    [3, "3rd"],
    [4, "4th"],
  ] as const) {
    it(`a send meeting both 5xx and 429 (every ${nth} request a 429, the rest 5xx): exactly ${N} requests in all`, async () => {
      const { hs, clock, client, roomId, retry } = await candidateStack();
      hs.setFaults({ serverErrorRate: 1, rateLimitEvery, retryAfterMs: 1000 });
      const before = hs.stats.requests;
      const transport = roomSignallingTransport(retry, client, roomId);
      const sent = transport
        .send("m.call.hangup", { call_id: "c", party_id: "P", version: "1" })
        .catch((error: unknown) => error);
      let settled = false;
      void sent.then(() => (settled = true));
      for (let i = 0; i < 50 && !settled; i++) {
        await hs.flush();
        await clock.advance(1000);
      }
      expect(await sent).toMatchObject({ httpStatus: expect.any(Number) as number });
      expect(hs.stats.requests - before).toBe(N);
      for (let i = 0; i < 5; i++) {
        await clock.advance(60_000);
      }
      await hs.flush();
      expect(hs.stats.requests - before).toBe(N);
      expect(clock.pendingTimers()).toBe(0);
    });
  }

  it("a send waiting out a 429 when the call is hung up: cancelled, never sent, no timer left", async () => {
    const clock = new ManualClock();
    const env = await twoPeers({ alice: { voip: { clock } } });
    env.hs.setTurnServers(undefined);
    defer(env.close);
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    await env.hs.flush();
    env.hs.setFaults({ rateLimitEvery: 1, retryAfterMs: 3000 });
    const before = env.hs.stats.requests;
    const timersBefore = clock.pendingTimers();
    const identity = outgoing
      .sendAssertedIdentity({ displayName: "Reception" })
      .catch((error: unknown) => error);
    await until(
      () => env.hs.stats.requests - before === 1 && clock.pendingTimers() === timersBefore + 1,
      "the 429 and its wait",
    );
    env.hs.setFaults({});
    await outgoing.hangup();
    expect(clock.pendingTimers()).toBe(0); // the 429 wait's timer is cleared with the call's own
    expect(await identity).toMatchObject({ code: VoipErrorCode.InvalidState, message: /cancelled/ });
    await untilState(incoming, CallState.Ended);
    for (let i = 0; i < 5; i++) {
      await clock.advance(60_000);
    }
    await env.hs.flush();
    expect(env.hs.stats.requests - before).toBe(2); // the 429, then the hangup
    const sent = env.hs.transcript().map((e) => e.type);
    expect(sent).toContain("m.call.hangup");
    expect(sent).not.toContain("m.call.asserted_identity");
    expect(sent).not.toContain("org.matrix.call.asserted_identity");
  });
});
