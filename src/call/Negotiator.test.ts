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

function setup(direction: CallDirection, state: CallState, pc = peerConnection()) {
  const clock = new ManualClock();
  const sent: [string, string][] = [];
  const errors: VoipError[] = [];
  const hangups: CallErrorCode[] = [];
  const holds: unknown[] = [];
  const transitions: CallState[] = [];
  const invitesSent: number[] = [];
  let current = state;
  let localOnHold = false;
  const send = (kind: string) => (sdp: string) => {
    sent.push([kind, sdp]);
    return Promise.resolve();
  };
  const signaller = {
    sendInvite: send("invite"),
    sendAnswer: send("answer"),
    sendNegotiateOffer: send("negotiate-offer"),
    sendNegotiateAnswer: (sdp: string) => {
      // The answer is set: from here the media reads the new hold state.
      localOnHold = true;
      return send("negotiate-answer")(sdp);
    },
  } as unknown as CallSignaller;
  const media = {
    metadata: () => ({}),
    applyRemoteMetadata: () => undefined,
    isLocalOnHold: () => localOnHold,
    isRemoteOnHold: () => false,
  } as unknown as CallMedia;
  const ice = new IceAgent({
    clock,
    logger: silentLogger,
    batchDelayMs: 0,
    candidateFlushMs: 100,
    fixedWaits: false,
    peerConnection: () => pc,
    sendCandidates: () => Promise.resolve(),
    onGiveUp: () => undefined,
    onDisconnectGraceOver: () => undefined,
  });
  const ctx = {
    clock,
    timeouts: { delayBeforeOfferMs: 0, iceGatheringDelayMs: 0, answerDelayMs: 0 },
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
  return { pc, negotiator, sent, errors, hangups, holds, transitions, invitesSent };
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

  it("ends the call with local_offer_failed on an offer it cannot apply", async () => {
    const t = setup(CallDirection.Incoming, CallState.Connected);
    await t.negotiator.handleNegotiate({ type: "offer", sdp: "not sdp" }, undefined);
    expect(t.errors.map((e) => e.code)).toEqual([VoipErrorCode.LocalOfferFailed]);
    expect(t.hangups).toEqual([CallErrorCode.LocalOfferFailed]);
  });
});
