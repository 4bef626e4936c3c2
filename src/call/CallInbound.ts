import { callDelegate } from "../webrtc/callDelegate.js";
import type { SerialQueue } from "../core/SerialQueue.js";
import type { CallAssertedIdentityContent } from "../matrix/schemas/signalling.js";
import type { AssertedIdentities } from "./assertedIdentity.js";
import type { CallCore } from "./CallContext.js";
import type { CallLifecycle } from "./CallLifecycle.js";
import type { CallMedia } from "./CallMedia.js";
import type { IceAgent, InboundCandidate } from "./IceAgent.js";
import type { Negotiator } from "./Negotiator.js";
import type * as wire from "./signalling.js";
import { CallDirection, CallErrorCode, CallState } from "./types.js";

/** @internal What a {@link CallInbound} needs from its call. */
export interface CallInboundHost extends Pick<
  CallCore,
  "ctx" | "log" | "direction" | "emit" | "peerConnection"
> {
  readonly lifecycle: CallLifecycle;
  readonly media: CallMedia;
  readonly ice: IceAgent;
  readonly negotiator: Negotiator;
  readonly identities: AssertedIdentities;
  /** The call's signalling queue (negotiation steps run one at a time). */
  readonly queue: SerialQueue;
  /** The peer's party id, once bound. */
  remotePartyId(): string | undefined;
  /** Binds the peer's party id (the answer we took). */
  bindRemoteParty(partyId: string | undefined): void;
}

/**
 * @internal The peer's signalling for one call, after validation and routing (`dispatchSignalling`, the routers):
 * each inbound event is weighed against the call's state and handed to the part it concerns — the answer and
 * renegotiation to the `Negotiator`, candidates to the `IceAgent`, stream metadata to `CallMedia`, remote ends
 * to the `CallLifecycle`. Events that do not fit the state are dropped with a debug line.
 */
export class CallInbound {
  readonly #host: CallInboundHost;

  public constructor(host: CallInboundHost) {
    this.#host = host;
  }

  /** `m.call.answer`: taken by an outgoing call waiting for one; its party becomes the call's peer. */
  public answer(
    partyId: string | undefined,
    answer: { sdp: string },
    metadata: wire.StreamMetadata | undefined,
  ): Promise<void> {
    const host = this.#host;
    return host.queue.run(async () => {
      const pc = host.peerConnection();
      const state = host.lifecycle.state;
      if (host.direction !== CallDirection.Outgoing || state !== CallState.InviteSent || !pc) {
        host.log.debug("ignoring answer", { state });
        return;
      }
      host.lifecycle.stopInviteExpiry();
      host.bindRemoteParty(partyId);
      void callDelegate(host.log, () => host.ctx.delegate.stopRingtone?.());
      host.lifecycle.transition(CallState.Connecting);
      host.media.applyRemoteMetadata(metadata);
      await host.negotiator.acceptAnswer(pc, partyId, answer.sdp);
    });
  }

  /** `m.call.select_answer`: the caller chose an answer; if it is not ours, the call was answered elsewhere. */
  public selectAnswer(selectedPartyId: string): void {
    const host = this.#host;
    if (host.direction !== CallDirection.Incoming) {
      return;
    }
    if (selectedPartyId !== host.ctx.sessionId) {
      host.lifecycle.terminate("remote", CallErrorCode.AnsweredElsewhere, true);
    }
  }

  /** Another device of ours answered or rejected this ringing call. */
  public answeredElsewhere(): void {
    const { lifecycle } = this.#host;
    if (lifecycle.state === CallState.Ringing || lifecycle.state === CallState.Fledgling) {
      lifecycle.terminate("remote", CallErrorCode.AnsweredElsewhere, true);
    }
  }

  /** `m.call.hangup`: the peer ended the call (`user_hangup` when it gave no known reason). */
  public hangup(reason: CallErrorCode | undefined): void {
    this.#host.lifecycle.terminate("remote", reason ?? CallErrorCode.UserHangup, true);
  }

  /** `m.call.reject`: ends a call that is still ringing, on either side; ignored once the call was answered. */
  public reject(reason: CallErrorCode | undefined): void {
    const { lifecycle, direction } = this.#host;
    const state = lifecycle.state;
    const ringing =
      state === CallState.InviteSent ||
      state === CallState.Ringing ||
      (state === CallState.Fledgling && direction === CallDirection.Incoming);
    if (ringing) {
      lifecycle.terminate("remote", reason ?? CallErrorCode.UserHangup, true);
    }
  }

  /** `m.call.candidates`: to the `IceAgent`, which holds them until the call knows whom it talks to. */
  public candidates(partyId: string | undefined, candidates: readonly InboundCandidate[]): Promise<void> {
    const host = this.#host;
    const state = host.lifecycle.state;
    // Bound once we know whom we talk to: always for incoming calls; for outgoing ones once an answer was taken
    // (a version-0 callee answers without a party id).
    const bound =
      host.direction === CallDirection.Incoming ||
      host.remotePartyId() !== undefined ||
      (state !== CallState.CreateOffer && state !== CallState.InviteSent);
    return host.ice.handleRemoteCandidates(partyId, candidates, bound);
  }

  /** `m.call.negotiate`: perfect negotiation, the callee polite. */
  public negotiate(
    description: { type: "offer" | "answer"; sdp: string },
    metadata: wire.StreamMetadata | undefined,
  ): Promise<void> {
    const { queue, negotiator } = this.#host;
    return queue.run(() => negotiator.handleNegotiate(description, metadata));
  }

  /** `m.call.sdp_stream_metadata_changed`: the peer's streams were (un)muted or re-purposed. */
  public streamMetadataChanged(metadata: wire.StreamMetadata): void {
    this.#host.media.applyRemoteMetadata(metadata);
  }

  /** `m.call.asserted_identity` (MSC3086). */
  public assertedIdentity(content: CallAssertedIdentityContent): void {
    this.#host.identities.receive(content);
  }

  /** `m.call.replaces` (a transfer request), surfaced as `replacesReceived`. */
  public replaces(content: wire.ReplacesFields): void {
    this.#host.emit("replacesReceived", content);
  }
}
