import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import type { CallCore } from "./CallContext.js";
import { CallParticipant } from "./CallParticipant.js";
import { isLive } from "./callState.js";
import { LocalMedia, type LegMediaSource } from "./LocalMedia.js";
import { RemoteStreams, type RemoteStreamChanges } from "./RemoteStreams.js";
import type { StreamMetadata } from "./signalling.js";
import { collectStats, type CallStats } from "./stats.js";
import { CallState, CallType } from "./types.js";
import type { StreamPurpose, WrappedMediaStream } from "./WrappedMediaStream.js";

/** @internal Options of {@link CallMedia}. */
export interface CallMediaOptions {
  type: CallType;
  /** The peer, the owner of the remote streams (asked when a remote stream appears). */
  remoteParticipant: () => CallParticipant;
  /** True when the peer should hear about changed stream metadata (the call is live and under way). */
  shouldSendMetadata: () => boolean;
  /** Sends our stream metadata to the peer, best effort. */
  sendMetadata: (metadata: StreamMetadata) => Promise<void>;
  /** A mesh leg's group media (clones are sent); absent for 1:1 calls. */
  source?: LegMediaSource | undefined;
}

/**
 * @internal The streams of one call, ours and the peer's, and what the user does with them: mute, hold, screen
 * sharing, device switches, the voice → video upgrade. Every change emits the call's stream events
 * (`streamAdded`, `streamRemoved`, `feedsChanged`, `holdChanged`) and, for our streams, tells the peer.
 */
export class CallMedia {
  readonly #host: CallCore;
  readonly #opts: CallMediaOptions;
  readonly #local: LocalMedia;
  readonly #remote: RemoteStreams;
  readonly #log: Logger;
  #type: CallType;
  #remoteOnHold = false;

  public constructor(core: CallCore, opts: CallMediaOptions) {
    this.#host = core;
    this.#opts = opts;
    this.#type = opts.type;
    this.#log = core.log;
    const us = new CallParticipant(core.ctx.client.userId, core.ctx.client.deviceId, true);
    this.#local = new LocalMedia(us, core.ctx.delegate, core.log, opts.source);
    this.#remote = new RemoteStreams(opts.remoteParticipant);
  }

  /** Voice or video (a voice call becomes video when video is unmuted). */
  public get type(): CallType {
    return this.#type;
  }

  /** Our live stream with `purpose`. */
  public local(purpose: StreamPurpose): WrappedMediaStream | undefined {
    return this.#local.get(purpose);
  }

  /** The peer's live stream with `purpose`. */
  public remote(purpose: StreamPurpose): WrappedMediaStream | undefined {
    return this.#remote.get(purpose);
  }

  /** Our streams as `sdp_stream_metadata`. */
  public metadata(): StreamMetadata {
    return this.#local.metadata();
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
    const pc = this.#host.peerConnection();
    if (this.#host.state() !== CallState.Connected || !pc) {
      return false;
    }
    const transceivers = pc.getTransceivers().filter((t) => t.currentDirection !== "stopped");
    return (
      transceivers.length > 0 &&
      transceivers.every((t) => t.currentDirection === "inactive" || t.currentDirection === "recvonly")
    );
  }

  /** True when we have put the peer on hold. */
  public isRemoteOnHold(): boolean {
    return this.#remoteOnHold;
  }

  /** Camera and microphone for a call of our type. */
  public acquireUserMedia(): Promise<MediaStream> {
    return this.#local.acquireUserMedia(this.#type);
  }

