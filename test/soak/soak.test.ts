// Soak: many 1:1 calls over LocalHomeserver with loss, 429 and 5xx faults (plus reordered and duplicated
// to-device traffic), then many clean calls in a row; every call connects or ends with a named reason within a
// bound, and afterwards nothing is left: peer connections, media tracks, clock timers and listeners are counted
// through a counting delegate and a counting clock. `npm test` runs a small size; `npm run soak` the full one
// (SOAK_FAULTY=50 SOAK_CLEAN=200).
import { describe, expect, it } from "vitest";
import { CallState, CallType, systemClock, type CallSession, type Clock } from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import { makePeer, nextIncomingCall, type Peer, until } from "../helpers/calls.js";

const FAULTY = Number(process.env.SOAK_FAULTY ?? 6);
const CLEAN = Number(process.env.SOAK_CLEAN ?? 10);
/** Bound for one call to reach Connected or Ended. */
const CALL_BOUND_MS = 45_000;

/** A clock that counts its live timers. */
function countingClock(): { clock: Clock; live: () => number } {
  const live = new Set<unknown>();
  const clock: Clock = {
    now: () => systemClock.now(),
    setTimeout: (fn, ms) => {
      const handle = systemClock.setTimeout(() => {
        live.delete(handle);
        fn();
      }, ms);
      live.add(handle);
      return handle;
    },
    setInterval: (fn, ms) => {
      const handle = systemClock.setInterval(fn, ms);
      live.add(handle);
      return handle;
    },
    clearTimer: (handle) => {
      live.delete(handle);
      systemClock.clearTimer(handle);
    },
  };
  return { clock, live: () => live.size };
}

/** A Node delegate that remembers every peer connection and media track it handed out. */
function countingDelegate(): {
  options: Parameters<typeof createNodeDelegate>[0];
  livePeerConnections: () => number;
  liveTracks: () => number;
  created: () => { pcs: number; tracks: number };
} {
  const pcs: RTCPeerConnection[] = [];
  const tracks: MediaStreamTrack[] = [];
  const base = createNodeDelegate({ video: false });
  return {
    options: {
      video: false,
      createPeerConnection: async (config) => {
        const pc = await base.createPeerConnection(config);
        pcs.push(pc);
        return pc;
      },
      mediaDevices: {
        getUserMedia: async (constraints) => {
          const stream = await base.mediaDevices.getUserMedia(constraints);
          tracks.push(...stream.getTracks());
          return stream;
        },
      },
    },
    livePeerConnections: () => pcs.filter((pc) => pc.signalingState !== "closed").length,
    liveTracks: () => tracks.filter((t) => t.readyState !== "ended").length,
    created: () => ({ pcs: pcs.length, tracks: tracks.length }),
  };
}

interface Side {
  peer: Peer;
  delegate: ReturnType<typeof countingDelegate>;
  clock: ReturnType<typeof countingClock>;
}

async function setup(): Promise<{ hs: LocalHomeserver; roomId: string; alice: Side; bob: Side }> {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], isDirect: true });
  const side = (user: string, device: string): Side => {
    const delegate = countingDelegate();
    const clock = countingClock();
    const peer = makePeer(hs, user, device, { delegate: delegate.options, voip: { clock: clock.clock } });
    return { peer, delegate, clock };
  };
  return { hs, roomId, alice: side("@alice:local", "ALICE"), bob: side("@bob:local", "BOB") };
}

type Outcome = "connected" | `ended:${string}` | "hung";

