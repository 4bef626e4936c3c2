import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { CallCore } from "./CallContext.js";
import type { CallMedia } from "./CallMedia.js";
import type { CallSignaller, InviteAddress } from "./CallSignaller.js";
import { isLive } from "./callState.js";
import { withCandidates } from "./sdp.js";
import { FIRST_CANDIDATE_CAP_MS, type IceAgent } from "./IceAgent.js";
import type { StreamMetadata } from "./signalling.js";
import { CallDirection, CallErrorCode, CallState } from "./types.js";

/** @internal What a {@link Negotiator} needs from its call. */
export interface NegotiatorHost extends CallCore {
  readonly ice: IceAgent;
  readonly signaller: CallSignaller;
  readonly media: CallMedia;
  transition(to: CallState): void;
  /** Who our invite is for. */
  inviteAddress(): InviteAddress;
  /** The peer's party id, once bound. */
  remotePartyId(): string | undefined;
  /** The invite is out and the call is in `invite_sent`. */
  onInviteSent(): void;
}

/**
 * @internal The offer/answer exchange of one call. The caller's first offer goes out as `m.call.invite`, later
 * offers of either side as `m.call.negotiate`; the callee answers the invite with `m.call.answer`. Inbound
 * `m.call.negotiate` follows perfect negotiation: the callee is polite (rolls back its own offer on a collision),
 * the caller ignores a colliding offer. After a renegotiation it reports when the peer put us on or off hold.
 *
 * Every description goes out as `createOffer`/`createAnswer` returned it, plus the local candidates gathered by
 * then as `a=candidate` lines (the invite and the answer wait for the first, a host candidate); never
 * `pc.localDescription`, whose getter serialises the SDP natively in `@roamhq/wrtc` and crashes now and then when
 * many connections are set up at once (node-webrtc issue 696), and never after a wait for gathering to complete.
 * Later candidates trickle as `m.call.candidates` (see `IceAgent`).
 *
 * Every method runs on the call's serial queue; the call ends (`fail`) when a step fails.
 */
export class Negotiator {
  readonly #host: NegotiatorHost;
  #makingOffer = false;
  #inviteOnTheWire = false;
  #inviteOrAnswerSent = false;
  #answeredByUs = false;
  #localOnHold = false;

  public constructor(host: NegotiatorHost) {
    this.#host = host;
  }

  /** True once our invite has started to go out (glare). */
  public get inviteOnTheWire(): boolean {
    return this.#inviteOnTheWire;
  }

  /** True once our invite or answer is out (renegotiation, candidates and metadata may follow). */
  public get inviteOrAnswerSent(): boolean {
    return this.#inviteOrAnswerSent;
  }

  /** True once we started sending the answer to an incoming call. */
  public get answeredByUs(): boolean {
    return this.#answeredByUs;
  }

