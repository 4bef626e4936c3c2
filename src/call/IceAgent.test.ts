import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/Logger.js";
import { ManualClock } from "../testing/ManualClock.js";
import type { WireCandidate } from "./CandidateBatcher.js";
import {
  CANDIDATE_BURST_MS,
  FIRST_CANDIDATE_CAP_MS,
  ICE_DISCONNECTED_GRACE_MS,
  ICE_RESTART_TIMEOUT_MS,
  IceAgent,
  MAX_ICE_RESTARTS,
} from "./IceAgent.js";

/** The parts of a peer connection the agent reads. */
class FakePeerConnection {
  public iceGatheringState: RTCIceGathererState = "new";
  public iceConnectionState: RTCIceConnectionState = "new";
  public remoteDescription: RTCSessionDescriptionInit | null = null;
  public readonly added: RTCIceCandidateInit[] = [];
  public failOn: string | undefined;
  /** ICE servers of the configuration (some by default: gathering waits are then not shortened). */
  public iceServers: RTCIceServer[] = [{ urls: "stun:stun.example.org" }];

  public getConfiguration(): RTCConfiguration {
    return { iceServers: this.iceServers };
  }

  public addIceCandidate(candidate: RTCIceCandidateInit): Promise<void> {
    if (candidate.candidate === this.failOn) {
      return Promise.reject(new Error("bad candidate"));
    }
    this.added.push(candidate);
    return Promise.resolve();
  }
}

const local = (i: number): RTCIceCandidate =>
  ({
    candidate: `candidate:${i} 1 udp 1 10.0.0.1 ${5000 + i} typ host`,
    sdpMid: "0",
    sdpMLineIndex: 0,
  }) as RTCIceCandidate;
const localTcp = (i: number): RTCIceCandidate =>
  ({
    candidate: `candidate:${i} 1 tcp 1 10.0.0.1 9 typ host tcptype ${i % 2 === 0 ? "passive" : "active"}`,
    sdpMid: "0",
    sdpMLineIndex: 0,
  }) as RTCIceCandidate;
const tcpWireOf = (i: number): WireCandidate => ({
  candidate: localTcp(i).candidate,
  sdpMid: "0",
  sdpMLineIndex: 0,
});
const wireOf = (i: number): WireCandidate => ({
  candidate: local(i).candidate,
  sdpMid: "0",
  sdpMLineIndex: 0,
});

function setup(
  opts: { fixedWaits?: boolean; pc?: FakePeerConnection | undefined; tcpCandidateDelayMs?: number } = {},
) {
  const clock = new ManualClock();
  const pc = "pc" in opts ? opts.pc : new FakePeerConnection();
  const sent: WireCandidate[][] = [];
  let rechecks = 0;
  const agent = new IceAgent({
    clock,
    logger: silentLogger,
    batchDelayMs: 500,
    candidateFlushMs: 100,
    tcpCandidateDelayMs: opts.tcpCandidateDelayMs ?? 0,
    fixedWaits: opts.fixedWaits ?? false,
    peerConnection: () => pc as unknown as RTCPeerConnection | undefined,
    sendCandidates: (candidates) => {
      sent.push(candidates);
      return Promise.resolve();
    },
    onGiveUp: () => undefined,
    onRecheck: () => {
      rechecks++;
    },
  });
  return { clock, pc: pc!, agent, sent, rechecks: () => rechecks };
}

/** Resolves to the elapsed clock time when `promise` settles, advancing in `stepMs` steps. */
async function elapsedUntil(clock: ManualClock, promise: Promise<void>, stepMs = 10): Promise<number> {
  const start = clock.now();
  let done = false;
  void promise.then(() => {
    done = true;
  });
  await clock.runDue();
  while (!done) {
    await clock.advance(stepMs);
  }
  return clock.now() - start;
}

