import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { SerialQueue } from "../core/SerialQueue.js";
import { TypedEventEmitter } from "../core/TypedEventEmitter.js";
import { AssertedIdentities } from "./assertedIdentity.js";
import type { CallContext, CallCore, CallSessionInit } from "./CallContext.js";
import { CallInbound } from "./CallInbound.js";
import { CallLifecycle } from "./CallLifecycle.js";
import { CallMedia } from "./CallMedia.js";
import { CallParticipant } from "./CallParticipant.js";
import { CallPeerConnection } from "./CallPeerConnection.js";
import { CallSetup } from "./CallSetup.js";
import { CallSignaller } from "./CallSignaller.js";
import { isLive } from "./callState.js";
import { insertDtmf } from "./dtmf.js";
import type { AssertedIdentity, CallEvents } from "./events.js";
import { IceAgent } from "./IceAgent.js";
import { Negotiator } from "./Negotiator.js";
import type * as wire from "./signalling.js";
import type { CallStats } from "./stats.js";
import { CallDirection, CallErrorCode, CallState, type CallType } from "./types.js";
import type { WrappedMediaStream } from "./WrappedMediaStream.js";

export type { CallSessionInit } from "./CallContext.js";
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
 * The session is the call's face and wires its parts, which do the work: `CallLifecycle` (the state machine, the
 * invite timer and that end path), `CallSetup` (outbound start, ringing, answering), `CallInbound` (the peer's
 * signalling), `CallMedia` (streams, mute, hold, screen share), `Negotiator` (offer/answer), `IceAgent`
 * (candidates, gathering, restarts), `CallPeerConnection` (the `RTCPeerConnection` and its events) and
 * `CallSignaller` (outbound events).
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
  /** @internal A mesh leg: the peer's session id (its `membershipID`). */
  public readonly remoteSessionId: string | undefined;
  /** @internal The peer's signalling for this call (called by `dispatchSignalling` and the routers). */
  public readonly inbound: CallInbound;
  #remoteUserId: string | undefined;
  #remoteDeviceId: string | undefined;
  #remotePartyId: string | undefined;

  readonly #log: Logger;
  readonly #lifecycle: CallLifecycle;
  readonly #setup: CallSetup;
  readonly #signaller: CallSignaller;
  readonly #ice: IceAgent;
  readonly #negotiator: Negotiator;
  readonly #media: CallMedia;
  readonly #peer: CallPeerConnection;
  readonly #identities: AssertedIdentities;

  /** @internal */
  public constructor(ctx: CallContext, init: CallSessionInit) {
    super();
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
    const queue = new SerialQueue();
    const core: CallCore = {
      ctx,
      log: this.#log,
      direction: init.direction,
      peerConnection: () => this.#peer.current,
      state: () => this.#lifecycle.state,
      emit: (event, ...args) => {
        this.emit(event, ...args);
      },
      hangup: (reason) => this.hangup({ reason }),
    };
    this.#signaller = new CallSignaller(ctx, init.callId, init.groupCallId, this.#log);
    this.#lifecycle = new CallLifecycle({
      ...core,
      signaller: this.#signaller,
      inviteOnTheWire: () => this.#negotiator.inviteOnTheWire,
      teardown: () => {
        this.#ice.dispose();
        this.#peer.close();
        this.#signaller.cancelPending();
        return this.#media.stopAll();
      },
      removeAllListeners: () => {
        this.removeAllListeners();
      },
    });
    this.#media = new CallMedia(core, {
      type: init.type,
      remoteParticipant: () =>
        new CallParticipant(this.#remoteUserId ?? "", this.#remoteDeviceId ?? "", false),
      shouldSendMetadata: () => this.#negotiator.inviteOrAnswerSent && isLive(this.#lifecycle.state),
      sendMetadata: (metadata) => this.#signaller.metadataChanged(metadata),
      source: init.media,
    });
    this.#ice = new IceAgent({
      clock: ctx.clock,
      logger: this.#log,
      batchDelayMs:
        init.direction === CallDirection.Incoming
          ? ctx.timeouts.candidateBatchIncomingMs
          : ctx.timeouts.candidateBatchOutgoingMs,
      candidateFlushMs: ctx.timeouts.candidateFlushMs,
      tcpCandidateDelayMs: ctx.timeouts.tcpCandidateDelayMs,
      fixedWaits: ctx.fixedWaits,
      peerConnection: () => this.#peer.current,
      sendCandidates: (candidates) => this.#signaller.sendCandidates(candidates),
      onGiveUp: () => {
        void this.hangup({ reason: CallErrorCode.IceTimeout });
      },
      onRecheck: () => {
        this.#peer.recheckIceConnection();
      },
    });
    this.#negotiator = new Negotiator({
      ...core,
      ice: this.#ice,
      signaller: this.#signaller,
      media: this.#media,
      transition: (to) => {
        this.#lifecycle.transition(to);
      },
      inviteAddress: () => ({ userId: this.#remoteUserId, deviceId: this.#remoteDeviceId }),
      remotePartyId: () => this.#remotePartyId,
      onInviteSent: () => {
        this.#lifecycle.expireInviteIn(CallState.InviteSent);
      },
    });
    this.#identities = new AssertedIdentities(core, this.#signaller, () => this.#negotiator.inviteOnTheWire);
    this.#peer = new CallPeerConnection({
      ...core,
      ice: this.#ice,
      media: this.#media,
      mayRestartIce: () => this.#negotiator.inviteOrAnswerSent,
      onNegotiationNeeded: () => {
        void queue.run(() => this.#negotiator.onNegotiationNeeded());
      },
      onIceConnected: () => {
        this.#lifecycle.onIceConnected();
      },
    });
    const parts = {
      ...core,
      lifecycle: this.#lifecycle,
      media: this.#media,
      negotiator: this.#negotiator,
      signaller: this.#signaller,
      queue,
    };
    this.#setup = new CallSetup({ ...parts, peer: this.#peer, ice: this.#ice });
    this.inbound = new CallInbound({
      ...parts,
      ice: this.#ice,
      identities: this.#identities,
      remotePartyId: () => this.#remotePartyId,
      bindRemoteParty: (partyId) => {
        this.#remotePartyId = partyId;
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
    return this.#lifecycle.state;
  }

  /** Why the call ended, once it has. */
  public get hangupReason(): CallErrorCode | undefined {
    return this.#lifecycle.hangupReason;
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
  public answer(): Promise<void> {
    return this.#setup.answer();
  }

  /** Rejects a ringing call (sends `m.call.reject` unless `shouldEmit` is false); hangs up any other call. */
  public reject(opts: { shouldEmit?: boolean } = {}): Promise<void> {
    return this.#lifecycle.reject(opts.shouldEmit ?? true);
  }

  /**
   * Ends the call and tells the peer (`m.call.hangup` with the reason). `shouldEmit: false` skips the local end
   * callbacks. Idempotent.
   */
  public hangup(opts: { reason?: CallErrorCode; shouldEmit?: boolean } = {}): Promise<void> {
    return this.#lifecycle.hangup(opts.reason ?? CallErrorCode.UserHangup, opts.shouldEmit ?? true);
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
    if (this.state !== CallState.Connected) {
      throw new VoipError(VoipErrorCode.InvalidState, `cannot send DTMF in state ${this.state}`);
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
  public initOutbound(): Promise<void> {
    return this.#setup.initOutbound();
  }

  /** @internal Incoming: set the remote offer, acquire media and ring. */
  public initWithInvite(offer: { sdp: string }, metadata: wire.StreamMetadata | undefined): Promise<void> {
    return this.#setup.initWithInvite(offer, metadata);
  }

  /** @internal Ends the call without telling the peer (busy, glare loser before ringing, disposal). */
  public endLocally(reason: CallErrorCode, shouldEmit: boolean): void {
    this.#lifecycle.terminate("local", reason, shouldEmit);
  }

  /** @internal This call lost glare to `newCall`. */
  public async replaceWith(newCall: CallSession): Promise<void> {
    this.emit("replaced", newCall);
    await this.hangup({ reason: CallErrorCode.Replaced });
  }

  /** @internal True once ICE connected at least once. */
  public get wasConnected(): boolean {
    return this.#lifecycle.wasConnected;
  }
}
