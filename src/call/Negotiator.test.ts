import { afterEach, describe, expect, it } from "vitest";
import { VoipErrorCode, type VoipError } from "../core/errors.js";
import { silentLogger } from "../core/Logger.js";
import { loadWrtc } from "../node/wrtc.js";
import { ManualClock } from "../testing/ManualClock.js";
import type { CallContext } from "./CallContext.js";
import type { CallMedia } from "./CallMedia.js";
import type { CallSignaller } from "./CallSignaller.js";
import { IceAgent } from "./IceAgent.js";
import { Negotiator } from "./Negotiator.js";
import { CallDirection, CallErrorCode, CallState } from "./types.js";

const pcs: RTCPeerConnection[] = [];
afterEach(() => {
  for (const pc of pcs.splice(0)) {
    pc.close();
  }
});

/** A real peer connection with one audio transceiver. */
function peerConnection(): RTCPeerConnection {
  const pc = new (loadWrtc().RTCPeerConnection)({ iceServers: [] });
  pcs.push(pc);
  pc.addTransceiver("audio");
  return pc;
}

/** An offer from a remote peer connection. */
async function remoteOffer(): Promise<{ type: "offer"; sdp: string }> {
  const offer = await peerConnection().createOffer();
  return { type: "offer", sdp: offer.sdp ?? "" };
}

function setup(direction: CallDirection, state: CallState, pc = peerConnection(), gatheringDelayMs = 0) {
  const clock = new ManualClock();
  const candidates: string[][] = [];
  const sent: [string, string][] = [];
  const errors: VoipError[] = [];
  const hangups: CallErrorCode[] = [];
  const holds: unknown[] = [];
  const transitions: CallState[] = [];
  const invitesSent: number[] = [];
  let current = state;
  const send = (kind: string) => (sdp: string) => {
    sent.push([kind, sdp]);
    return Promise.resolve();
  };
  const signaller = {
    sendInvite: send("invite"),
    sendAnswer: send("answer"),
    sendNegotiateOffer: send("negotiate-offer"),
    sendNegotiateAnswer: send("negotiate-answer"),
  } as unknown as CallSignaller;

  const media = {
    metadata: () => ({}),
    applyRemoteMetadata: () => undefined,
    // As in CallMedia, the hold state follows the applied descriptions: our applied answer puts us on hold here.
    isLocalOnHold: () => pc.signalingState === "stable" && pc.remoteDescription?.type === "offer",
    isRemoteOnHold: () => false,
  } as unknown as CallMedia;
  const ice = new IceAgent({
    clock,
    logger: silentLogger,
    batchDelayMs: 0,
    candidateFlushMs: 100,
    tcpCandidateDelayMs: 2_000,
    fixedWaits: false,
    peerConnection: () => pc,
    sendCandidates: (batch) => {
      sent.push(["candidates", ""]);
      candidates.push(batch.map((c) => c.candidate));
      return Promise.resolve();
    },
    onGiveUp: () => undefined,
    onRecheck: () => undefined,
  });
  // Local candidates reach the agent as in a call (the invite and the answer carry the first one).
  pc.addEventListener("icecandidate", (e) => {
    ice.onLocalCandidate(e.candidate);
  });
  pc.addEventListener("icegatheringstatechange", () => {
    ice.onGatheringStateChange();
  });
  const ctx = {
    clock,
    timeouts: {
      delayBeforeOfferMs: 0,
      iceGatheringDelayMs: gatheringDelayMs,
      answerDelayMs: gatheringDelayMs,
    },
  } as unknown as CallContext;
  const negotiator = new Negotiator({
    ctx,
    log: silentLogger,
    direction,
    ice,
    signaller,
    media,
    peerConnection: () => pc,
    state: () => current,
    transition: (to) => {
      transitions.push(to);
      current = to;
    },
    emit: (event, ...args) => {
      if (event === "error") {
        errors.push(args[0] as VoipError);
      } else if (event === "holdChanged") {
        holds.push(args[0]);
      }
    },
    hangup: (reason) => {
      hangups.push(reason);
      current = CallState.Ended;
      return Promise.resolve();
    },
    inviteAddress: () => ({ userId: "@bob:test" }),
    remotePartyId: () => "THEIRPARTY",
    onInviteSent: () => invitesSent.push(clock.now()),
  });
  return { pc, clock, ice, negotiator, sent, candidates, errors, hangups, holds, transitions, invitesSent };
}

