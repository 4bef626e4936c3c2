import type { Logger } from "../core/Logger.js";
import type { WebRTCPlatform } from "../webrtc/WebRTCDelegate.js";
import type { CallParticipant } from "./CallParticipant.js";
import type { StreamMetadata } from "./signalling.js";
import { CallType } from "./types.js";
import { WrappedMediaStream, type StreamPurpose } from "./WrappedMediaStream.js";

/** Microphone constraints of the reference (reference §4). */
export const MIC_CONSTRAINTS: MediaTrackConstraints = {
  echoCancellation: true,
  noiseSuppression: true,
  autoGainControl: false,
};
/** Camera constraints of the reference (reference §4). */
export const CAMERA_CONSTRAINTS: MediaTrackConstraints = { width: 1280, height: 720, facingMode: "user" };

/**
 * @internal Where a mesh leg takes its local media: the group's streams, of which each leg sends its own clones
 * (ending one leg never stops another's tracks), instead of asking the devices once per leg.
 */
export interface LegMediaSource {
  /** The group's camera/microphone stream. */
  usermedia(): WrappedMediaStream | undefined;
  /** The group's shared screen, while sharing. */
  screenshare(): WrappedMediaStream | undefined;
}

/** @internal Our own streams in one call and the senders that carry them. */
export class LocalMedia {
  readonly #streams = new Map<StreamPurpose, WrappedMediaStream>();
  readonly #senders = new Map<StreamPurpose, RTCRtpSender[]>();

  public constructor(
    private readonly participant: CallParticipant,
    private readonly delegate: WebRTCPlatform,
    private readonly log: Logger,
    private readonly source?: LegMediaSource,
  ) {}

  /** Our live stream with `purpose`. */
  public get(purpose: StreamPurpose): WrappedMediaStream | undefined {
    return this.#streams.get(purpose);
  }

  /** Camera and microphone for a call of `type`. */
  public acquireUserMedia(type: CallType): Promise<MediaStream> {
    const given = this.source?.usermedia();
    if (given) {
      return Promise.resolve(given.mediaStream.clone());
    }
    return this.delegate.mediaDevices.getUserMedia({
      audio: MIC_CONSTRAINTS,
      video: type === CallType.Video ? CAMERA_CONSTRAINTS : false,
    });
  }