  /**
   * Sends `stream` as our user media on `pc` and returns true; when there is no peer connection or the call ended
   * meanwhile, stops the stream's tracks instead and returns false.
   */
  public attachUserMedia(stream: MediaStream, pc: RTCPeerConnection | undefined): boolean {
    if (pc === undefined || !isLive(this.#host.state())) {
      for (const track of stream.getTracks()) {
        track.stop();
      }
      return false;
    }
    const wrapped = this.#local.attach(stream, "m.usermedia", pc);
    this.#local.applyTrackEnabled(this.#remoteOnHold);
    this.#host.emit("streamAdded", wrapped);
    const screen = this.#local.attachGroupScreenshare(pc);
    if (screen) {
      this.#host.emit("streamAdded", screen);
    }
    this.#host.emit("feedsChanged");
    return true;
  }

  /** Mutes or unmutes our microphone, and tells the peer. */
  public async setMicrophoneMuted(muted: boolean): Promise<void> {
    this.#local.get("m.usermedia")?.setMuted(muted, undefined);
    await this.#updateMuteStatus();
  }

  /** Mutes or unmutes our camera, and tells the peer; unmuting in a voice call upgrades it to video. */
  public async setLocalVideoMuted(muted: boolean): Promise<void> {
    const usermedia = this.#local.get("m.usermedia");
    if (!usermedia) {
      return;
    }
    if (!muted && usermedia.mediaStream.getVideoTracks().length === 0) {
      const pc = this.#host.peerConnection();
      if (!pc || !isLive(this.#host.state())) {
        throw new VoipError(VoipErrorCode.InvalidState, "no peer connection to upgrade to video");
      }
      try {
        await this.#local.addVideoTrack(pc);
      } catch (error) {
        const err = new VoipError(VoipErrorCode.UserMediaFailed, "could not acquire a camera", {
          cause: error,
        });
        this.#host.emit("error", err);
        throw err;
      }
      this.#type = CallType.Video;
    }
    usermedia.setMuted(undefined, muted);
    await this.#updateMuteStatus();
  }

  /** Puts the peer on hold (we stop sending and receiving) or resumes. */
  public async setRemoteOnHold(onHold: boolean): Promise<void> {
    const pc = this.#host.peerConnection();
    if (this.#remoteOnHold === onHold || !pc) {
      return;
    }
    this.#remoteOnHold = onHold;
    for (const transceiver of pc.getTransceivers()) {
      if (transceiver.currentDirection !== "stopped") {
        transceiver.direction = onHold ? "sendonly" : "sendrecv";
      }
    }
    await this.#updateMuteStatus();
    this.#host.emit("holdChanged", { localOnHold: this.isLocalOnHold(), remoteOnHold: onHold });
  }

  /** Starts or stops sharing our screen; resolves to whether we share afterwards. */
  public async setScreensharingEnabled(enabled: boolean): Promise<boolean> {
    const pc = this.#host.peerConnection();
    if (!pc || !isLive(this.#host.state())) {
      return false;
    }
    if (!enabled) {
      const removed = this.#local.stopScreenshare(pc);
      if (removed) {
        this.#host.emit("streamRemoved", removed);
        this.#host.emit("feedsChanged");
      }
      return false;
    }
    if (this.#local.get("m.screenshare")) {
      return true;
    }
    try {
      const stream = await this.#local.startScreenshare(pc, () => {
        void this.setScreensharingEnabled(false);
      });
      this.#host.emit("streamAdded", stream);
      this.#host.emit("feedsChanged");
      return true;
    } catch (error) {
      this.#host.emit(
        "error",
        new VoipError(VoipErrorCode.UserMediaFailed, "screen capture failed", { cause: error }),
      );
      return false;
    }
  }

  /** Takes fresh tracks from the current default devices. */
  public async updateMediaDevices(): Promise<void> {
    const pc = this.#host.peerConnection();
    if (pc && isLive(this.#host.state())) {
      await this.#local.switchDevices(pc);
      this.#host.emit("feedsChanged");
    }
  }

  /** User-media statistics of the peer connection (screen shares do not count). */
  public stats(): Promise<CallStats> {
    return collectStats(this.#host.peerConnection(), [
      this.#local.get("m.screenshare"),
      this.#remote.get("m.screenshare"),
    ]);
  }

  /** The peer connection's `track` event. */
  public onTrack(event: RTCTrackEvent): void {
    const stream = event.streams[0];
    if (!stream || !isLive(this.#host.state())) {
      this.#log.debug("ignoring a remote track without a stream");
      return;
    }
    this.#emitRemoteChanges(this.#remote.addTrack(stream));
  }

  /** The peer's `sdp_stream_metadata` (from an invite, answer, negotiation or metadata update). */
  public applyRemoteMetadata(metadata: StreamMetadata | undefined): void {
    this.#emitRemoteChanges(this.#remote.applyMetadata(metadata));
  }

  /** Stops every stream (the call ended); returns them, ours first. */
  public stopAll(): WrappedMediaStream[] {
    return [...this.#local.stopAll(), ...this.#remote.stopAll()];
  }

  #emitRemoteChanges(changes: RemoteStreamChanges): void {
    for (const stream of changes.removed) {
      this.#host.emit("streamRemoved", stream);
    }
    for (const stream of changes.added) {
      this.#host.emit("streamAdded", stream);
    }
    if (changes.added.length > 0 || changes.removed.length > 0 || changes.changed) {
      this.#host.emit("feedsChanged");
    }
  }

  async #updateMuteStatus(): Promise<void> {
    this.#local.applyTrackEnabled(this.#remoteOnHold);
    this.#host.emit("feedsChanged");
    if (this.#opts.shouldSendMetadata()) {
      await this.#opts.sendMetadata(this.#local.metadata());
    }
  }
}