  /** `negotiationneeded`: sends the invite (caller's first offer) or a renegotiation offer. */
  public async onNegotiationNeeded(): Promise<void> {
    const host = this.#host;
    const pc = host.peerConnection();
    if (!pc || !this.#live()) {
      return;
    }
    const firstOffer = host.direction === CallDirection.Outgoing && host.state() === CallState.CreateOffer;
    if (!firstOffer && !this.#inviteOrAnswerSent) {
      // The callee's first answer covers every change made before it.
      return;
    }
    this.#makingOffer = true;
    if (!firstOffer) {
      host.ice.holdSending();
    }
    try {
      if (host.ctx.timeouts.delayBeforeOfferMs > 0) {
        await host.ice.wait(host.ctx.timeouts.delayBeforeOfferMs);
      }
      if (!this.#live()) {
        return;
      }
      const offer = await pc.createOffer();
      if (!this.#live()) {
        return;
      }
      try {
        await pc.setLocalDescription(offer);
      } catch (error) {
        await this.#fail(
          new VoipError(VoipErrorCode.SetLocalDescription, "setLocalDescription failed", { cause: error }),
          CallErrorCode.SetLocalDescription,
        );
        return;
      }
      if (!this.#live()) {
        return;
      }
      await host.ice.referenceGatheringWait(host.ctx.timeouts.iceGatheringDelayMs, false);
      if (firstOffer) {
        await host.ice.waitForCandidates(FIRST_CANDIDATE_CAP_MS);
      }
      if (!this.#live()) {
        return;
      }
      const sdp = withCandidates(offer.sdp ?? "", host.ice.takeHeld());
      const metadata = host.media.metadata();
      if (firstOffer) {
        this.#inviteOnTheWire = true;
        await host.signaller.sendInvite(sdp, metadata, host.inviteAddress());
        if (!this.#live()) {
          return;
        }
        this.#inviteOrAnswerSent = true;
        host.transition(CallState.InviteSent);
        host.ice.startSending();
        host.onInviteSent();
      } else {
        await host.signaller.sendNegotiateOffer(sdp, metadata);
      }
    } catch (error) {
      if (!this.#live()) {
        return;
      }
      host.log.warn("creating or sending the offer failed", { error });
      await this.#fail(
        new VoipError(VoipErrorCode.LocalOfferFailed, "could not create or send the offer", { cause: error }),
        CallErrorCode.LocalOfferFailed,
      );
    } finally {
      this.#makingOffer = false;
      if (!firstOffer) {
        host.ice.startSending();
      }
    }
  }

  /**
   * Answers the ringing call: `create_answer`, then `connecting` once the answer is set; sends `m.call.answer`.
   * Rejects when a step fails (the call then ends with its reason) or the call ended meanwhile.
   */
  public async answer(): Promise<void> {
    const host = this.#host;
    const pc = host.peerConnection();
    if (!pc || host.state() !== CallState.Ringing) {
      throw new VoipError(VoipErrorCode.InvalidState, `cannot answer a call in state ${host.state()}`);
    }
    host.transition(CallState.CreateAnswer);
    let answer: RTCSessionDescriptionInit;
    try {
      answer = await pc.createAnswer();
    } catch (error) {
      throw await this.#fail(
        new VoipError(VoipErrorCode.CreateAnswer, "createAnswer failed", { cause: error }),
        CallErrorCode.CreateAnswer,
      );
    }
    try {
      await pc.setLocalDescription(answer);
    } catch (error) {
      throw await this.#fail(
        new VoipError(VoipErrorCode.SetLocalDescription, "setLocalDescription failed", { cause: error }),
        CallErrorCode.SetLocalDescription,
      );
    }
    this.#assertLive();
    host.transition(CallState.Connecting);
    await host.ice.referenceGatheringWait(host.ctx.timeouts.answerDelayMs, true);
    await host.ice.waitForCandidates(FIRST_CANDIDATE_CAP_MS);
    this.#assertLive();
    const sdp = withCandidates(answer.sdp ?? "", host.ice.takeHeld());
    this.#answeredByUs = true;
    try {
      await host.signaller.sendAnswer(sdp, host.media.metadata());
    } catch (error) {
      throw await this.#fail(
        new VoipError(VoipErrorCode.SendFailed, "could not send the answer", { cause: error }),
        CallErrorCode.UnknownError,
      );
    }
    this.#inviteOrAnswerSent = true;
    host.ice.startSending();
    await host.ice.applyBufferedCandidates(host.remotePartyId());
  }

  /**
   * The callee's answer to our invite (on `pc`): sets it, adds the candidates buffered for `partyId`, and tells
   * the callees which answer we took. A bad answer ends the call.
   */
  public async acceptAnswer(pc: RTCPeerConnection, partyId: string | undefined, sdp: string): Promise<void> {
    const host = this.#host;
    try {
      await pc.setRemoteDescription({ type: "answer", sdp });
      host.ice.remoteDescriptionApplied();
    } catch (error) {
      host.log.warn("invalid remote answer", { error });
      await host.hangup(CallErrorCode.SetRemoteDescription);
      return;
    }
    await host.ice.applyBufferedCandidates(partyId);
    if (partyId !== undefined) {
      await host.signaller.selectAnswer(partyId);
    }
  }

  /** Inbound `m.call.negotiate` (perfect negotiation; the callee is polite). */
  public async handleNegotiate(
    description: { type: "offer" | "answer"; sdp: string },
    metadata: StreamMetadata | undefined,
  ): Promise<void> {
    const host = this.#host;
    const pc = host.peerConnection();
    if (!pc || !this.#live()) {
      return;
    }
    const polite = host.direction === CallDirection.Incoming;
    const collision = description.type === "offer" && (this.#makingOffer || pc.signalingState !== "stable");
    if (collision && !polite) {
      host.log.info("ignoring colliding offer (impolite side)");
      return;
    }
    if (description.type === "answer" && pc.signalingState !== "have-local-offer") {
      host.log.debug("ignoring unexpected negotiate answer", { signalingState: pc.signalingState });
      return;
    }
    const wasLocalOnHold = host.media.isLocalOnHold();
    host.media.applyRemoteMetadata(metadata);
    const answering = description.type === "offer";
    if (answering) {
      host.ice.holdSending();
    }
    try {
      if (collision) {
        await pc.setLocalDescription({ type: "rollback" });
      }
      await pc.setRemoteDescription(description);
      host.ice.remoteDescriptionApplied();
      if (answering) {
        const answer = await pc.createAnswer();
        await pc.setLocalDescription(answer);
        // Our hold state is settled once the answer is applied: report it now, not after the send (which may wait
        // for retries), so that `holdChanged` and `isLocalOnHold()` agree.
        this.#reportHold(wasLocalOnHold);
        await host.signaller.sendNegotiateAnswer(withCandidates(answer.sdp ?? "", host.ice.takeHeld()));
      }
    } catch (error) {
      host.log.warn("renegotiation failed", { error });
      await this.#fail(
        new VoipError(VoipErrorCode.LocalOfferFailed, "renegotiation failed", { cause: error }),
        CallErrorCode.LocalOfferFailed,
      );
      return;
    } finally {
      if (answering) {
        host.ice.startSending();
      }
    }
    if (!answering) {
      this.#reportHold(wasLocalOnHold);
    }
  }

  /** Emits `holdChanged` when our hold state differs from before the renegotiation or from what we last reported. */
  #reportHold(wasLocalOnHold: boolean): void {
    const localOnHold = this.#host.media.isLocalOnHold();
    if (localOnHold !== wasLocalOnHold || localOnHold !== this.#localOnHold) {
      this.#localOnHold = localOnHold;
      this.#host.emit("holdChanged", { localOnHold, remoteOnHold: this.#host.media.isRemoteOnHold() });
    }
  }

  /** Emits `error`, then hangs up with `reason`; returns the error (for callers that rethrow it). */
  async #fail(error: VoipError, reason: CallErrorCode): Promise<VoipError> {
    this.#host.emit("error", error);
    await this.#host.hangup(reason);
    return error;
  }

  #assertLive(): void {
    if (!this.#live()) {
      throw new VoipError(
        VoipErrorCode.InvalidState,
        `the call ended while answering (${this.#host.state()})`,
      );
    }
  }

  #live(): boolean {
    return isLive(this.#host.state());
  }
}
