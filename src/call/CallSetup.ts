import { callDelegate } from "../webrtc/callDelegate.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { SerialQueue } from "../core/SerialQueue.js";
import type { CallCore } from "./CallContext.js";
import type { IceAgent } from "./IceAgent.js";
import type { CallLifecycle } from "./CallLifecycle.js";
import type { CallMedia } from "./CallMedia.js";
import type { CallPeerConnection } from "./CallPeerConnection.js";
import type { CallSignaller } from "./CallSignaller.js";
import { isLive } from "./callState.js";
import type { Negotiator } from "./Negotiator.js";
import type * as wire from "./signalling.js";
import { CallDirection, CallErrorCode, CallState } from "./types.js";

/** @internal What a {@link CallSetup} needs from its call. */
export interface CallSetupHost extends Pick<CallCore, "ctx" | "log" | "direction" | "emit"> {
  readonly lifecycle: CallLifecycle;
  readonly media: CallMedia;
  readonly peer: CallPeerConnection;
  readonly negotiator: Negotiator;
  readonly signaller: Pick<CallSignaller, "hangup">;
  /** Told when the remote offer is applied (its candidates may be added from then on). */
  readonly ice: Pick<IceAgent, "remoteDescriptionApplied">;
  /** The call's signalling queue (negotiation steps run one at a time). */
  readonly queue: SerialQueue;
}

/**
 * @internal How one call gets going until media flows: an outgoing call acquires media and opens its peer
 * connection (the invite follows on `negotiationneeded`); an incoming one sets the remote offer, acquires media and
 * rings until the invite's lifetime is over; `answer()` sends our answer once. Refused media or a bad offer end
 * the call with the matching reason.
 */
export class CallSetup {
  readonly #host: CallSetupHost;
  #answering: Promise<void> | undefined;

  public constructor(host: CallSetupHost) {
    this.#host = host;
  }

  /** Outgoing: acquire media, create the peer connection; the invite follows on negotiationneeded. */
  public async initOutbound(): Promise<void> {
    const { lifecycle, media, peer } = this.#host;
    lifecycle.transition(CallState.CreateOffer);
    const stream = await this.#acquireUserMedia();
    if (stream instanceof VoipError) {
      throw stream;
    }
    media.attachUserMedia(stream, isLive(lifecycle.state) ? await peer.open() : undefined);
  }

  /** Incoming: set the remote offer, acquire media and ring. */
  public async initWithInvite(
    offer: { sdp: string },
    metadata: wire.StreamMetadata | undefined,
  ): Promise<void> {
    const { lifecycle, media, peer, signaller, log } = this.#host;
    const pc = await peer.open();
    if (!isLive(lifecycle.state)) {
      return;
    }
    media.applyRemoteMetadata(metadata);
    try {
      await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
      this.#host.ice.remoteDescriptionApplied();
    } catch (error) {
      log.warn("invalid remote offer", { error });
      lifecycle.terminate("local", CallErrorCode.SetRemoteDescription, true);
      await signaller.hangup(CallErrorCode.SetRemoteDescription);
      return;
    }
    const stream = await this.#acquireUserMedia();
    if (stream instanceof VoipError) {
      await signaller.hangup(CallErrorCode.UserMediaFailed);
      return;
    }
    if (!media.attachUserMedia(stream, pc)) {
      return;
    }
    lifecycle.transition(CallState.Ringing);
    lifecycle.expireInviteIn(CallState.Ringing);
  }

  /**
   * Answers an incoming, ringing call, once: a second call while answering waits for the first.
   * @throws {VoipError} `invalid_state` for an outgoing or ended call.
   */
  public async answer(): Promise<void> {
    const host = this.#host;
    if (host.direction !== CallDirection.Incoming) {
      throw new VoipError(VoipErrorCode.InvalidState, "only incoming calls can be answered");
    }
    if (this.#answering) {
      return this.#answering;
    }
    if (host.negotiator.inviteOrAnswerSent) {
      return;
    }
    const state = host.lifecycle.state;
    if (state !== CallState.Ringing) {
      throw new VoipError(VoipErrorCode.InvalidState, `cannot answer a call in state ${state}`);
    }
    host.lifecycle.stopInviteExpiry();
    void callDelegate(host.log, () => host.ctx.delegate.stopRingtone?.());
    this.#answering = host.queue.run(() => host.negotiator.answer());
    return this.#answering;
  }

  /** Our camera/microphone; when refused: emits `error`, ends the call (`user_media_failed`), returns the error. */
  async #acquireUserMedia(): Promise<MediaStream | VoipError> {
    const host = this.#host;
    const { media, lifecycle } = host;
    try {
      return await media.acquireUserMedia();
    } catch (error) {
      const failure = new VoipError(VoipErrorCode.UserMediaFailed, "could not acquire local media", {
        cause: error,
      });
      host.emit("error", failure);
      lifecycle.terminate("local", CallErrorCode.UserMediaFailed, true);
      return failure;
    }
  }
}