  /** Wraps `stream` and adds its tracks to `pc`. */
  public attach(stream: MediaStream, purpose: StreamPurpose, pc: RTCPeerConnection): WrappedMediaStream {
    const wrapped = new WrappedMediaStream(stream, purpose, this.participant, true);
    const group = purpose === "m.usermedia" ? this.source?.usermedia() : undefined;
    if (group) {
      // A mesh leg starts with the group's mute state.
      wrapped.setMuted(group.mutedFlags.audio, group.mutedFlags.video);
    }
    this.#streams.set(purpose, wrapped);
    this.#senders.set(
      purpose,
      stream.getTracks().map((track) => pc.addTrack(track, stream)),
    );
    return wrapped;
  }

  /** Our streams as `sdp_stream_metadata`. */
  public metadata(): StreamMetadata {
    const metadata: StreamMetadata = {};
    for (const stream of this.#streams.values()) {
      metadata[stream.id] = {
        purpose: stream.purpose,
        audio_muted: stream.audioMuted,
        video_muted: stream.videoMuted,
      };
    }
    return metadata;
  }

  /** Enables tracks per mute flags; everything is disabled while the peer is on hold. */
  public applyTrackEnabled(remoteOnHold: boolean): void {
    const usermedia = this.#streams.get("m.usermedia");
    if (!usermedia) {
      return;
    }
    const flags = usermedia.mutedFlags;
    for (const track of usermedia.mediaStream.getAudioTracks()) {
      track.enabled = !(flags.audio || remoteOnHold);
    }
    for (const track of usermedia.mediaStream.getVideoTracks()) {
      track.enabled = !(flags.video || remoteOnHold);
    }
  }

  /** Audio → video upgrade: a camera track joins the user-media stream and the peer connection. */
  public async addVideoTrack(pc: RTCPeerConnection): Promise<void> {
    const usermedia = this.#streams.get("m.usermedia");
    if (!usermedia) {
      return;
    }
    const cameraStream = await this.delegate.mediaDevices.getUserMedia({
      audio: false,
      video: CAMERA_CONSTRAINTS,
    });
    const track = cameraStream.getVideoTracks()[0];
    if (!track) {
      throw new Error("getUserMedia returned no video track");
    }
    usermedia.mediaStream.addTrack(track);
    const idle = pc
      .getTransceivers()
      .find(
        (t) =>
          t.receiver.track.kind === "video" && t.sender.track === null && t.currentDirection !== "stopped",
      );
    if (idle) {
      await idle.sender.replaceTrack(track);
      idle.direction =
        idle.direction === "recvonly" || idle.direction === "inactive" ? "sendrecv" : idle.direction;
      this.#senders.get("m.usermedia")?.push(idle.sender);
    } else {
      this.#senders.get("m.usermedia")?.push(pc.addTrack(track, usermedia.mediaStream));
    }
  }

  /** Replaces the user-media tracks with fresh ones from the current default devices (same kinds). */
  public async switchDevices(pc: RTCPeerConnection): Promise<void> {
    const usermedia = this.#streams.get("m.usermedia");
    if (!usermedia) {
      return;
    }
    const stream = usermedia.mediaStream;
    const hasAudio = stream.getAudioTracks().length > 0;
    const hasVideo = stream.getVideoTracks().length > 0;
    const fresh = await this.delegate.mediaDevices.getUserMedia({
      audio: hasAudio ? MIC_CONSTRAINTS : false,
      video: hasVideo ? CAMERA_CONSTRAINTS : false,
    });
    for (const track of fresh.getTracks()) {
      const old = stream.getTracks().find((t) => t.kind === track.kind);
      const sender = pc.getSenders().find((s) => s.track !== null && s.track === old);
      if (!old || !sender) {
        track.stop();
        continue;
      }
      track.enabled = old.enabled;
      await sender.replaceTrack(track);
      stream.removeTrack(old);
      stream.addTrack(track);
      old.stop();
    }
  }

  /** Starts screen sharing: a new stream and its senders. `onEnded` runs when the capture ends by itself. */
  public async startScreenshare(pc: RTCPeerConnection, onEnded: () => void): Promise<WrappedMediaStream> {
    const stream = await this.#captureScreen();
    for (const track of stream.getTracks()) {
      track.addEventListener("ended", onEnded);
    }
    return this.attach(stream, "m.screenshare", pc);
  }

  /** A mesh leg whose group shares its screen: sends a clone of that stream too. */
  public attachGroupScreenshare(pc: RTCPeerConnection): WrappedMediaStream | undefined {
    const shared = this.source?.screenshare();
    return shared && !this.#streams.has("m.screenshare")
      ? this.attach(shared.mediaStream.clone(), "m.screenshare", pc)
      : undefined;
  }

  /** The group's screen (a clone) for a mesh leg; otherwise a capture of our own. */
  async #captureScreen(): Promise<MediaStream> {
    const shared = this.source?.screenshare();
    if (shared) {
      return shared.mediaStream.clone();
    }
    const getDisplayMedia = this.delegate.mediaDevices.getDisplayMedia?.bind(this.delegate.mediaDevices);
    if (!getDisplayMedia) {
      throw new Error("this platform cannot capture the screen");
    }
    return getDisplayMedia({ audio: true, video: true });
  }

  /** Stops screen sharing; returns the stopped stream. */
  public stopScreenshare(pc: RTCPeerConnection): WrappedMediaStream | undefined {
    const stream = this.#streams.get("m.screenshare");
    if (!stream) {
      return undefined;
    }
    for (const sender of this.#senders.get("m.screenshare") ?? []) {
      try {
        pc.removeTrack(sender);
      } catch (error) {
        this.log.debug("removeTrack failed", { error });
      }
    }
    this.#senders.delete("m.screenshare");
    this.#streams.delete("m.screenshare");
    stream.stop(true);
    return stream;
  }

  /** Stops every local stream (the call ended); returns them. */
  public stopAll(): WrappedMediaStream[] {
    const streams = [...this.#streams.values()];
    for (const stream of streams) {
      stream.stop(true);
    }
    this.#streams.clear();
    this.#senders.clear();
    return streams;
  }
}
