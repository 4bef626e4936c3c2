import { sleep, type TimerHandle } from "../core/Clock.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { SerialQueue } from "../core/SerialQueue.js";
import { TypedEventEmitter } from "../core/TypedEventEmitter.js";
import { CallEventType } from "../matrix/eventTypes.js";
import type { CallAssertedIdentityContent, CallReplacesContent } from "../matrix/schemas/signalling.js";
import type { CallContext, CallParty } from "./CallContext.js";
import { CallParticipant } from "./CallParticipant.js";
import { CandidateBatcher, type WireCandidate } from "./CandidateBatcher.js";
import { assertTransition, isLive } from "./callState.js";
import type { CallSessionEvents } from "./events.js";
import { LocalMedia } from "./LocalMedia.js";
import { RemoteStreams, type RemoteStreamChanges } from "./RemoteStreams.js";
import * as wire from "./signalling.js";
import { summarizeStats, type CallStats } from "./stats.js";
import { CallDirection, CallErrorCode, CallState, CallType } from "./types.js";
import type { WrappedMediaStream } from "./WrappedMediaStream.js";

/** How a {@link CallSession} is created (by `VoIP`). */
export interface CallSessionInit {
  callId: string;
  roomId: string;
  type: CallType;
  direction: CallDirection;
  remoteUserId?: string;
  remoteDeviceId?: string;
  remotePartyId?: string;
  groupCallId?: string;
}

const MAX_ICE_RESTARTS = 3;

/** An inbound candidate after validation. */
export interface InboundCandidate {
  candidate: string;
  sdpMid?: string | null | undefined;
  sdpMLineIndex?: number | null | undefined;
}

/**
 * One WebRTC peer connection: a 1:1 call, or one leg of a mesh group call. Created by `VoIP.inviteToCall` and for
 * incoming invites; never constructed by apps.
 *
 * Every way a call ends goes through one path that closes the peer connection, stops the timers, removes the
 * call from the registry and fires the end callbacks exactly once (PROTOCOL D5).
 */
export class CallSession extends TypedEventEmitter<CallSessionEvents> {
  public readonly callId: string;
  public readonly roomId: string;
  public readonly direction: CallDirection;
  public readonly groupCallId?: string;
  #type: CallType;
  #state = CallState.Fledgling;
  #hangupReason: CallErrorCode | undefined;
  #remoteUserId: string | undefined;
  #remoteDeviceId: string | undefined;
  #remotePartyId: string | undefined;

  readonly #ctx: CallContext;
  readonly #log: Logger;
  readonly #queue = new SerialQueue();
  readonly #batcher: CandidateBatcher;
  readonly #local: LocalMedia;
  readonly #remote: RemoteStreams;
  #pc: RTCPeerConnection | undefined;
  #pcListeners: [string, EventListener][] = [];
  #inviteOrAnswerSent = false;
  #inviteOnTheWire = false;
  #makingOffer = false;
  #connectedOnce = false;
  #iceRestarts = 0;
  #remoteOnHold = false;
  #localOnHold = false;
  #inviteTimer: TimerHandle | undefined;
  #ringingTimer: TimerHandle | undefined;
  #gatheringFlushTimer: TimerHandle | undefined;
  #gatheringWaiters: (() => void)[] = [];
  readonly #remoteCandidates = new Map<string, RTCIceCandidateInit[]>();
  #answeredByUs = false;