describe("IceAgent: local candidates", () => {
  it("holds candidates until sending starts, then sends what was gathered at once, later ones after the batch delay", async () => {
    const { clock, agent, sent } = setup();
    agent.onLocalCandidate(local(1));
    agent.onLocalCandidate(local(2));
    await clock.advance(2000);
    expect(sent).toEqual([]);
    agent.startSending();
    await clock.runDue();
    expect(sent).toEqual([[wireOf(1), wireOf(2)]]);
    agent.onLocalCandidate(local(3));
    agent.onLocalCandidate(local(4));
    await clock.advance(499);
    expect(sent).toHaveLength(1);
    await clock.advance(1);
    expect(sent).toEqual([
      [wireOf(1), wireOf(2)],
      [wireOf(3), wireOf(4)],
    ]);
  });

  it("hands the held candidates over once (they go inside the description) and sends only later ones", async () => {
    const { clock, agent, sent } = setup();
    agent.onLocalCandidate(local(1));
    agent.onLocalCandidate(local(2));
    expect(agent.takeHeld()).toEqual([wireOf(1), wireOf(2)]);
    expect(agent.takeHeld()).toEqual([]);
    agent.startSending();
    agent.onLocalCandidate(local(3));
    await clock.runDue();
    expect(sent).toEqual([[wireOf(3)]]);
  });

  it(`waits for the first local candidate (at most ${FIRST_CANDIDATE_CAP_MS} ms), then for its burst until gathering completes (at most ${CANDIDATE_BURST_MS} ms)`, async () => {
    const { clock, pc, agent } = setup();
    pc.iceGatheringState = "gathering";
    agent.onGatheringStateChange();
    const first = agent.waitForCandidates(FIRST_CANDIDATE_CAP_MS);
    await clock.advance(3);
    agent.onLocalCandidate(local(1));
    // The rest of the burst comes within the burst wait and is held too.
    agent.onLocalCandidate(local(2));
    expect(await elapsedUntil(clock, first, 1)).toBe(CANDIDATE_BURST_MS);
    expect(agent.takeHeld()).toEqual([wireOf(1), wireOf(2)]);
    // A candidate was held already: only the burst wait, until gathering completes.
    let done = false;
    void agent.waitForCandidates(FIRST_CANDIDATE_CAP_MS).then(() => {
      done = true;
    });
    agent.onLocalCandidate(local(3));
    await clock.runDue();
    expect(done).toBe(false);
    pc.iceGatheringState = "complete";
    agent.onGatheringStateChange();
    await clock.runDue();
    expect(done).toBe(true);
    // Gathering completed after a candidate (as of its event; the state is not read again): no wait at all.
    pc.iceGatheringState = "gathering";
    expect(await elapsedUntil(clock, agent.waitForCandidates(FIRST_CANDIDATE_CAP_MS))).toBe(0);
    agent.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("does not trust a complete gathering state before any candidate (wrtc reads it late); waits the cap without one", async () => {
    const { clock, pc, agent } = setup();
    // wrtc dispatches the `gathering` event reading `complete`, the candidates still queued behind it.
    const early = agent.waitForCandidates(FIRST_CANDIDATE_CAP_MS);
    pc.iceGatheringState = "complete";
    agent.onGatheringStateChange();
    await clock.advance(1);
    agent.onLocalCandidate(local(1));
    agent.onLocalCandidate(local(2));
    agent.onGatheringStateChange(); // the real `complete`
    expect(await elapsedUntil(clock, early, 1)).toBe(0);
    expect(agent.takeHeld()).toEqual([wireOf(1), wireOf(2)]);
    // No candidate at all: the cap, then the burst wait.
    const { clock: clock2, pc: pc2, agent: none } = setup();
    pc2.iceGatheringState = "complete";
    none.onGatheringStateChange();
    expect(await elapsedUntil(clock2, none.waitForCandidates(FIRST_CANDIDATE_CAP_MS), 1)).toBe(
      FIRST_CANDIDATE_CAP_MS + CANDIDATE_BURST_MS,
    );
    agent.dispose();
    none.dispose();
    expect(clock.pendingTimers()).toBe(0);
    expect(clock2.pendingTimers()).toBe(0);
  });

  it("sends the first candidate of a gathering at once when sending started before it came", async () => {
    const { clock, pc, agent, sent } = setup();
    agent.startSending();
    pc.iceGatheringState = "gathering";
    agent.onGatheringStateChange();
    agent.onLocalCandidate(local(1));
    await clock.runDue();
    expect(sent).toEqual([[wireOf(1)]]);
    // A new gathering (ICE restart): its first candidate goes at once again.
    pc.iceGatheringState = "complete";
    agent.onGatheringStateChange();
    pc.iceGatheringState = "gathering";
    agent.onGatheringStateChange();
    agent.onLocalCandidate(local(2));
    await clock.runDue();
    expect(sent).toEqual([[wireOf(1)], [wireOf(2)]]);
    agent.dispose();
  });

  it("holds candidates while a renegotiation's description is not out, then sends them", async () => {
    const { clock, agent, sent } = setup();
    agent.startSending();
    agent.onLocalCandidate(local(1));
    await clock.runDue();
    agent.holdSending();
    agent.onLocalCandidate(local(2));
    await clock.advance(5000);
    expect(sent).toEqual([[wireOf(1)]]);
    agent.startSending();
    await clock.advance(500);
    expect(sent).toEqual([[wireOf(1)], [wireOf(2)]]);
  });

  it("sends at once on the end-of-candidates marker", async () => {
    const { clock, agent, sent } = setup();
    agent.startSending();
    agent.onLocalCandidate(local(1));
    await clock.runDue();
    agent.onLocalCandidate(local(2));
    agent.onLocalCandidate(null);
    await clock.runDue();
    expect(sent).toEqual([[wireOf(1)], [wireOf(2)]]);
  });
});

describe("IceAgent: gathering", () => {
  it("flushes candidateFlushMs after gathering starts, and at once when it completes", async () => {
    const { clock, pc, agent, sent } = setup();
    agent.startSending();
    pc.iceGatheringState = "gathering";
    agent.onGatheringStateChange();
    agent.onLocalCandidate(local(1));
    await clock.runDue();
    agent.onLocalCandidate(local(2));
    await clock.advance(100);
    expect(sent).toEqual([[wireOf(1)], [wireOf(2)]]);
    agent.onLocalCandidate(local(3));
    pc.iceGatheringState = "complete";
    agent.onGatheringStateChange();
    await clock.runDue();
    expect(sent).toEqual([[wireOf(1)], [wireOf(2)], [wireOf(3)]]);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("cancels the flush timer when gathering completes first", () => {
    const { clock, pc, agent } = setup();
    pc.iceGatheringState = "gathering";
    agent.onGatheringStateChange();
    expect(clock.pendingTimers()).toBe(1);
    pc.iceGatheringState = "complete";
    agent.onGatheringStateChange();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("never waits for gathering by default, whatever the cap, with or without ICE servers", async () => {
    const { clock, pc, agent } = setup();
    pc.iceGatheringState = "gathering";
    expect(await elapsedUntil(clock, agent.referenceGatheringWait(200, false))).toBe(0);
    expect(await elapsedUntil(clock, agent.referenceGatheringWait(200, true))).toBe(0);
    pc.iceServers = [];
    expect(await elapsedUntil(clock, agent.referenceGatheringWait(200, true))).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    agent.dispose();
  });

  it("with fixed waits, waits the whole cap: always when asked to, otherwise only while gathering", async () => {
    const { clock, pc, agent } = setup({ fixedWaits: true });
    pc.iceGatheringState = "complete";
    expect(await elapsedUntil(clock, agent.referenceGatheringWait(300, true))).toBe(300);
    expect(await elapsedUntil(clock, agent.referenceGatheringWait(300, false))).toBe(0);
    pc.iceGatheringState = "gathering";
    const waiting = agent.referenceGatheringWait(300, false);
    pc.iceGatheringState = "complete";
    agent.onGatheringStateChange();
    expect(await elapsedUntil(clock, waiting)).toBe(300);
    const none = setup({ fixedWaits: true, pc: undefined });
    expect(await elapsedUntil(none.clock, none.agent.referenceGatheringWait(200, true))).toBe(0);
  });
});

describe("IceAgent: remote candidates", () => {
  const remote = (i: number) => ({ candidate: `candidate:${i} 1 udp 1 10.0.0.2 ${6000 + i} typ host` });

  it("drops entries without a candidate and fills in sdpMid and sdpMLineIndex", async () => {
    const { pc, agent } = setup();
    agent.remoteDescriptionApplied();
    await agent.handleRemoteCandidates(
      "p1",
      [{ candidate: "" }, remote(1), { ...remote(2), sdpMid: "1" }],
      true,
    );
    expect(pc.added).toEqual([
      { ...remote(1), sdpMid: "", sdpMLineIndex: 0 },
      { ...remote(2), sdpMid: "1", sdpMLineIndex: 0 },
    ]);
  });

  it("buffers candidates until the remote description is set and the party is bound", async () => {
    const { pc, agent } = setup();
    await agent.handleRemoteCandidates("p1", [remote(1)], true);
    agent.remoteDescriptionApplied();
    await agent.handleRemoteCandidates("p1", [remote(2)], false);
    expect(pc.added).toEqual([]);
    await agent.handleRemoteCandidates("p1", [remote(3)], true);
    expect(pc.added.map((c) => c.candidate)).toEqual([remote(3).candidate]);
  });

  it("never reads pc.remoteDescription (in @roamhq/wrtc it serialises the SDP and blocks the JS thread)", async () => {
    const { pc, agent } = setup();
    Object.defineProperty(pc, "remoteDescription", {
      get: () => {
        throw new Error("remoteDescription read");
      },
    });
    await agent.handleRemoteCandidates("p1", [remote(1)], true);
    agent.remoteDescriptionApplied();
    await agent.handleRemoteCandidates("p1", [remote(2)], true);
    await agent.applyBufferedCandidates("p1");
    expect(pc.added.map((c) => c.candidate)).toEqual([remote(2).candidate, remote(1).candidate]);
  });

  it("applies the chosen party's candidates and those without a party, and drops the other parties'", async () => {
    const { pc, agent } = setup();
    await agent.handleRemoteCandidates("p1", [remote(1)], false);
    await agent.handleRemoteCandidates("p2", [remote(2)], false);
    await agent.handleRemoteCandidates(undefined, [remote(3)], false);
    await agent.handleRemoteCandidates("p1", [remote(4)], false);
    await agent.applyBufferedCandidates("p1");
    expect(pc.added.map((c) => c.candidate)).toEqual(
      [remote(1), remote(4), remote(3)].map((c) => c.candidate),
    );
    await agent.applyBufferedCandidates("p2");
    expect(pc.added).toHaveLength(3);
  });

  it("keeps adding after a candidate the peer connection refuses", async () => {
    const { pc, agent } = setup();
    pc.failOn = remote(1).candidate;
    await agent.handleRemoteCandidates(undefined, [remote(1), remote(2)], false);
    await agent.applyBufferedCandidates(undefined);
    expect(pc.added.map((c) => c.candidate)).toEqual([remote(2).candidate]);
  });

  it("drops buffered candidates once ICE connects", async () => {
    const { pc, agent } = setup();
    await agent.handleRemoteCandidates("p1", [remote(1)], false);
    expect(agent.onConnectionState("connected", true)).toBe("connected");
    await agent.applyBufferedCandidates("p1");
    expect(pc.added).toEqual([]);
  });
});

describe("IceAgent: connection", () => {
  it(`restarts ${MAX_ICE_RESTARTS} times in a row, then gives up; a connection starts the count over`, () => {
    const { agent } = setup();
    expect(agent.onConnectionState("checking", true)).toBeUndefined();
    expect(agent.onConnectionState("failed", false)).toBeUndefined();
    const actions = [];
    for (let i = 0; i <= MAX_ICE_RESTARTS; i++) {
      // A disconnection that outlasted its grace counts like a failure.
      actions.push(agent.onConnectionState(i % 2 === 0 ? "failed" : "disconnected", true, true));
    }
    expect(actions).toEqual([...Array<string>(MAX_ICE_RESTARTS).fill("restart"), "give-up"]);
    expect(agent.onConnectionState("completed", true)).toBe("connected");
    expect(agent.onConnectionState("failed", true)).toBe("restart");
  });

  it(`gives a disconnected connection ${ICE_DISCONNECTED_GRACE_MS} ms to recover before asking for a restart`, async () => {
    const { agent, clock, rechecks } = setup();
    expect(agent.onConnectionState("disconnected", true)).toBeUndefined();
    expect(agent.onConnectionState("disconnected", true)).toBeUndefined();
    await clock.advance(ICE_DISCONNECTED_GRACE_MS - 1);
    expect(rechecks()).toBe(0);
    await clock.advance(1);
    expect(rechecks()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
    // A recovery within the grace cancels it.
    expect(agent.onConnectionState("disconnected", true)).toBeUndefined();
    expect(agent.onConnectionState("connected", true)).toBe("connected");
    await clock.advance(ICE_DISCONNECTED_GRACE_MS);
    expect(rechecks()).toBe(1);
    // A failure during the grace restarts at once and cancels it (what is left is the restart's timeout).
    agent.onConnectionState("disconnected", true);
    expect(agent.onConnectionState("failed", true)).toBe("restart");
    expect(clock.pendingTimers()).toBe(1);
    expect(clock.nextTimerIn()).toBe(ICE_RESTART_TIMEOUT_MS);
  });

  it(`gives a restart ${ICE_RESTART_TIMEOUT_MS} ms to connect, then counts it as failed (no new state comes)`, async () => {
    const { agent, clock, rechecks } = setup();
    expect(agent.onConnectionState("failed", true)).toBe("restart");
    // A disconnection during the restart starts no grace of its own: the restart's timeout decides.
    expect(agent.onConnectionState("disconnected", true)).toBeUndefined();
    expect(clock.pendingTimers()).toBe(1);
    await clock.advance(ICE_RESTART_TIMEOUT_MS - 1);
    expect(rechecks()).toBe(0);
    await clock.advance(1);
    expect(rechecks()).toBe(1);
    expect(clock.pendingTimers()).toBe(0);
    // The recheck finds ICE anywhere short of connected (still checking, or stuck in failed): a failure.
    expect(agent.onConnectionState("checking", true, true)).toBe("restart");
    await clock.advance(ICE_RESTART_TIMEOUT_MS);
    expect(rechecks()).toBe(2);
    expect(agent.onConnectionState("failed", true, true)).toBe("restart");
    await clock.advance(ICE_RESTART_TIMEOUT_MS);
    expect(rechecks()).toBe(3);
    expect(agent.onConnectionState("disconnected", true, true)).toBe("give-up");
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(ICE_RESTART_TIMEOUT_MS);
    expect(rechecks()).toBe(3);
  });

  it("a restart that connects cancels its timeout and starts the count over", async () => {
    const { agent, clock, rechecks } = setup();
    expect(agent.onConnectionState("failed", true)).toBe("restart");
    expect(agent.onConnectionState("checking", true)).toBeUndefined();
    expect(agent.onConnectionState("connected", true)).toBe("connected");
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(ICE_RESTART_TIMEOUT_MS);
    expect(rechecks()).toBe(0);
    // A call that is gone (closed) or may not restart yet asks for nothing, recheck or not.
    expect(agent.onConnectionState("closed", true, true)).toBeUndefined();
    expect(agent.onConnectionState("checking", false, true)).toBeUndefined();
    agent.dispose();
    expect(agent.onConnectionState("failed", true)).toBeUndefined();
  });

  it("waits on the clock, and a wait ends early with its timer cleared when the call ends", async () => {
    const { agent, clock } = setup();
    let done = false;
    void agent.wait(1000).then(() => {
      done = true;
    });
    expect(clock.pendingTimers()).toBe(1);
    agent.dispose();
    await Promise.resolve();
    expect(done).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    await agent.wait(1000); // after dispose: resolves at once, no timer
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("IceAgent: dispose", () => {
  it("releases waiters, clears its timers and sends nothing more", async () => {
    const { clock, pc, agent, sent } = setup({ fixedWaits: true });
    pc.iceGatheringState = "gathering";
    agent.onGatheringStateChange();
    agent.onLocalCandidate(local(1));
    const waiting = agent.referenceGatheringWait(10_000, false);
    agent.dispose();
    expect(await elapsedUntil(clock, waiting)).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    agent.onLocalCandidate(local(2));
    await clock.advance(1000);
    expect(sent).toEqual([]);
  });

  it("adds no remote candidate once the call ended (a closed @roamhq/wrtc connection never settles the add)", async () => {
    const { pc, agent } = setup();
    pc.remoteDescription = { type: "offer", sdp: "v=0" };
    agent.dispose();
    await agent.handleRemoteCandidates("PARTY", [{ candidate: local(1).candidate }], true);
    await agent.applyBufferedCandidates("PARTY");
    expect(pc.added).toEqual([]);
  });

  it("gives up when candidates cannot be sent", async () => {
    const clock = new ManualClock();
    let gaveUp = 0;
    const agent = new IceAgent({
      clock,
      logger: silentLogger,
      batchDelayMs: 0,
      candidateFlushMs: 100,
      tcpCandidateDelayMs: 0,
      fixedWaits: false,
      peerConnection: () => undefined,
      sendCandidates: () => Promise.reject(new Error("offline")),
      onGiveUp: () => {
        gaveUp++;
      },
      onRecheck: () => undefined,
    });
    agent.startSending();
    agent.onLocalCandidate(local(1));
    await clock.advance(120_000);
    expect(gaveUp).toBe(1);
    agent.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });
});

describe("IceAgent: TCP candidates held back while UDP may connect", () => {
  const DELAY = 2_000;

  /** An agent whose invite is out: UDP candidate 1 and TCP candidate 11 were gathered before it. */
  async function invited(tcpCandidateDelayMs = DELAY) {
    const t = setup({ tcpCandidateDelayMs });
    t.agent.onLocalCandidate(local(1));
    t.agent.onLocalCandidate(localTcp(11));
    const inSdp = t.agent.takeHeld();
    t.agent.startSending();
    await t.clock.runDue();
    return { ...t, inSdp };
  }

  it("keeps TCP candidates out of the description and the trickle while UDP ones go", async () => {
    const { clock, agent, sent, inSdp } = await invited();
    expect(inSdp).toEqual([wireOf(1)]);
    agent.onLocalCandidate(local(2));
    agent.onLocalCandidate(localTcp(12));
    await clock.advance(DELAY - 1);
    expect(sent).toEqual([[wireOf(2)]]);
    agent.dispose();
  });

  it("releases them in one batch when ICE has not connected within the delay; later ones then go as usual", async () => {
    const { clock, pc, agent, sent } = await invited();
    pc.iceConnectionState = "checking";
    agent.onConnectionState("checking", true);
    agent.onLocalCandidate(localTcp(12));
    await clock.advance(DELAY - 1);
    expect(sent).toEqual([]);
    await clock.advance(1);
    expect(sent).toEqual([[tcpWireOf(11), tcpWireOf(12)]]);
    agent.onLocalCandidate(localTcp(13));
    await clock.advance(500);
    expect(sent).toEqual([[tcpWireOf(11), tcpWireOf(12)], [tcpWireOf(13)]]);
    agent.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });

  it.each(["failed", "disconnected"] as const)(
    "releases them at once when ICE goes %s before it connected",
    async (ice) => {
      const { clock, pc, agent, sent } = await invited();
      await clock.advance(100);
      pc.iceConnectionState = ice;
      agent.onConnectionState(ice, true);
      await clock.runDue();
      expect(sent).toEqual([[tcpWireOf(11)]]);
      agent.dispose();
      expect(clock.pendingTimers()).toBe(0);
    },
  );

  it("drops them when ICE connects first, and later TCP candidates of that gathering too", async () => {
    const { clock, pc, agent, sent } = await invited();
    pc.iceConnectionState = "connected";
    expect(agent.onConnectionState("connected", true)).toBe("connected");
    agent.onLocalCandidate(localTcp(12));
    agent.onLocalCandidate(local(2));
    // Not even a later failure brings them back.
    pc.iceConnectionState = "disconnected";
    agent.onConnectionState("disconnected", false);
    await clock.advance(DELAY * 2);
    expect(sent).toEqual([[wireOf(2)]]);
    agent.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("drops them when the delay ends with ICE connected (a restart that kept the connection up)", async () => {
    const { clock, pc, agent, sent } = await invited();
    pc.iceConnectionState = "completed";
    await clock.advance(DELAY);
    expect(sent).toEqual([]);
    agent.dispose();
  });

  it("an ICE restart (a new gathering) holds its TCP candidates again, the delay counted from its offer", async () => {
    const { clock, pc, agent, sent } = await invited();
    pc.iceConnectionState = "connected";
    agent.onConnectionState("connected", true);
    // The restart: its offer is being made while gathering starts, so the delay starts when it is out.
    agent.holdSending();
    pc.iceGatheringState = "gathering";
    agent.onGatheringStateChange();
    agent.onLocalCandidate(local(3));
    agent.onLocalCandidate(localTcp(13));
    expect(agent.takeHeld()).toEqual([wireOf(3)]);
    await clock.advance(1_000);
    agent.startSending();
    pc.iceConnectionState = "checking";
    agent.onConnectionState("checking", true);
    await clock.advance(DELAY - 1);
    expect(sent).toEqual([]);
    await clock.advance(1);
    expect(sent).toEqual([[tcpWireOf(13)]]);
    agent.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("0 disables it: TCP candidates go inside the description and trickle like any other", async () => {
    const { clock, agent, sent, inSdp } = await invited(0);
    expect(inSdp).toEqual([wireOf(1), tcpWireOf(11)]);
    agent.onLocalCandidate(localTcp(12));
    await clock.advance(500);
    expect(sent).toEqual([[tcpWireOf(12)]]);
    agent.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("leaves no timer behind when the call ends while they are held, and sends nothing after", async () => {
    const { clock, agent, sent } = await invited();
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    agent.dispose();
    expect(clock.pendingTimers()).toBe(0);
    agent.onLocalCandidate(localTcp(12));
    await clock.advance(DELAY * 2);
    expect(sent).toEqual([]);
  });
});