/** One call: alice invites, bob answers; resolves with how far it got within the bound, then ends it. */
async function oneCall(env: Awaited<ReturnType<typeof setup>>): Promise<Outcome> {
  const { alice, bob, roomId } = env;
  const ringing = nextIncomingCall(bob.peer, CALL_BOUND_MS).catch(() => undefined);
  let outgoing: CallSession;
  try {
    outgoing = await alice.peer.voip.inviteToCall(roomId, CallType.Voice, bob.peer.userId);
  } catch {
    return "ended:send_failed";
  }
  const incoming = await ringing;
  if (incoming?.state === CallState.Ringing) {
    await incoming.answer().catch(() => undefined);
  }
  const settled = (c: CallSession | undefined) =>
    !c || c.state === CallState.Connected || c.state === CallState.Ended;
  try {
    await until(() => settled(outgoing) && settled(incoming), "the call to connect or end", CALL_BOUND_MS);
  } catch {
    return "hung";
  }
  const outcome: Outcome =
    outgoing.state === CallState.Connected
      ? "connected"
      : (`ended:${outgoing.hangupReason ?? "none"}` as Outcome);
  if (outgoing.state !== CallState.Ended) {
    await outgoing.hangup().catch(() => undefined);
  }
  await until(
    () => outgoing.state === CallState.Ended && (!incoming || incoming.state === CallState.Ended),
    "both sides to end",
    CALL_BOUND_MS,
  ).catch(() => undefined);
  return outcome;
}

async function expectNothingLeft(env: Awaited<ReturnType<typeof setup>>): Promise<void> {
  const sides = [env.alice, env.bob];
  const left = () =>
    sides.map((s) => ({
      calls: s.peer.voip.calls.size,
      peerConnections: s.delegate.livePeerConnections(),
      tracks: s.delegate.liveTracks(),
      timers: s.clock.live(),
      listeners: (["incomingCall", "outgoingCall", "callEnded", "missedCall"] as const).reduce(
        (n, e) => n + s.peer.voip.listenerCount(e),
        0,
      ),
    }));
  const none = { calls: 0, peerConnections: 0, tracks: 0, timers: 0, listeners: 0 };
  await until(
    () => JSON.stringify(left()) === JSON.stringify([none, none]),
    "resources released",
    10_000,
  ).catch(() => undefined);
  expect(left()).toEqual([none, none]);
}

describe("soak", () => {
  it(
    `${FAULTY} calls under loss, 429 and 5xx each connect or end with a reason`,
    async () => {
      const env = await setup();
      env.hs.setFaults({
        lossRate: 0.1,
        serverErrorRate: 0.05,
        rateLimitEvery: 7,
        retryAfterMs: 20,
        reorder: true,
        duplicateRate: 0.1,
      });
      const outcomes: Outcome[] = [];
      for (let i = 0; i < FAULTY; i++) {
        outcomes.push(await oneCall(env));
      }
      const counts: Record<string, number> = {};
      for (const o of outcomes) {
        counts[o] = (counts[o] ?? 0) + 1;
      }
      const { injectedFailures, rateLimited, retries } = env.hs.stats;
      console.log(`[soak] faulty: ${JSON.stringify(counts)}`, { injectedFailures, rateLimited, retries });
      // The faults really happened.
      expect(injectedFailures + rateLimited).toBeGreaterThan(0);
      expect(outcomes).not.toContain("hung");
      expect(outcomes.filter((o) => o === "ended:none")).toEqual([]);
      env.hs.setFaults({});
      await expectNothingLeft(env);
      await Promise.all([env.alice.peer.voip.dispose(), env.bob.peer.voip.dispose()]);
      await env.hs.close();
    },
    60_000 + FAULTY * CALL_BOUND_MS,
  );

  it(
    `${CLEAN} calls in a row leave no peer connection, track, timer or listener`,
    async () => {
      const env = await setup();
      for (let i = 0; i < CLEAN; i++) {
        expect(await oneCall(env)).toBe("connected");
      }
      expect(env.alice.delegate.created().pcs).toBe(CLEAN);
      expect(env.bob.delegate.created().tracks).toBeGreaterThanOrEqual(CLEAN);
      await expectNothingLeft(env);
      await Promise.all([env.alice.peer.voip.dispose(), env.bob.peer.voip.dispose()]);
      await env.hs.close();
    },
    60_000 + CLEAN * 10_000,
  );
});
