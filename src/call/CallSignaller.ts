import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { CallEventType } from "../matrix/eventTypes.js";
import type { CallContext } from "./CallContext.js";
import type { WireCandidate } from "./CandidateBatcher.js";
import * as wire from "./signalling.js";
import type { CallErrorCode } from "./types.js";

/** Who an invite is for: the callee, and the one device when a device is targeted (PROTOCOL D10). */
export interface InviteAddress {
  userId?: string | undefined;
  deviceId?: string | undefined;
}

/**
 * @internal The outbound signalling of one call: builds each `m.call.*` content with the call's id, our party id
 * and the group call id, and hands it to the call's transport. The `send*` methods reject when the event could
 * not be sent; the best-effort ones log the failure and resolve. When the call ends, {@link cancelPending} cancels
 * the sends still waiting (out a rate limit, for encryption keys): they reject with an `invalid_state` error and
 * send nothing more. The end path's own `hangup` and `reject`, sent after that, are not cancelled.
 */
export class CallSignaller {
  readonly #ctx: CallContext;
  readonly #callId: string;
  readonly #groupCallId: string | undefined;
  readonly #log: Logger;
  readonly #pending = new AbortController();

  public constructor(ctx: CallContext, callId: string, groupCallId: string | undefined, log: Logger) {
    this.#ctx = ctx;
    this.#callId = callId;
    this.#groupCallId = groupCallId;
    this.#log = log;
  }

  /** `m.call.invite` carrying our first offer. */
  public sendInvite(offerSdp: string, metadata: wire.StreamMetadata, to: InviteAddress): Promise<void> {
    return this.#send(
      CallEventType.Invite,
      wire.buildInviteContent({
        ...this.#base(),
        lifetimeMs: this.#ctx.timeouts.callInviteLifetimeMs,
        offerSdp,
        metadata,
        ...(to.userId !== undefined ? { invitee: to.userId } : {}),
        ...(to.deviceId !== undefined
          ? { target: { inviteeDeviceId: to.deviceId, ownDeviceId: this.#ctx.client.deviceId } }
          : {}),
      }),
    );
  }

  /** `m.call.answer`. */
  public sendAnswer(answerSdp: string, metadata: wire.StreamMetadata): Promise<void> {
    return this.#send(
      CallEventType.Answer,
      wire.buildAnswerContent({ ...this.#base(), answerSdp, metadata }),
    );
  }

  /** `m.call.negotiate` carrying a renegotiation offer. */
  public sendNegotiateOffer(offerSdp: string, metadata: wire.StreamMetadata): Promise<void> {
    return this.#send(
      CallEventType.Negotiate,
      wire.buildNegotiateOfferContent({
        ...this.#base(),
        lifetimeMs: this.#ctx.timeouts.defaultCallEventLifetimeMs,
        offerSdp,
        metadata,
      }),
    );
  }

  /** `m.call.negotiate` carrying our answer to the peer's renegotiation offer. */
  public sendNegotiateAnswer(answerSdp: string): Promise<void> {
    return this.#send(
      CallEventType.Negotiate,
      wire.buildNegotiateAnswerContent({
        ...this.#base(),
        lifetimeMs: this.#ctx.timeouts.defaultCallEventLifetimeMs,
        answerSdp,
      }),
    );
  }

  /** `m.call.candidates`: one batch of our candidates. */
  public sendCandidates(candidates: readonly WireCandidate[]): Promise<void> {
    return this.#send(CallEventType.Candidates, wire.buildCandidatesContent({ ...this.#base(), candidates }));
  }

  /** `m.call.hangup` with `reason`, best effort; never cancelled (it is how the peer learns the call ended). */
  public hangup(reason: CallErrorCode): Promise<void> {
    return this.#sendBestEffort(
      CallEventType.Hangup,
      wire.buildHangupContent({ ...this.#base(), reason }),
      false,
    );
  }

  /** `m.call.reject`, best effort; never cancelled. */
  public reject(): Promise<void> {
    return this.#sendBestEffort(CallEventType.Reject, wire.buildRejectContent(this.#base()), false);
  }

  /** The call ended: cancels every send still waiting; later sends but `hangup` and `reject` reject at once. */
  public cancelPending(): void {
    this.#pending.abort(
      new VoipError(VoipErrorCode.InvalidState, "cancelled: the call ended before the event could be sent"),
    );
  }

  /** `m.call.select_answer` naming the answer we took, best effort. */
  public selectAnswer(selectedPartyId: string): Promise<void> {
    return this.#sendBestEffort(
      CallEventType.SelectAnswer,
      wire.buildSelectAnswerContent({ ...this.#base(), selectedPartyId }),
    );
  }

  /** `m.call.sdp_stream_metadata_changed`, best effort. */
  public metadataChanged(metadata: wire.StreamMetadata): Promise<void> {
    return this.#sendBestEffort(
      CallEventType.SdpStreamMetadataChanged,
      wire.buildMetadataChangedContent({ ...this.#base(), metadata }),
    );
  }

  /** `m.call.asserted_identity` (MSC3086); rejects when it could not be sent. */
  public sendAssertedIdentity(identity: wire.Identity): Promise<void> {
    return this.#send(
      CallEventType.AssertedIdentity,
      wire.buildAssertedIdentityContent({ ...this.#base(), identity }),
    );
  }

  #base(): wire.SignallingBase {
    return {
      callId: this.#callId,
      partyId: this.#ctx.sessionId,
      ...(this.#groupCallId !== undefined ? { groupCallId: this.#groupCallId } : {}),
    };
  }

  async #send(type: CallEventType, content: object, cancellable = true): Promise<void> {
    await this.#ctx.transport.send(type, content, cancellable ? { signal: this.#pending.signal } : {});
  }

  async #sendBestEffort(type: CallEventType, content: object, cancellable = true): Promise<void> {
    try {
      await this.#send(type, content, cancellable);
    } catch (error) {
      if (cancellable && this.#pending.signal.aborted) {
        this.#log.debug("call event not sent: the call ended", { type });
        return;
      }
      this.#log.warn("could not send call event", { type, error });
    }
  }
}
