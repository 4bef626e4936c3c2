import { afterEach, describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType } from "../../src/index.js";
import { LocalHomeserver, ManualClock } from "../../src/testing/index.js";
import {
  connectedCall,
  expectMediaFlows,
  makePeer,
  nextIncomingCall,
  twoPeers,
  until,
  untilState,
} from "../helpers/calls.js";

type Env = Awaited<ReturnType<typeof twoPeers>>;
let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

const ufrag = (sdp: unknown): string | undefined => /a=ice-ufrag:(\S+)/.exec(String(sdp))?.[1];

/** Wraps a peer's createPeerConnection to record configs and keep the connections. */
function recordPeerConnections(peer: Pick<Env["alice"], "delegate">): {
  configs: RTCConfiguration[];
  pcs: RTCPeerConnection[];
} {
  const configs: RTCConfiguration[] = [];
  const pcs: RTCPeerConnection[] = [];
  const create = peer.delegate.createPeerConnection.bind(peer.delegate);
  peer.delegate.createPeerConnection = async (config) => {
    configs.push(config);
    const pc = await create(config);
    pcs.push(pc);
    return pc;
  };
  return { configs, pcs };
}

/**
 * Makes `peer`'s local candidates come late, as a STUN or TURN server's do: every candidate event after the first
 * candidate, and every gathering state event, reaches the call `ms` later. The invite or answer then leaves before gathering
 * completes, with the first candidate only.
 */
function lateCandidates(peer: Pick<Env["alice"], "delegate">, ms: number): void {
  const create = peer.delegate.createPeerConnection.bind(peer.delegate);
  peer.delegate.createPeerConnection = async (config) => {
    const pc = await create(config);
    const add = pc.addEventListener.bind(pc);
    let candidates = 0;
    const late = (type: string, listener: EventListener): EventListener =>
      type === "icecandidate" || type === "icegatheringstatechange"
        ? (event) => {
            if (
              type === "icecandidate" &&
              (event as RTCPeerConnectionIceEvent).candidate &&
              candidates++ === 0
            ) {
              listener(event);
              return;
            }
            setTimeout(() => {
              listener(event);
            }, ms);
          }
        : listener;
    Object.defineProperty(pc, "addEventListener", {
      value: (type: string, listener: EventListener) => {
        add(type, late(type, listener));
      },
    });
    return pc;
  };
}

/**
 * A peer-connection wrapper for `peer`'s next connection whose `iceConnectionState` can be forced (whatever really
 * happens), counting `restartIce()` calls.
 */