/**
 * `pc` behind a proxy that throws on `localDescription` (its native getter crashes @roamhq/wrtc now and then,
 * node-webrtc issue 696) and records the SDPs that createOffer/createAnswer returned.
 */
function guarded(pc: RTCPeerConnection): { pc: RTCPeerConnection; created: string[] } {
  const created: string[] = [];
  const proxy = new Proxy(pc, {
    get(target, prop) {
      if (prop === "localDescription") {
        throw new Error("localDescription read");
      }
      if (prop === "createOffer" || prop === "createAnswer") {
        return async () => {
          const description = await target[prop]();
          created.push(description.sdp ?? "");
          return description;
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { pc: proxy, created };
}

/** Whether a candidate line (`candidate:…` or `a=candidate:…`) is an ICE-TCP one. */
function isTcpLine(line: string): boolean {
  return / tcp /i.test(line);
}

/** `sdp` without its `a=candidate` lines. */
function withoutCandidates(sdp: string): string {
  return sdp
    .split("\r\n")
    .filter((l) => !l.startsWith("a=candidate:"))
    .join("\r\n");
}

describe("Negotiator: offers", () => {
  it("sends the caller's first offer as the invite and moves to invite_sent", async () => {
    const t = setup(CallDirection.Outgoing, CallState.CreateOffer);
    await t.negotiator.onNegotiationNeeded();
    expect(t.sent.map(([kind]) => kind)).toEqual(["invite"]);
    expect(t.sent[0]?.[1]).toContain("m=audio");
    expect(t.transitions).toEqual([CallState.InviteSent]);
    expect(t.invitesSent).toHaveLength(1);
    expect(t.negotiator.inviteOnTheWire).toBe(true);
    expect(t.negotiator.inviteOrAnswerSent).toBe(true);
  });

  it("sends later offers as m.call.negotiate, and none before the callee answered", async () => {
    const callee = setup(CallDirection.Incoming, CallState.Ringing);
    await callee.negotiator.onNegotiationNeeded();
    expect(callee.sent).toEqual([]);

    const caller = setup(CallDirection.Outgoing, CallState.CreateOffer);
    await caller.negotiator.onNegotiationNeeded();
    await caller.pc.setLocalDescription({ type: "rollback" });
    await caller.negotiator.onNegotiationNeeded();
    expect(caller.sent.map(([kind]) => kind)).toEqual(["invite", "negotiate-offer"]);
    expect(caller.transitions).toEqual([CallState.InviteSent]);
  });

  it("ends the call with local_offer_failed when the offer cannot be sent", async () => {
    const t = setup(CallDirection.Outgoing, CallState.CreateOffer);
    (t.pc as { createOffer: unknown }).createOffer = () => Promise.reject(new Error("no offer"));
    await t.negotiator.onNegotiationNeeded();
    expect(t.errors.map((e) => e.code)).toEqual([VoipErrorCode.LocalOfferFailed]);
    expect(t.hangups).toEqual([CallErrorCode.LocalOfferFailed]);
    expect(t.sent).toEqual([]);
  });
});

describe("Negotiator: descriptions go out as created, candidates trickle", () => {
  it("the invite is what createOffer returned plus the first burst of candidates; later ones follow as m.call.candidates", async () => {
    const { pc, created } = guarded(peerConnection());
    const t = setup(CallDirection.Outgoing, CallState.CreateOffer, pc, 200);
    const gathered: string[] = [];
    const complete = new Promise<void>((resolve) => {
      pc.addEventListener("icecandidate", (e) => {
        if (e.candidate) {
          gathered.push(e.candidate.candidate);
        } else {
          resolve();
        }
      });
    });
    const start = t.clock.now();
    await t.negotiator.onNegotiationNeeded(); // the 200 ms gathering cap is never waited: the clock does not move
    expect(t.clock.now()).toBe(start);
    expect(t.sent.map(([kind]) => kind)).toEqual(["invite"]);
    const invite = t.sent[0]![1];
    const inSdp = invite.split("\r\n").filter((l) => l.startsWith("a=candidate:"));
    expect(inSdp.length).toBeGreaterThanOrEqual(1);
    expect(withoutCandidates(invite)).toBe(created[0]);
    await complete;
    await t.clock.runDue();
    await t.clock.advance(1000);
    // The TCP candidates are held back while UDP may connect: not in the invite, not trickled yet.
    expect(gathered.filter(isTcpLine).length).toBeGreaterThan(0);
    expect(inSdp.filter(isTcpLine)).toEqual([]);
    expect(t.candidates.flat().filter(isTcpLine)).toEqual([]);
    // ICE did not connect within the 2 s: they follow in one batch.
    await t.clock.advance(1000);
    expect(t.candidates.at(-1)).toEqual(gathered.filter(isTcpLine));
    // Every gathered candidate went exactly once: inside the invite or in m.call.candidates.
    const trickled = t.candidates.flat();
    expect([...inSdp.map((l) => l.slice(2)), ...trickled].sort()).toEqual([...gathered].sort());
    t.ice.dispose();
    expect(t.clock.pendingTimers()).toBe(0);
  });

  it.each(["invite", "answer"] as const)(
    "the %s carries no TCP candidate gathered before it while they are held back",
    async (kind) => {
      const pc = peerConnection();
      if (kind === "answer") {
        await pc.setRemoteDescription(await remoteOffer());
      }
      const t =
        kind === "invite"
          ? setup(CallDirection.Outgoing, CallState.CreateOffer, pc)
          : setup(CallDirection.Incoming, CallState.Ringing, pc);
      const tcp = "candidate:9 1 tcp 1518280447 192.0.2.2 9 typ host tcptype passive generation 0";
      t.ice.onLocalCandidate({ candidate: tcp, sdpMid: "0", sdpMLineIndex: 0 } as RTCIceCandidate);
      await (kind === "invite" ? t.negotiator.onNegotiationNeeded() : t.negotiator.answer());
      const description = t.sent.find(([k]) => k === kind)![1];
      expect(description).toContain("a=candidate:");
      expect(description).not.toContain(tcp);
      await t.clock.advance(1_999);
      expect(t.candidates.flat()).not.toContain(tcp);
      t.ice.dispose();
      expect(t.clock.pendingTimers()).toBe(0);
    },
  );

  it("the answer and a renegotiation answer are what createAnswer returned", async () => {
    const { pc, created } = guarded(peerConnection());
    await pc.setRemoteDescription(await remoteOffer());
    const t = setup(CallDirection.Incoming, CallState.Ringing, pc, 200);
    const start = t.clock.now();
    await t.negotiator.answer();
    expect(t.clock.now()).toBe(start);
    t.transitions.length = 0;
    await t.negotiator.handleNegotiate(await remoteOffer(), undefined);
    expect(t.errors).toEqual([]);
    expect(
      t.sent.filter(([kind]) => kind !== "candidates").map(([kind, sdp]) => [kind, withoutCandidates(sdp)]),
    ).toEqual([
      ["answer", created[0]],
      ["negotiate-answer", created[1]],
    ]);
    expect(t.sent[0]?.[1]).toContain("a=candidate:");
    t.ice.dispose();
  });

  it("a renegotiation offer is what createOffer returned", async () => {
    const { pc, created } = guarded(peerConnection());
    const t = setup(CallDirection.Outgoing, CallState.CreateOffer, pc);
    await t.negotiator.onNegotiationNeeded();
    await pc.setLocalDescription({ type: "rollback" });
    await t.negotiator.onNegotiationNeeded();
    expect(t.errors).toEqual([]);
    expect(
      t.sent.filter(([kind]) => kind !== "candidates").map(([kind, sdp]) => [kind, withoutCandidates(sdp)]),
    ).toEqual([
      ["invite", created[0]],
      ["negotiate-offer", created[1]],
    ]);
    t.ice.dispose();
  });
});

describe("Negotiator: answering", () => {
  it("answers the ringing call: create_answer, connecting, then m.call.answer", async () => {
    const pc = peerConnection();
    await pc.setRemoteDescription(await remoteOffer());
    const t = setup(CallDirection.Incoming, CallState.Ringing, pc);
    await t.negotiator.answer();
    expect(t.transitions).toEqual([CallState.CreateAnswer, CallState.Connecting]);
    expect(t.sent.map(([kind]) => kind)).toEqual(["answer"]);
    expect(t.negotiator.answeredByUs).toBe(true);
    expect(t.negotiator.inviteOrAnswerSent).toBe(true);
  });

  it("ends the call with create_answer when there is no offer to answer, and rejects", async () => {
    const t = setup(CallDirection.Incoming, CallState.Ringing);
    await expect(t.negotiator.answer()).rejects.toMatchObject({ code: VoipErrorCode.CreateAnswer });
    expect(t.errors.map((e) => e.code)).toEqual([VoipErrorCode.CreateAnswer]);
    expect(t.hangups).toEqual([CallErrorCode.CreateAnswer]);
    expect(t.sent).toEqual([]);
  });
});

describe("Negotiator: perfect negotiation", () => {
  async function withLocalOffer(direction: CallDirection) {
    const t = setup(direction, CallState.Connected);
    await t.pc.setLocalDescription(await t.pc.createOffer());
    return t;
  }

  it("the caller (impolite) ignores an offer that collides with its own", async () => {
    const t = await withLocalOffer(CallDirection.Outgoing);
    await t.negotiator.handleNegotiate(await remoteOffer(), undefined);
    expect(t.pc.signalingState).toBe("have-local-offer");
    expect(t.sent).toEqual([]);
    expect(t.errors).toEqual([]);
  });

  it("the callee (polite) rolls its offer back and answers the colliding one", async () => {
    const t = await withLocalOffer(CallDirection.Incoming);
    await t.negotiator.handleNegotiate(await remoteOffer(), undefined);
    expect(t.pc.signalingState).toBe("stable");
    expect(t.sent.map(([kind]) => kind)).toEqual(["negotiate-answer"]);
    expect(t.errors).toEqual([]);
  });

  it("ignores an answer it did not ask for", async () => {
    const t = setup(CallDirection.Incoming, CallState.Connected);
    await t.negotiator.handleNegotiate({ type: "answer", sdp: "v=0" }, undefined);
    expect(t.sent).toEqual([]);
    expect(t.errors).toEqual([]);
    expect(t.hangups).toEqual([]);
  });

  it("reports a hold change after answering a renegotiation", async () => {
    const t = setup(CallDirection.Incoming, CallState.Connected);
    await t.negotiator.handleNegotiate(await remoteOffer(), undefined);
    expect(t.holds).toEqual([{ localOnHold: true, remoteOnHold: false }]);
  });

  it("reports the hold change as soon as the answer is applied, before the answer is sent", async () => {
    const t = setup(CallDirection.Incoming, CallState.Connected);
    const holdsAtSend: number[] = [];
    const sent = t.sent;
    const push = sent.push.bind(sent);
    sent.push = (...items) => {
      holdsAtSend.push(t.holds.length);
      return push(...items);
    };
    await t.negotiator.handleNegotiate(await remoteOffer(), undefined);
    expect(t.sent.map(([kind]) => kind)).toEqual(["negotiate-answer"]);
    expect(holdsAtSend).toEqual([1]);
    expect(t.holds).toEqual([{ localOnHold: true, remoteOnHold: false }]);
  });

  it("ends the call with local_offer_failed on an offer it cannot apply", async () => {
    const t = setup(CallDirection.Incoming, CallState.Connected);
    await t.negotiator.handleNegotiate({ type: "offer", sdp: "not sdp" }, undefined);
    expect(t.errors.map((e) => e.code)).toEqual([VoipErrorCode.LocalOfferFailed]);
    expect(t.hangups).toEqual([CallErrorCode.LocalOfferFailed]);
  });
});