  /** @internal */
  public constructor(ctx: CallContext, init: CallSessionInit) {
    super();
    this.#ctx = ctx;
    this.callId = init.callId;
    this.roomId = init.roomId;
    this.#type = init.type;
    this.direction = init.direction;
    if (init.groupCallId !== undefined) {
      this.groupCallId = init.groupCallId;
    }
    this.#remoteUserId = init.remoteUserId;
    this.#remoteDeviceId = init.remoteDeviceId;
    this.#remotePartyId = init.remotePartyId;
    this.#log = ctx.logger.child(`call:${init.callId}`);
    this.emitterLogger = this.#log;
    const local = new CallParticipant(ctx.client.userId, ctx.client.deviceId, true);
    this.#local = new LocalMedia(local, ctx.delegate, this.#log);
    this.#remote = new RemoteStreams(
      () => new CallParticipant(this.#remoteUserId ?? "", this.#remoteDeviceId ?? "", false),
    );
    this.#batcher = new CandidateBatcher({
      clock: ctx.clock,
      logger: this.#log,
      delayMs:
        init.direction === CallDirection.Incoming
          ? ctx.timeouts.candidateBatchIncomingMs
          : ctx.timeouts.candidateBatchOutgoingMs,
      send: (candidates) =>
        this.#send(CallEventType.Candidates, wire.buildCandidatesContent({ ...this.#base(), candidates })),
      onGiveUp: () => {
        void this.hangup({ reason: CallErrorCode.IceTimeout });
      },
    });
  }

  // ── Public state ──────────────────────────────────────────────────────────────────────────────────────────

  /** Voice or video (an audio-only call becomes video when video is unmuted). */
  public get type(): CallType {
    return this.#type;
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
    return this.#local.get("m.usermedia");
  }

  /** Our shared screen, while sharing. */
  public get localScreenSharingStream(): WrappedMediaStream | undefined {
    return this.#local.get("m.screenshare");
  }

  /** The peer's camera/microphone stream. */
  public get remoteUserMediaStream(): WrappedMediaStream | undefined {
    return this.#remote.get("m.usermedia");
  }

  /** The peer's shared screen; undefined once they stop sharing. Show it before the user media. */
  public get remoteScreenSharingStream(): WrappedMediaStream | undefined {
    return this.#remote.get("m.screenshare");
  }

  /** True when our microphone is muted (or we send no audio). */
  public isMicrophoneMuted(): boolean {
    return this.#local.get("m.usermedia")?.audioMuted ?? true;
  }

  /** True when our camera is muted (or we send no video). */
  public isLocalVideoMuted(): boolean {
    return this.#local.get("m.usermedia")?.videoMuted ?? true;
  }

  /** True when the peer has put us on hold: connected, and every transceiver receives nothing from us. */
  public isLocalOnHold(): boolean {
    if (this.#state !== CallState.Connected || !this.#pc) {
      return false;
    }
    const transceivers = this.#pc.getTransceivers().filter((t) => t.currentDirection !== "stopped");
    return (
      transceivers.length > 0 &&
      transceivers.every((t) => t.currentDirection === "inactive" || t.currentDirection === "recvonly")
    );
  }

  /** True when we have put the peer on hold. */
  public isRemoteOnHold(): boolean {
    return this.#remoteOnHold;
  }

  /** @internal True once our invite has started to go out (glare). */
  public get inviteOnTheWire(): boolean {
    return this.#inviteOnTheWire;
  }

  /** @internal True once we answered this (incoming) call. */
  public get answeredByUs(): boolean {
    return this.#answeredByUs;
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
    if (this.#inviteOrAnswerSent || this.#state === CallState.CreateAnswer) {
      return;
    }
    if (this.#state !== CallState.Ringing) {
      throw new VoipError(VoipErrorCode.InvalidState, `cannot answer a call in state ${this.#state}`);
    }
    this.#ctx.clock.clearTimer(this.#ringingTimer);
    void this.#safeDelegate(() => this.#ctx.delegate.stopRingtone?.());
    await this.#queue.run(() => this.#doAnswer());
  }

  /** Rejects a ringing call (sends `m.call.reject` unless `shouldEmit` is false); hangs up any other call. */
  public async reject(opts: { shouldEmit?: boolean } = {}): Promise<void> {
    const shouldEmit = opts.shouldEmit ?? true;
    if (this.#state !== CallState.Ringing && this.#state !== CallState.Fledgling) {
      await this.hangup({ reason: CallErrorCode.UserHangup, shouldEmit });
      return;
    }
    this.#transition(CallState.Ending);
    this.#terminate("local", CallErrorCode.UserHangup, shouldEmit);
    if (shouldEmit) {
      await this.#sendBestEffort(CallEventType.Reject, wire.buildRejectContent(this.#base()));
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
    const tellPeer = this.direction === CallDirection.Incoming || this.#inviteOnTheWire;
    this.#transition(CallState.Ending);
    this.#terminate("local", reason, opts.shouldEmit ?? true);
    if (tellPeer) {
      await this.#sendBestEffort(CallEventType.Hangup, wire.buildHangupContent({ ...this.#base(), reason }));
    }
  }

  /** Mutes or unmutes our microphone, and tells the peer. */
  public async setMicrophoneMuted(muted: boolean): Promise<void> {
    this.#local.get("m.usermedia")?.setMuted(muted, undefined);
    await this.#updateMuteStatus();
  }

  /**
   * Mutes or unmutes our camera, and tells the peer. Unmuting in a voice call acquires a camera and upgrades the
   * call to video (renegotiation).
   */
  public async setLocalVideoMuted(muted: boolean): Promise<void> {
    const usermedia = this.#local.get("m.usermedia");
    if (!usermedia) {
      return;
    }
    if (!muted && usermedia.mediaStream.getVideoTracks().length === 0) {
      if (!this.#pc || !isLive(this.#state)) {
        throw new VoipError(VoipErrorCode.InvalidState, "no peer connection to upgrade to video");
      }
      try {
        await this.#local.addVideoTrack(this.#pc);
      } catch (error) {
        const err = new VoipError(VoipErrorCode.UserMediaFailed, "could not acquire a camera", {
          cause: error,
        });
        this.emit("error", err);
        throw err;
      }
      this.#type = CallType.Video;
    }
    usermedia.setMuted(undefined, muted);
    await this.#updateMuteStatus();
  }

  /** Puts the peer on hold (we stop sending and receiving) or resumes. */
  public async setRemoteOnHold(onHold: boolean): Promise<void> {
    if (this.#remoteOnHold === onHold || !this.#pc) {
      return;
    }
    this.#remoteOnHold = onHold;
    for (const transceiver of this.#pc.getTransceivers()) {
      if (transceiver.currentDirection !== "stopped") {
        transceiver.direction = onHold ? "sendonly" : "sendrecv";
      }
    }
    await this.#updateMuteStatus();
    this.emit("holdChanged", { localOnHold: this.isLocalOnHold(), remoteOnHold: onHold });
  }

  /**
   * Starts or stops sharing our screen (a second stream, purpose `m.screenshare`). Resolves to whether we share
   * afterwards; a failed screen capture emits `error` and leaves the call running.
   */
  public async setScreensharingEnabled(enabled: boolean): Promise<boolean> {
    if (!this.#pc || !isLive(this.#state)) {
      return false;
    }
    if (!enabled) {
      const removed = this.#local.stopScreenshare(this.#pc);
      if (removed) {
        this.emit("streamRemoved", removed);
        this.emit("feedsChanged");
      }
      return false;
    }
    if (this.#local.get("m.screenshare")) {
      return true;
    }
    try {
      const stream = await this.#local.startScreenshare(this.#pc, () => {
        void this.setScreensharingEnabled(false);
      });
      this.emit("streamAdded", stream);
      this.emit("feedsChanged");
      return true;
    } catch (error) {
      this.emit(
        "error",
        new VoipError(VoipErrorCode.UserMediaFailed, "screen capture failed", { cause: error }),
      );
      return false;
    }
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
    const sender = this.#pc?.getSenders().find((s) => s.track?.kind === "audio");
    if (!sender) {
      throw new VoipError(VoipErrorCode.InvalidState, "no audio sender to send DTMF on");
    }
    const dtmf = (sender as Partial<Pick<RTCRtpSender, "dtmf">>).dtmf;
    if (!dtmf) {
      throw new VoipError(VoipErrorCode.NotSupported, "this platform has no DTMF sender");
    }
    try {
      dtmf.insertDTMF(tones);
    } catch (error) {
      const invalidTones = error instanceof Error && error.name === "InvalidCharacterError";
      throw new VoipError(
        invalidTones ? VoipErrorCode.InvalidArgument : VoipErrorCode.InvalidState,
        invalidTones ? `invalid DTMF tones: ${JSON.stringify(tones)}` : "the DTMF sender refused the tones",
        { cause: error },
      );
    }
  }

  /** Restarts ICE (new candidates, fresh TURN credentials) through a renegotiation. */
  public async restartIce(): Promise<void> {
    const pc = this.#pc;
    if (!pc || !isLive(this.#state)) {
      throw new VoipError(VoipErrorCode.InvalidState, "no live peer connection");
    }
    try {
      const iceServers = await this.#ctx.getIceServers();
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
    } catch (error) {
      this.#log.warn("could not refresh ICE servers for the restart", { error });
    }
    pc.restartIce();
  }

  /** @internal The app's media devices changed: take fresh tracks from the current default devices. */
  public async updateMediaDevices(): Promise<void> {
    if (this.#pc && isLive(this.#state)) {
      await this.#local.switchDevices(this.#pc);
      this.emit("feedsChanged");
    }
  }

  /** User-media statistics of the peer connection. */
  public async getStats(): Promise<CallStats> {
    if (!this.#pc) {
      return summarizeStats(new Map());
    }
    const screenTracks = new Set<string>();
    for (const stream of [this.#local.get("m.screenshare"), this.#remote.get("m.screenshare")]) {
      for (const track of stream?.mediaStream.getTracks() ?? []) {
        screenTracks.add(track.id);
      }
    }
    return summarizeStats(await this.#pc.getStats(), screenTracks);
  }

  // ── Lifecycle (called by VoIP) ────────────────────────────────────────────────────────────────────────────

  /** @internal Outgoing: acquire media, create the peer connection; the invite follows on negotiationneeded. */
  public async initOutbound(): Promise<void> {
    this.#transition(CallState.CreateOffer);
    let stream: MediaStream;
    try {
      stream = await this.#local.acquireUserMedia(this.#type);
    } catch (error) {
      this.#terminate("local", CallErrorCode.UserMediaFailed, true);
      throw new VoipError(VoipErrorCode.UserMediaFailed, "could not acquire local media", { cause: error });
    }
    if (!isLive(this.#state)) {
      stopTracks(stream);
      return;
    }
    const pc = await this.#createPeerConnection();
    if (!isLive(this.#state)) {
      stopTracks(stream);
      return;
    }
    const wrapped = this.#local.attach(stream, "m.usermedia", pc);
    this.emit("streamAdded", wrapped);
    this.emit("feedsChanged");
  }

  /** @internal Incoming: set the remote offer, acquire media and ring. */
  public async initWithInvite(
    offer: { sdp: string },
    metadata: wire.StreamMetadata | undefined,
  ): Promise<void> {
    const pc = await this.#createPeerConnection();
    if (!isLive(this.#state)) {
      return;
    }
    this.#applyRemoteMetadata(metadata);
    try {
      await pc.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    } catch (error) {
      this.#log.warn("invalid remote offer", { error });
      this.#terminate("local", CallErrorCode.SetRemoteDescription, true);
      await this.#sendBestEffort(
        CallEventType.Hangup,
        wire.buildHangupContent({ ...this.#base(), reason: CallErrorCode.SetRemoteDescription }),
      );
      return;
    }
    if (!this.isGroupCall) {
      let stream: MediaStream;
      try {
        stream = await this.#local.acquireUserMedia(this.#type);
      } catch (error) {
        this.emit(
          "error",
          new VoipError(VoipErrorCode.UserMediaFailed, "could not acquire local media", { cause: error }),
        );
        this.#terminate("local", CallErrorCode.UserMediaFailed, true);
        await this.#sendBestEffort(
          CallEventType.Hangup,
          wire.buildHangupContent({ ...this.#base(), reason: CallErrorCode.UserMediaFailed }),
        );
        return;
      }
      if (!isLive(this.#state)) {
        stopTracks(stream);
        return;
      }
      const wrapped = this.#local.attach(stream, "m.usermedia", pc);
      this.emit("streamAdded", wrapped);
      this.emit("feedsChanged");
    }
    this.#transition(CallState.Ringing);
    this.#ringingTimer = this.#ctx.clock.setTimeout(() => {
      if (this.#state === CallState.Ringing) {
        void this.hangup({ reason: CallErrorCode.InviteTimeout });
      }
    }, this.#ctx.timeouts.callInviteLifetimeMs);
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
      if (this.direction !== CallDirection.Outgoing || this.#state !== CallState.InviteSent || !this.#pc) {
        this.#log.debug("ignoring answer", { state: this.#state });
        return;
      }
      this.#ctx.clock.clearTimer(this.#inviteTimer);
      this.#remotePartyId = partyId;
      void this.#safeDelegate(() => this.#ctx.delegate.stopRingtone?.());
      this.#transition(CallState.Connecting);
      this.#applyRemoteMetadata(metadata);
      try {
        await this.#pc.setRemoteDescription({ type: "answer", sdp: answer.sdp });
      } catch (error) {
        this.#log.warn("invalid remote answer", { error });
        await this.hangup({ reason: CallErrorCode.SetRemoteDescription });
        return;
      }
      await this.#applyBufferedCandidates(partyId);
      if (partyId !== undefined) {
        await this.#sendBestEffort(
          CallEventType.SelectAnswer,
          wire.buildSelectAnswerContent({ ...this.#base(), selectedPartyId: partyId }),
        );
      }
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
  public async handleCandidates(
    partyId: string | undefined,
    candidates: readonly InboundCandidate[],
  ): Promise<void> {
    const valid: RTCIceCandidateInit[] = [];
    for (const c of candidates) {
      if (typeof c.candidate === "string" && c.candidate.length > 0) {
        valid.push({ candidate: c.candidate, sdpMid: c.sdpMid ?? "", sdpMLineIndex: c.sdpMLineIndex ?? 0 });
      }
    }
    if (valid.length === 0) {
      return;
    }
    const pc = this.#pc;
    const bound = this.direction === CallDirection.Incoming || this.#remotePartyId !== undefined;
    if (!pc?.remoteDescription || !bound) {
      const key = partyId ?? "";
      this.#remoteCandidates.set(key, [...(this.#remoteCandidates.get(key) ?? []), ...valid]);
      return;
    }
    await this.#addCandidates(valid);
  }

  /** @internal Perfect negotiation over `m.call.negotiate`; the callee is polite. */
  public handleNegotiate(
    description: { type: "offer" | "answer"; sdp: string },
    metadata: wire.StreamMetadata | undefined,
  ): Promise<void> {
    return this.#queue.run(async () => {
      const pc = this.#pc;
      if (!pc || !isLive(this.#state)) {
        return;
      }
      const polite = this.direction === CallDirection.Incoming;
      const collision = description.type === "offer" && (this.#makingOffer || pc.signalingState !== "stable");
      if (collision && !polite) {
        this.#log.info("ignoring colliding offer (impolite side)");
        return;
      }
      if (description.type === "answer" && pc.signalingState !== "have-local-offer") {
        this.#log.debug("ignoring unexpected negotiate answer", { signalingState: pc.signalingState });
        return;
      }
      const wasLocalOnHold = this.isLocalOnHold();
      this.#applyRemoteMetadata(metadata);
      try {
        if (collision) {
          await pc.setLocalDescription({ type: "rollback" });
        }
        await pc.setRemoteDescription(description);
        if (description.type === "offer") {
          const answer = await pc.createAnswer();
          await pc.setLocalDescription(answer);
          const sdp = pc.localDescription?.sdp ?? answer.sdp ?? "";
          await this.#send(
            CallEventType.Negotiate,
            wire.buildNegotiateAnswerContent({
              ...this.#base(),
              lifetimeMs: this.#ctx.timeouts.defaultCallEventLifetimeMs,
              answerSdp: sdp,
            }),
          );
        }
      } catch (error) {
        this.#log.warn("renegotiation failed", { error });
        this.emit(
          "error",
          new VoipError(VoipErrorCode.LocalOfferFailed, "renegotiation failed", { cause: error }),
        );
        await this.hangup({ reason: CallErrorCode.LocalOfferFailed });
        return;
      }
      const localOnHold = this.isLocalOnHold();
      if (localOnHold !== wasLocalOnHold || localOnHold !== this.#localOnHold) {
        this.#localOnHold = localOnHold;
        this.emit("holdChanged", { localOnHold, remoteOnHold: this.#remoteOnHold });
      }
    });
  }

  /** @internal */
  public handleStreamMetadataChanged(metadata: wire.StreamMetadata): void {
    this.#applyRemoteMetadata(metadata);
  }

  /** @internal */
  public handleAssertedIdentity(identity: CallAssertedIdentityContent["asserted_identity"]): void {
    this.emit("assertedIdentityChanged", identity);
  }

  /** @internal */
  public handleReplaces(content: CallReplacesContent): void {
    this.emit("replacesReceived", content);
  }

  // ── Internals ─────────────────────────────────────────────────────────────────────────────────────────────

  #base(): wire.SignallingBase {
    return {
      callId: this.callId,
      partyId: this.#ctx.sessionId,
      ...(this.groupCallId !== undefined ? { groupCallId: this.groupCallId } : {}),
    };
  }

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

  async #send(type: CallEventType, content: object): Promise<void> {
    await this.#ctx.transport.send(type, content);
  }

  async #sendBestEffort(type: CallEventType, content: object): Promise<void> {
    try {
      await this.#send(type, content);
    } catch (error) {
      this.#log.warn("could not send call event", { type, error });
    }
  }

  async #safeDelegate(fn: () => unknown): Promise<void> {
    try {
      await fn();
    } catch (error) {
      this.#log.warn("delegate callback failed", { error });
    }
  }

  async #createPeerConnection(): Promise<RTCPeerConnection> {
    let iceServers: RTCIceServer[] = [];
    try {
      iceServers = await this.#ctx.getIceServers();
    } catch (error) {
      this.#log.warn("no ICE servers", { error });
    }
    const pc = await this.#ctx.delegate.createPeerConnection({ iceServers });
    this.#pc = pc;
    if (!isLive(this.#state)) {
      pc.close();
      return pc;
    }
    const listen = (type: string, fn: (event: Event) => void): void => {
      const listener: EventListener = (event) => {
        try {
          fn(event);
        } catch (error) {
          this.#log.error("peer connection handler failed", { type, error });
        }
      };
      pc.addEventListener(type, listener);
      this.#pcListeners.push([type, listener]);
    };
    listen("icecandidate", (e) => {
      this.#onIceCandidate((e as RTCPeerConnectionIceEvent).candidate);
    });
    listen("icegatheringstatechange", () => {
      this.#onIceGatheringState();
    });
    listen("iceconnectionstatechange", () => {
      this.#onIceConnectionState();
    });
    listen("negotiationneeded", () => {
      void this.#queue.run(() => this.#onNegotiationNeeded());
    });
    listen("track", (e) => {
      this.#onTrack(e as RTCTrackEvent);
    });
    return pc;
  }

  #onIceCandidate(candidate: RTCIceCandidate | null): void {
    if (!isLive(this.#state)) {
      return;
    }
    if (!candidate?.candidate) {
      this.#batcher.flushSoon();
      return;
    }
    const wireCandidate: WireCandidate = {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid,
      sdpMLineIndex: candidate.sdpMLineIndex,
    };
    this.#batcher.add(wireCandidate);
  }

  #onIceGatheringState(): void {
    const state = this.#pc?.iceGatheringState;
    if (state === "gathering" && this.#gatheringFlushTimer === undefined) {
      this.#gatheringFlushTimer = this.#ctx.clock.setTimeout(() => {
        this.#gatheringFlushTimer = undefined;
        this.#batcher.flushSoon();
      }, this.#ctx.timeouts.candidateFlushMs);
    } else if (state === "complete") {
      this.#ctx.clock.clearTimer(this.#gatheringFlushTimer);
      this.#gatheringFlushTimer = undefined;
      this.#batcher.flushSoon();
      const waiters = this.#gatheringWaiters;
      this.#gatheringWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
  }

  /** Waits for ICE gathering to complete, at most `capMs` (or exactly `capMs` while gathering, in fixed mode). */
  async #waitForGathering(capMs: number, always: boolean): Promise<void> {
    const pc = this.#pc;
    if (!pc) {
      return;
    }
    if (this.#ctx.fixedWaits) {
      if (always || pc.iceGatheringState === "gathering") {
        await sleep(this.#ctx.clock, capMs);
      }
      return;
    }
    if (pc.iceGatheringState === "complete" || capMs <= 0) {
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = this.#ctx.clock.setTimeout(done, capMs);
      function done(): void {
        resolve();
      }
      this.#gatheringWaiters.push(() => {
        this.#ctx.clock.clearTimer(timer);
        resolve();
      });
    });
  }

  #onIceConnectionState(): void {
    const pc = this.#pc;
    if (!pc || !isLive(this.#state)) {
      return;
    }
    const ice = pc.iceConnectionState;
    this.#log.debug("ICE connection state", { ice });
    if (ice === "connected" || ice === "completed") {
      this.#iceRestarts = 0;
      this.#remoteCandidates.clear();
      if (this.#state === CallState.Connecting) {
        this.#connectedOnce = true;
        this.#transition(CallState.Connected);
      }
    } else if ((ice === "failed" || ice === "disconnected") && this.#inviteOrAnswerSent) {
      if (this.#iceRestarts < MAX_ICE_RESTARTS) {
        this.#iceRestarts++;
        this.#log.warn("ICE trouble, restarting", { ice, attempt: this.#iceRestarts });
        this.restartIce().catch((error: unknown) => {
          this.#log.warn("ICE restart failed", { error });
        });
      } else {
        this.#log.error("ICE failed after restarts", { restarts: this.#iceRestarts });
        void this.hangup({ reason: CallErrorCode.IceFailed });
      }
    }
  }

  #onTrack(event: RTCTrackEvent): void {
    const stream = event.streams[0];
    if (!stream || !isLive(this.#state)) {
      this.#log.debug("ignoring a remote track without a stream");
      return;
    }
    this.#emitRemoteChanges(this.#remote.addTrack(stream));
  }

  #applyRemoteMetadata(metadata: wire.StreamMetadata | undefined): void {
    this.#emitRemoteChanges(this.#remote.applyMetadata(metadata));
  }

  #emitRemoteChanges(changes: RemoteStreamChanges): void {
    for (const stream of changes.removed) {
      this.emit("streamRemoved", stream);
    }
    for (const stream of changes.added) {
      this.emit("streamAdded", stream);
    }
    if (changes.added.length > 0 || changes.removed.length > 0 || changes.changed) {
      this.emit("feedsChanged");
    }
  }

  async #onNegotiationNeeded(): Promise<void> {
    const pc = this.#pc;
    if (!pc || !isLive(this.#state)) {
      return;
    }
    const firstOffer = this.direction === CallDirection.Outgoing && this.#state === CallState.CreateOffer;
    if (!firstOffer && !this.#inviteOrAnswerSent) {
      // The callee's first answer covers every change made before it.
      return;
    }
    this.#makingOffer = true;
    try {
      if (this.#ctx.timeouts.delayBeforeOfferMs > 0) {
        await sleep(this.#ctx.clock, this.#ctx.timeouts.delayBeforeOfferMs);
      }
      if (!isLive(this.#state)) {
        return;
      }
      const offer = await pc.createOffer();
      if (!isLive(this.#state)) {
        return;
      }
      try {
        await pc.setLocalDescription(offer);
      } catch (error) {
        this.emit(
          "error",
          new VoipError(VoipErrorCode.SetLocalDescription, "setLocalDescription failed", { cause: error }),
        );
        await this.hangup({ reason: CallErrorCode.SetLocalDescription });
        return;
      }
      await this.#waitForGathering(this.#ctx.timeouts.iceGatheringDelayMs, false);
      if (!isLive(this.#state)) {
        return;
      }
      const description = { type: "offer" as const, sdp: pc.localDescription?.sdp ?? offer.sdp ?? "" };
      const metadata = this.#local.metadata();
      this.#batcher.discardQueued();
      if (firstOffer) {
        this.#inviteOnTheWire = true;
        await this.#send(
          CallEventType.Invite,
          wire.buildInviteContent({
            ...this.#base(),
            lifetimeMs: this.#ctx.timeouts.callInviteLifetimeMs,
            offerSdp: description.sdp,
            metadata,
            ...(this.#remoteUserId !== undefined ? { invitee: this.#remoteUserId } : {}),
            ...(this.#remoteDeviceId !== undefined
              ? { target: { inviteeDeviceId: this.#remoteDeviceId, ownDeviceId: this.#ctx.client.deviceId } }
              : {}),
          }),
        );
        if (!isLive(this.#state)) {
          return;
        }
        this.#inviteOrAnswerSent = true;
        this.#transition(CallState.InviteSent);
        this.#batcher.enable();
        this.#inviteTimer = this.#ctx.clock.setTimeout(() => {
          if (this.#state === CallState.InviteSent) {
            void this.hangup({ reason: CallErrorCode.InviteTimeout });
          }
        }, this.#ctx.timeouts.callInviteLifetimeMs);
      } else {
        await this.#send(
          CallEventType.Negotiate,
          wire.buildNegotiateOfferContent({
            ...this.#base(),
            lifetimeMs: this.#ctx.timeouts.defaultCallEventLifetimeMs,
            offerSdp: description.sdp,
            metadata,
          }),
        );
      }
    } catch (error) {
      if (!isLive(this.#state)) {
        return;
      }
      this.#log.warn("creating or sending the offer failed", { error });
      this.emit(
        "error",
        new VoipError(VoipErrorCode.LocalOfferFailed, "could not create or send the offer", { cause: error }),
      );
      await this.hangup({ reason: CallErrorCode.LocalOfferFailed });
    } finally {
      this.#makingOffer = false;
    }
  }

  async #doAnswer(): Promise<void> {
    const pc = this.#pc;
    if (!pc || this.#state !== CallState.Ringing) {
      return;
    }
    this.#transition(CallState.CreateAnswer);
    let answer: RTCSessionDescriptionInit;
    try {
      answer = await pc.createAnswer();
    } catch (error) {
      this.emit("error", new VoipError(VoipErrorCode.CreateAnswer, "createAnswer failed", { cause: error }));
      await this.hangup({ reason: CallErrorCode.CreateAnswer });
      return;
    }
    try {
      await pc.setLocalDescription(answer);
    } catch (error) {
      this.emit(
        "error",
        new VoipError(VoipErrorCode.SetLocalDescription, "setLocalDescription failed", { cause: error }),
      );
      await this.hangup({ reason: CallErrorCode.SetLocalDescription });
      return;
    }
    if (!isLive(this.#state)) {
      return;
    }
    this.#transition(CallState.Connecting);
    await this.#waitForGathering(this.#ctx.timeouts.answerDelayMs, true);
    if (!isLive(this.#state)) {
      return;
    }
    const sdp = pc.localDescription?.sdp ?? answer.sdp ?? "";
    this.#batcher.discardQueued();
    this.#answeredByUs = true;
    try {
      await this.#send(
        CallEventType.Answer,
        wire.buildAnswerContent({ ...this.#base(), answerSdp: sdp, metadata: this.#local.metadata() }),
      );
    } catch (error) {
      this.emit(
        "error",
        new VoipError(VoipErrorCode.SendFailed, "could not send the answer", { cause: error }),
      );
      await this.hangup({ reason: CallErrorCode.UnknownError });
      return;
    }
    this.#inviteOrAnswerSent = true;
    this.#batcher.enable();
    await this.#applyBufferedCandidates(this.#remotePartyId);
  }

  async #applyBufferedCandidates(partyId: string | undefined): Promise<void> {
    const buffered = [
      ...(this.#remoteCandidates.get(partyId ?? "") ?? []),
      ...(partyId !== undefined ? (this.#remoteCandidates.get("") ?? []) : []),
    ];
    this.#remoteCandidates.clear();
    await this.#addCandidates(buffered);
  }

  async #addCandidates(candidates: RTCIceCandidateInit[]): Promise<void> {
    for (const candidate of candidates) {
      try {
        await this.#pc?.addIceCandidate(candidate);
      } catch (error) {
        this.#log.debug("could not add a remote candidate", { error });
      }
    }
  }

  async #updateMuteStatus(): Promise<void> {
    this.#local.applyTrackEnabled(this.#remoteOnHold);
    this.emit("feedsChanged");
    if (this.#inviteOrAnswerSent && isLive(this.#state)) {
      await this.#sendBestEffort(
        CallEventType.SdpStreamMetadataChanged,
        wire.buildMetadataChangedContent({ ...this.#base(), metadata: this.#local.metadata() }),
      );
    }
  }

  /** The one way a call ends (PROTOCOL D5). */
  #terminate(party: CallParty, reason: CallErrorCode, shouldEmit: boolean): void {
    if (this.#state === CallState.Ended) {
      return;
    }
    this.#hangupReason = reason;
    for (const timer of [this.#inviteTimer, this.#ringingTimer, this.#gatheringFlushTimer]) {
      this.#ctx.clock.clearTimer(timer);
    }
    this.#batcher.dispose();
    for (const resolve of this.#gatheringWaiters) {
      resolve();
    }
    this.#gatheringWaiters = [];
    const pc = this.#pc;
    if (pc) {
      for (const [type, listener] of this.#pcListeners) {
        pc.removeEventListener(type, listener);
      }
      this.#pcListeners = [];
      try {
        pc.close();
      } catch (error) {
        this.#log.debug("closing the peer connection failed", { error });
      }
    }
    const removed = [...this.#local.stopAll(), ...this.#remote.stopAll()];
    const rang = this.#state !== CallState.Fledgling;
    this.#transition(CallState.Ended);
    if (rang) {
      // A call that never left Fledgling (busy) never rang: no stopRingtone (reference §9).
      void this.#safeDelegate(() => this.#ctx.delegate.stopRingtone?.());
    }
    for (const stream of removed) {
      this.emit("streamRemoved", stream);
    }
    this.emit("ended", reason);
    this.#ctx.onTerminated(this, party, reason, shouldEmit);
    this.removeAllListeners();
  }

  /** @internal True once ICE connected at least once. */
  public get wasConnected(): boolean {
    return this.#connectedOnce;
  }
}

function stopTracks(stream: MediaStream): void {
  for (const track of stream.getTracks()) {
    track.stop();
  }
}