function overridableIceState(peer: Pick<Env["alice"], "delegate">): {
  force: (state: RTCIceConnectionState | undefined) => void;
  announce: () => void;
  restarts: () => number;
} {
  let forced: RTCIceConnectionState | undefined;
  let restarts = 0;
  let real: RTCPeerConnection | undefined;
  const create = peer.delegate.createPeerConnection.bind(peer.delegate);
  peer.delegate.createPeerConnection = async (config) => {
    const pc = await create(config);
    real = pc;
    return new Proxy(pc, {
      get(target, prop) {
        if (prop === "iceConnectionState" && forced !== undefined) {
          return forced;
        }
        if (prop === "restartIce") {
          return () => {
            restarts++;
            target.restartIce();
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  };
  return {
    force: (state) => {
      forced = state;
    },
    announce: () => real?.dispatchEvent(new Event("iceconnectionstatechange")),
    restarts: () => restarts,
  };
}

describe("ICE", () => {
  it("restarts ICE with a new ufrag over m.call.negotiate, and media keeps flowing", async () => {
    env = await twoPeers();
    const { outgoing, incoming } = await connectedCall(env, CallType.Video);
    const invite = env.hs.transcript().find((e) => e.type === "m.call.invite");
    const before = ufrag((invite?.content.offer as { sdp: string }).sdp);
    await outgoing.restartIce();
    await until(
      () => env!.hs.transcript().some((e) => e.type === "m.call.negotiate" && e.sender === env!.alice.userId),
      "negotiate offer",
    );
    const negotiate = env.hs
      .transcript()
      .find((e) => e.type === "m.call.negotiate" && e.sender === env!.alice.userId);
    const description = negotiate?.content.description as { type: string; sdp: string };
    expect(description.type).toBe("offer");
    expect(ufrag(description.sdp)).not.toBe(before);
    await until(
      () => env!.hs.transcript().some((e) => e.type === "m.call.negotiate" && e.sender === env!.bob.userId),
      "negotiate answer",
    );
    await expectMediaFlows(incoming);
    await expectMediaFlows(outgoing);
    expect(outgoing.state).toBe(CallState.Connected);
    expect(incoming.state).toBe(CallState.Connected);
  });

  it("restarts ICE up to 3 times when it fails, then hangs up with ice_failed", async () => {
    env = await twoPeers();
    const ice = overridableIceState(env.alice);
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    ice.force("failed");
    for (let i = 0; i < 4 && outgoing.state !== CallState.Ended; i++) {
      ice.announce();
      await new Promise((r) => setTimeout(r, 50));
    }
    await untilState(outgoing, CallState.Ended);
    expect(outgoing.hangupReason).toBe(CallErrorCode.IceFailed);
    expect(ice.restarts()).toBe(3);
    await untilState(incoming, CallState.Ended);
    expect(incoming.hangupReason).toBe(CallErrorCode.IceFailed);
    const hangup = env.hs.transcript().find((e) => e.type === "m.call.hangup");
    expect(hangup?.content.reason).toBe("ice_failed");
  });

  it("gives a disconnected connection 2 s to recover before restarting ICE", async () => {
    const hs = new LocalHomeserver();
    hs.setTurnServers(undefined);
    const clock = new ManualClock();
    env = await twoPeers({ hs, alice: { voip: { clock } }, bob: { voip: { clock } } });
    const ice = overridableIceState(env.alice);
    const { outgoing } = await connectedCall(env, CallType.Voice);
    // Recovers within the grace: no restart, even once the grace is over.
    ice.force("disconnected");
    ice.announce();
    await clock.advance(1_500);
    ice.force(undefined);
    ice.announce();
    await clock.advance(1_000);
    expect(ice.restarts()).toBe(0);
    // Stays disconnected: one restart exactly when the 2 s are over.
    ice.force("disconnected");
    ice.announce();
    await clock.advance(1_999);
    expect(ice.restarts()).toBe(0);
    await clock.advance(1);
    await until(() => ice.restarts() === 1, "one restart after the grace");
    ice.force(undefined);
    await until(() => env!.hs.transcript().some((e) => e.type === "m.call.negotiate"), "restart offer");
    expect(outgoing.state).toBe(CallState.Connected);
    expect(ice.restarts()).toBe(1);
  });

  it("trickles candidates in m.call.candidates batches when the SDP leaves before gathering", async () => {
    const timeouts = {
      iceGatheringDelayMs: 0,
      answerDelayMs: 0,
      candidateBatchIncomingMs: 50,
      candidateBatchOutgoingMs: 50,
    };
    env = await twoPeers({ alice: { voip: { timeouts } }, bob: { voip: { timeouts } } });
    env.hs.setTurnServers(undefined);
    lateCandidates(env.alice, 20);
    lateCandidates(env.bob, 20);
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    // The invite and the answer left with the first candidate each.
    for (const type of ["m.call.invite", "m.call.answer"]) {
      const content = env.hs.transcript().find((e) => e.type === type)?.content;
      const description = (content?.offer ?? content?.answer) as { sdp?: unknown } | undefined;
      const sdp = typeof description?.sdp === "string" ? description.sdp : "";
      expect(sdp.split("\r\n").filter((l) => l.startsWith("a=candidate:"))).toHaveLength(1);
    }
    const sentBy = (userId: string): boolean =>
      env!.hs.transcript().some((e) => e.type === "m.call.candidates" && e.sender === userId);
    // ICE may connect on one side's candidates alone; the other side's batch follows within its delay.
    await until(() => sentBy(env!.alice.userId) && sentBy(env!.bob.userId), "candidates from both sides");
    const batches = env.hs.transcript().filter((e) => e.type === "m.call.candidates");
    for (const batch of batches) {
      const candidates = batch.content.candidates as {
        candidate: string;
        sdpMid: string;
        sdpMLineIndex: number;
      }[];
      expect(candidates.length).toBeGreaterThan(0);
      for (const c of candidates) {
        expect(c.candidate).toMatch(/^candidate:/);
        expect(typeof c.sdpMid).toBe("string");
        expect(typeof c.sdpMLineIndex).toBe("number");
      }
    }
    await expectMediaFlows(incoming, { video: false });
    await expectMediaFlows(outgoing, { video: false });
  });

  it("uses the homeserver's TURN servers for the peer connection (D11)", async () => {
    env = await twoPeers();
    const recorded = recordPeerConnections(env.alice);
    await connectedCall(env, CallType.Voice);
    expect(env.hs.stats.turnRequests).toBeGreaterThanOrEqual(1);
    const server = recorded.configs[0]?.iceServers?.[0];
    expect(server?.urls).toEqual(["turn:127.0.0.1:3478?transport=udp"]);
    expect(server?.username).toMatch(/:@alice:local$/);
    expect(typeof server?.credential).toBe("string");
  });

  it("tolerates an empty uris list from the homeserver", async () => {
    env = await twoPeers();
    env.hs.setTurnServers({ uris: [] });
    const recorded = recordPeerConnections(env.alice);
    const { incoming } = await connectedCall(env, CallType.Voice);
    expect(recorded.configs[0]?.iceServers).toEqual([]);
    await expectMediaFlows(incoming, { video: false });
  });
});

describe("TURN refresh (D11)", () => {
  it("refetches TURN credentials before their ttl runs out while a call runs, and an ICE restart uses them", async () => {
    const hs = new LocalHomeserver();
    const turn = (username: string) => ({ uris: ["turn:127.0.0.1:3478"], username, password: "p", ttl: 60 });
    hs.setTurnServers(turn("first"));
    const clock = new ManualClock();
    const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"] });
    const alice = makePeer(hs, "@alice:local", "ALICE", { voip: { clock } });
    const bob = makePeer(hs, "@bob:local", "BOB");
    const recorded = recordPeerConnections(alice);
    try {
      const ringing = nextIncomingCall(bob);
      const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
      // The TURN server does not exist, so gathering never completes: the (manual) gathering cap sends the invite.
      for (let i = 0; i < 100 && outgoing.state !== CallState.InviteSent; i++) {
        await new Promise((r) => setTimeout(r, 20));
        await clock.advance(50);
      }
      const incoming = await ringing;
      await incoming.answer();
      await untilState(outgoing, CallState.Connected);
      expect(hs.stats.turnRequests).toBe(2); // one per side
      const pc = recorded.pcs[0]!;
      expect(pc.getConfiguration().iceServers?.[0]?.username).toBe("first");

      hs.setTurnServers(turn("second"));
      await clock.advance(53_000);
      expect(hs.stats.turnRequests).toBe(2);
      await clock.advance(1_000); // 90% of the 60 s ttl
      await until(() => hs.stats.turnRequests === 3, "the refresh request");
      await outgoing.restartIce();
      expect(pc.getConfiguration().iceServers?.[0]?.username).toBe("second");
      await until(() => hs.transcript().some((e) => e.type === "m.call.negotiate"), "restart offer");
    } finally {
      await Promise.all([alice.voip.dispose(), bob.voip.dispose()]);
      await hs.close();
    }
  });
});
