import { callDelegate } from "../webrtc/callDelegate.js";
import type { TimerHandle } from "../core/Clock.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { SerialQueue } from "../core/SerialQueue.js";
import { TypedEventEmitter } from "../core/TypedEventEmitter.js";
import type { CallAssertedIdentityContent } from "../matrix/schemas/signalling.js";
import { AssertedIdentities } from "./assertedIdentity.js";
import type { CallContext, CallCore, CallParty } from "./CallContext.js";
import { CallMedia } from "./CallMedia.js";
import { CallParticipant } from "./CallParticipant.js";
import { CallPeerConnection } from "./CallPeerConnection.js";
import { CallSignaller } from "./CallSignaller.js";
import { assertTransition, isLive } from "./callState.js";
import { insertDtmf } from "./dtmf.js";
import type { AssertedIdentity, CallEvents } from "./events.js";
import { IceAgent, type InboundCandidate } from "./IceAgent.js";
import type { LegMediaSource } from "./LocalMedia.js";
import { Negotiator } from "./Negotiator.js";
import type * as wire from "./signalling.js";
import type { CallStats } from "./stats.js";
import { CallDirection, CallErrorCode, CallState, type CallType } from "./types.js";
import type { WrappedMediaStream } from "./WrappedMediaStream.js";

/** How a {@link CallSession} is created (by `VoIP`). */
export interface CallSessionInit {
  /** The `call_id` of the call on the wire. */
  callId: string;
  /** The room the call belongs to. */
  roomId: string;
  /** Voice or video, as the call starts. */
  type: CallType;
  /** Whether we place the call or the peer does. */
  direction: CallDirection;
  /** The peer's user id. */
  remoteUserId?: string;
  /** The peer's device id, when known (an invite's `device_id`, or the device we invite). */
  remoteDeviceId?: string;
  /** The peer's `party_id`, when known (from an incoming invite). */
  remotePartyId?: string;
  /** The group call this call is a mesh leg of; absent for a 1:1 call. */
  groupCallId?: string;
  /** A mesh leg: the peer's session id (`dest_session_id`), known before the call binds. */
  remoteSessionId?: string;
  /** @internal A mesh leg: the group's local media, sent as clones instead of asking the devices. */
  media?: LegMediaSource;
}

export type { InboundCandidate } from "./IceAgent.js";

/** Events of a {@link CallSession}. */
export interface CallSessionEvents extends CallEvents {
  /** This call was replaced (glare, transfer). */
  replaced: (newCall: CallSession) => void;
}

/**
 * One WebRTC peer connection: a 1:1 call, or one leg of a mesh group call. Created by `VoIP.inviteToCall` and for
 * incoming invites; never constructed by apps. Every way a call ends goes through one path that closes the peer
 * connection, stops the timers, removes the call from the registry and fires the end callbacks exactly once
 * (PROTOCOL D5).
 *
 * The session owns the state machine, the timers and that end path; its parts do the rest: `CallMedia` (streams,
 * mute, hold, screen share), `Negotiator` (offer/answer), `IceAgent` (candidates, gathering, restarts),
 * `CallPeerConnection` (the `RTCPeerConnection` and its events) and `CallSignaller` (outbound events).
 */
export class CallSession extends TypedEventEmitter<CallSessionEvents> {
  /** The `call_id` of the call on the wire. */
  public readonly callId: string;
  /** The room the call belongs to. */
  public readonly roomId: string;
  /** Whether we placed the call or the peer did. */
  public readonly direction: CallDirection;
  /** The group call this call is a mesh leg of; undefined for a 1:1 call. */
  public readonly groupCallId?: string;
  #state = CallState.Fledgling;
  #hangupReason: CallErrorCode | undefined;
  #remoteUserId: string | undefined;
  #remoteDeviceId: string | undefined;
  #remotePartyId: string | undefined;
  /** @internal A mesh leg: the peer's session id (its `membershipID`). */
  public readonly remoteSessionId: string | undefined;

  readonly #ctx: CallContext;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  readonly #signaller: CallSignaller;
  readonly #ice: IceAgent;
  readonly #negotiator: Negotiator;
  readonly #media: CallMedia;
  readonly #peer: CallPeerConnection;
  readonly #identities: AssertedIdentities;
  #connectedOnce = false;
  #inviteExpiry: TimerHandle | undefined;
  #answering: Promise<void> | undefined;

  /** @internal */
  public constructor(ctx: CallContext, init: CallSessionInit) {
    super();
    this.#ctx = ctx;
    this.callId = init.callId;
    this.roomId = init.roomId;
    this.direction = init.direction;
    if (init.groupCallId !== undefined) {
      this.groupCallId = init.groupCallId;
    }
    this.#remoteUserId = init.remoteUserId;
    this.#remoteDeviceId = init.remoteDeviceId;
    this.#remotePartyId = init.remotePartyId;
    this.remoteSessionId = init.remoteSessionId;
    this.#log = ctx.logger.child(`call:${init.callId}`);
    this.emitterLogger = this.#log;
    const core: CallCore = {
      ctx,
      log: this.#log,
      direction: init.direction,
      peerConnection: () => this.#peer.current,
      state: () => this.#state,
      emit: (event, ...args) => {
        this.emit(event, ...args);
      },
      hangup: (reason) => this.hangup({ reason }),
    };
    this.#media = new CallMedia(core, {
      type: init.type,
      remoteParticipant: () =>
        new CallParticipant(this.#remoteUserId ?? "", this.#remoteDeviceId ?? "", false),
      shouldSendMetadata: () => this.#negotiator.inviteOrAnswerSent && isLive(this.#state),
      sendMetadata: (metadata) => this.#signaller.metadataChanged(metadata),
      source: init.media,
    });
    this.#signaller = new CallSignaller(ctx, init.callId, init.groupCallId, this.#log);
    this.#ice = new IceAgent({
      clock: ctx.clock,
      logger: this.#log,
      batchDelayMs:
        init.direction === CallDirection.Incoming
          ? ctx.timeouts.candidateBatchIncomingMs
          : ctx.timeouts.candidateBatchOutgoingMs,
      candidateFlushMs: ctx.timeouts.candidateFlushMs,
      fixedWaits: ctx.fixedWaits,
      peerConnection: () => this.#peer.current,
      sendCandidates: (candidates) => this.#signaller.sendCandidates(candidates),
      onGiveUp: () => {
        void this.hangup({ reason: CallErrorCode.IceTimeout });
      },
      onDisconnectGraceOver: () => {
        this.#peer.recheckIceConnection();
      },
    });
    this.#negotiator = new Negotiator({
      ...core,
      ice: this.#ice,
      signaller: this.#signaller,
      media: this.#media,
      transition: (to) => {
        this.#transition(to);
      },
      inviteAddress: () => ({ userId: this.#remoteUserId, deviceId: this.#remoteDeviceId }),
      remotePartyId: () => this.#remotePartyId,
      onInviteSent: () => {
        this.#expireInviteIn(CallState.InviteSent);
      },
    });
    this.#identities = new AssertedIdentities(core, this.#signaller, () => this.#negotiator.inviteOnTheWire);
    this.#peer = new CallPeerConnection({
      ...core,
      ice: this.#ice,
      media: this.#media,
      mayRestartIce: () => this.#negotiator.inviteOrAnswerSent,
      onNegotiationNeeded: () => {
        void this.#queue.run(() => this.#negotiator.onNegotiationNeeded());
      },
      onIceConnected: () => {
        if (this.#state === CallState.Connecting) {
          this.#connectedOnce = true;
          this.#transition(CallState.Connected);
        }
      },
    });
  }

  // ── Public state ──────────────────────────────────────────────────────────────────────────────────────────

  /** Voice or video (an audio-only call becomes video when video is unmuted). */
  public get type(): CallType {
    return this.#media.type;
  }

  /** The current state. */
  public get state(): CallState {
    return this.#state;
  }

  /** Why the call ended, once it has. */
  public get hangupReason(): CallErrorCode | undefined {
    return this.#hangupReason;
  }

  /** True for a mesh leg of a group call. */
  public get isGroupCall(): boolean {
    return this.groupCallId !== undefined;
  }

  /** The peer's user id (undefined for an outgoing call anyone in the room may answer, until answered). */
  public get remoteUserId(): string | undefined {
    return this.#remoteUserId;
  }

  /** The peer's device, when known. */
  public get remoteDeviceId(): string | undefined {
    return this.#remoteDeviceId;
  }

  /** The peer's party id, once bound (invite received, or answer chosen). */
  public get remotePartyId(): string | undefined {
    return this.#remotePartyId;
  }

  /** Our camera/microphone stream. */
  public get localUserMediaStream(): WrappedMediaStream | undefined {
    return this.#media.local("m.usermedia");
  }

  /** Our shared screen, while sharing. */
  public get localScreenSharingStream(): WrappedMediaStream | undefined {
    return this.#media.local("m.screenshare");
  }

  /** The peer's camera/microphone stream. */
  public get remoteUserMediaStream(): WrappedMediaStream | undefined {
    return this.#media.remote("m.usermedia");
  }

  /** The peer's shared screen; undefined once they stop sharing. Show it before the user media. */
  public get remoteScreenSharingStream(): WrappedMediaStream | undefined {
    return this.#media.remote("m.screenshare");
  }

  /** True when our microphone is muted (or we send no audio). */
  public isMicrophoneMuted(): boolean {
    return this.#media.isMicrophoneMuted();
  }

  /** True when our camera is muted (or we send no video). */
  public isLocalVideoMuted(): boolean {
    return this.#media.isLocalVideoMuted();
  }

  /** True when the peer has put us on hold: connected, and every transceiver receives nothing from us. */
  public isLocalOnHold(): boolean {
    return this.#media.isLocalOnHold();
  }

  /** True when we have put the peer on hold. */
  public isRemoteOnHold(): boolean {
    return this.#media.isRemoteOnHold();
  }

  /** The identity the peer asserted last (MSC3086 `m.call.asserted_identity`), if any. */
  public get remoteAssertedIdentity(): AssertedIdentity | undefined {
    return this.#identities.remote;
  }

  /** @internal True once our invite has started to go out (glare). */
  public get inviteOnTheWire(): boolean {
    return this.#negotiator.inviteOnTheWire;
  }

  /** @internal True once we answered this (incoming) call. */
  public get answeredByUs(): boolean {
    return this.#negotiator.answeredByUs;
  }

  // ── Public actions ────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Answers an incoming, ringing call. Resolves once the answer is sent.
   * @throws {VoipError} `invalid_state` for an outgoing or ended call.
   */
  public async answer(): Promise<void> {
    if (this.direction !== CallDirection.Incoming) {
      throw new VoipError(VoipErrorCode.InvalidState, "only incoming calls can be answered");
    }
    if (this.#answering) {
      return this.#answering;
    }
    if (this.#negotiator.inviteOrAnswerSent) {
      return;
    }
    if (this.#state !== CallState.Ringing) {
      throw new VoipError(VoipErrorCode.InvalidState, `cannot answer a call in state ${this.#state}`);
    }
    this.#ctx.clock.clearTimer(this.#inviteExpiry);
    void callDelegate(this.#log, () => this.#ctx.delegate.stopRingtone?.());
    this.#answering = this.#queue.run(() => this.#negotiator.answer());
    return this.#answering;
  }

  /** Rejects a ringing call (sends `m.call.reject` unless `shouldEmit` is false); hangs up any other call. */
  public async reject(opts: { shouldEmit?: boolean } = {}): Promise<void> {
    const shouldEmit = opts.shouldEmit ?? true;
    const ringing =
      this.direction === CallDirection.Incoming &&
      (this.#state === CallState.Ringing || this.#state === CallState.Fledgling);
    if (!ringing) {
      await this.hangup({ reason: CallErrorCode.UserHangup, shouldEmit });
      return;
    }
    this.#transition(CallState.Ending);
    this.#terminate("local", CallErrorCode.UserHangup, shouldEmit);
    if (shouldEmit) {
      await this.#signaller.reject();
    }
  }

  /**
   * Ends the call and tells the peer (`m.call.hangup` with the reason). `shouldEmit: false` skips the local end
   * callbacks. Idempotent.
   */
  public async hangup(opts: { reason?: CallErrorCode; shouldEmit?: boolean } = {}): Promise<void> {
    if (!isLive(this.#state)) {
      return;
    }
    const reason = opts.reason ?? CallErrorCode.UserHangup;
    const tellPeer = this.direction === CallDirection.Incoming || this.#negotiator.inviteOnTheWire;
    this.#transition(CallState.Ending);
    this.#terminate("local", reason, opts.shouldEmit ?? true);
    if (tellPeer) {
      await this.#signaller.hangup(reason);
    }
  }

  /** Mutes or unmutes our microphone, and tells the peer. */
  public setMicrophoneMuted(muted: boolean): Promise<void> {
    return this.#media.setMicrophoneMuted(muted);
  }

  /**
   * Mutes or unmutes our camera, and tells the peer. Unmuting in a voice call acquires a camera and upgrades the
   * call to video (renegotiation).
   */
  public setLocalVideoMuted(muted: boolean): Promise<void> {
    return this.#media.setLocalVideoMuted(muted);
  }

  /** Puts the peer on hold (we stop sending and receiving) or resumes. */
  public setRemoteOnHold(onHold: boolean): Promise<void> {
    return this.#media.setRemoteOnHold(onHold);
  }

  /**
   * Starts or stops sharing our screen (a second stream, purpose `m.screenshare`). Resolves to whether we share
   * afterwards; a failed screen capture emits `error` and leaves the call running.
   */
  public setScreensharingEnabled(enabled: boolean): Promise<boolean> {
    return this.#media.setScreensharingEnabled(enabled);
  }

  /**
   * Sends DTMF tones (`0-9`, `A-D`, `*`, `#`, `,`) on the audio sender of a connected call.
   * @throws {VoipError} `not_supported` when the platform has no DTMF sender; `invalid_state` when the call is not
   *   connected or sends no audio; `invalid_argument` for tones the platform refuses.
   */
  public sendDTMF(tones: string): void {
    if (this.#state !== CallState.Connected) {
      throw new VoipError(VoipErrorCode.InvalidState, `cannot send DTMF in state ${this.#state}`);
    }
    insertDtmf(this.#peer.current, tones);
  }

  /** Restarts ICE (new candidates, fresh TURN credentials) through a renegotiation. */
  public restartIce(): Promise<void> {
    return this.#peer.restartIce();
  }

  /** @internal The app's media devices changed: take fresh tracks from the current default devices. */
  public updateMediaDevices(): Promise<void> {
    return this.#media.updateMediaDevices();
  }

  /**
   * Tells the peer who is really on our end (MSC3086 `m.call.asserted_identity`), e.g. from a bridge or PBX.
   * @throws {VoipError} `invalid_argument` without any non-empty field; `invalid_state` for an ended call or an
   *   outgoing call whose invite is not out yet; `send_failed` when the event could not be sent.
   */
  public sendAssertedIdentity(identity: AssertedIdentity): Promise<void> {
    return this.#identities.send(identity);
  }

  /** User-media statistics of the peer connection. */
  public getStats(): Promise<CallStats> {
    return this.#media.stats();
  }

  // ── Lifecycle (called by VoIP) ────────────────────────────────────────────────────────────────────────────

  /** @internal Outgoing: acquire media, create the peer connection; the invite follows on negotiationneeded. */
  public async initOutbound(): Promise<void> {
    this.#transition(CallState.CreateOffer);
    const stream = await this.#acquireUserMedia();
    if (stream instanceof VoipError) {
      throw stream;
    }
    this.#media.attachUserMedia(stream, isLive(this.#state) ? await this.#peer.open() : undefined);
  }

  /** @internal Incoming: set the remote offer, acquire media and ring. */
  public async initWithInvite(
    offer: { sdp: string },
    metadata: wire.StreamMetadata | undefined,
  ): Promise<void> {
    const pc = await this.#peer.open();
    if (!isLive(this.#state)) {
      return;
    }
    this.#media.applyRemoteMetadata(metadata);
    try {
      await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    } catch (error) {
      this.#log.warn("invalid remote offer", { error });
      this.#terminate("local", CallErrorCode.SetRemoteDescription, true);
      await this.#signaller.hangup(CallErrorCode.SetRemoteDescription);
      return;
    }
    const stream = await this.#acquireUserMedia();
    if (stream instanceof VoipError) {
      await this.#signaller.hangup(CallErrorCode.UserMediaFailed);
      return;
    }
    if (!this.#media.attachUserMedia(stream, pc)) {
      return;
    }
    this.#transition(CallState.Ringing);
    this.#expireInviteIn(CallState.Ringing);
  }

  /** @internal Ends the call without telling the peer (busy, glare loser before ringing, disposal). */
  public endLocally(reason: CallErrorCode, shouldEmit: boolean): void {
    this.#terminate("local", reason, shouldEmit);
  }

  /** @internal This call lost glare to `newCall`. */
  public async replaceWith(newCall: CallSession): Promise<void> {
    this.emit("replaced", newCall);
    await this.hangup({ reason: CallErrorCode.Replaced });
  }

  // ── Inbound signalling (called by VoIP after validation and routing) ──────────────────────────────────────

  /** @internal */
  public handleAnswer(
    partyId: string | undefined,
    answer: { sdp: string },
    metadata: wire.StreamMetadata | undefined,
  ): Promise<void> {
    return this.#queue.run(async () => {
      const pc = this.#peer.current;
      if (this.direction !== CallDirection.Outgoing || this.#state !== CallState.InviteSent || !pc) {
        this.#log.debug("ignoring answer", { state: this.#state });
        return;
      }
      this.#ctx.clock.clearTimer(this.#inviteExpiry);
      this.#remotePartyId = partyId;
      void callDelegate(this.#log, () => this.#ctx.delegate.stopRingtone?.());
      this.#transition(CallState.Connecting);
      this.#media.applyRemoteMetadata(metadata);
      await this.#negotiator.acceptAnswer(pc, partyId, answer.sdp);
    });
  }

  /** @internal The caller chose an answer; if it is not ours, the call was answered elsewhere. */
  public handleSelectAnswer(selectedPartyId: string): void {
    if (this.direction !== CallDirection.Incoming) {
      return;
    }
    if (selectedPartyId !== this.#ctx.sessionId) {
      this.#terminate("remote", CallErrorCode.AnsweredElsewhere, true);
    }
  }

  /** @internal Another device of ours answered or rejected this ringing call. */
  public handleAnsweredElsewhere(): void {
    if (this.#state === CallState.Ringing || this.#state === CallState.Fledgling) {
      this.#terminate("remote", CallErrorCode.AnsweredElsewhere, true);
    }
  }

  /** @internal */
  public handleHangup(reason: CallErrorCode | undefined): void {
    this.#terminate("remote", reason ?? CallErrorCode.UserHangup, true);
  }

  /** @internal */
  public handleReject(reason: CallErrorCode | undefined): void {
    const ringing =
      this.#state === CallState.InviteSent ||
      this.#state === CallState.Ringing ||
      (this.#state === CallState.Fledgling && this.direction === CallDirection.Incoming);
    if (ringing) {
      this.#terminate("remote", reason ?? CallErrorCode.UserHangup, true);
    }
  }

  /** @internal */
  public handleCandidates(
    partyId: string | undefined,
    candidates: readonly InboundCandidate[],
  ): Promise<void> {
    // Bound once we know whom we talk to: always for incoming calls; for outgoing ones once an answer was taken
    // (a version-0 callee answers without a party id).
    const bound =
      this.direction === CallDirection.Incoming ||
      this.#remotePartyId !== undefined ||
      (this.#state !== CallState.CreateOffer && this.#state !== CallState.InviteSent);
    return this.#ice.handleRemoteCandidates(partyId, candidates, bound);
  }

  /** @internal Perfect negotiation over `m.call.negotiate`; the callee is polite. */
  public handleNegotiate(
    description: { type: "offer" | "answer"; sdp: string },
    metadata: wire.StreamMetadata | undefined,
  ): Promise<void> {
    return this.#queue.run(() => this.#negotiator.handleNegotiate(description, metadata));
  }

  /** @internal */
  public handleStreamMetadataChanged(metadata: wire.StreamMetadata): void {
    this.#media.applyRemoteMetadata(metadata);
  }

  /** @internal */
  public handleAssertedIdentity(content: CallAssertedIdentityContent): void {
    this.#identities.receive(content);
  }

  /** @internal */
  public handleReplaces(content: wire.ReplacesFields): void {
    this.emit("replacesReceived", content);
  }

  // ── Internals ─────────────────────────────────────────────────────────────────────────────────────────────

  #transition(to: CallState): void {
    const from = this.#state;
    if (from === to) {
      return;
    }
    assertTransition(from, to);
    this.#state = to;
    this.#log.info("state changed", { from, to });
    this.emit("stateChanged", to, from);
  }

  /** Our camera/microphone; when refused: emits `error`, ends the call (`user_media_failed`), returns the error. */
  async #acquireUserMedia(): Promise<MediaStream | VoipError> {
    try {
      return await this.#media.acquireUserMedia();
    } catch (error) {
      const failure = new VoipError(VoipErrorCode.UserMediaFailed, "could not acquire local media", {
        cause: error,
      });
      this.emit("error", failure);
      this.#terminate("local", CallErrorCode.UserMediaFailed, true);
      return failure;
    }
  }

  /** Hangs up with `invite_timeout` when the call is still in `state` once the invite's lifetime is over. */
  #expireInviteIn(state: CallState): void {
    this.#inviteExpiry = this.#ctx.clock.setTimeout(() => {
      if (this.#state === state) {
        void this.hangup({ reason: CallErrorCode.InviteTimeout });
      }
    }, this.#ctx.timeouts.callInviteLifetimeMs);
  }

  /** The one way a call ends (PROTOCOL D5). */
  #terminate(party: CallParty, reason: CallErrorCode, shouldEmit: boolean): void {
    if (this.#state === CallState.Ended) {
      return;
    }
    this.#hangupReason = reason;
    this.#ctx.clock.clearTimer(this.#inviteExpiry);
    this.#ice.dispose();
    this.#peer.close();
    const removed = this.#media.stopAll();
    const rang = this.#state !== CallState.Fledgling;
    this.#transition(CallState.Ended);
    if (rang) {
      // A call that never left Fledgling (busy) never rang: no stopRingtone (reference §9).
      void callDelegate(this.#log, () => this.#ctx.delegate.stopRingtone?.());
    }
    for (const stream of removed) {
      this.emit("streamRemoved", stream);
    }
    this.emit("ended", reason);
    this.#ctx.onTerminated(party, reason, shouldEmit);
    this.removeAllListeners();
  }

  /** @internal True once ICE connected at least once. */
  public get wasConnected(): boolean {
    return this.#connectedOnce;
  }
}
