import type { CallParticipant } from "../../call/CallParticipant.js";
import type { LegMediaSource } from "../../call/LocalMedia.js";
import { CAMERA_CONSTRAINTS, MIC_CONSTRAINTS } from "../../call/LocalMedia.js";
import { WrappedMediaStream } from "../../call/WrappedMediaStream.js";
import { VoipError, VoipErrorCode } from "../../core/errors.js";
import type { Logger } from "../../core/Logger.js";
import type { WebRTCPlatform } from "../../webrtc/WebRTCDelegate.js";

/**
 * @internal The local media of a mesh group call (reference §6.7): one camera/microphone stream and, while
 * sharing, one screen stream. Legs send clones of them ({@link LegMediaSource}); mute flags live here and are
 * applied to every leg by the runtime.
 */
export class MeshMedia implements LegMediaSource {
  #usermedia: WrappedMediaStream | undefined;
  #screenshare: WrappedMediaStream | undefined;

  public constructor(
    private readonly delegate: WebRTCPlatform,
    private readonly local: CallParticipant,
    private readonly log: Logger,
  ) {}

  /** Set by `stopAll()`: media that arrives later is stopped instead of taken. */
  #stopped = false;
  /** Our camera/microphone stream, once initialised. */
  public usermedia(): WrappedMediaStream | undefined {
    return this.#usermedia;
  }

  /** Our shared screen, while sharing. */
  public screenshare(): WrappedMediaStream | undefined {
    return this.#screenshare;
  }

  /**
   * Takes `stream` as our user media, or asks for camera and microphone (microphone only when there is no
   * camera). Resolves with the wrapped stream.
   * @throws {VoipError} `user_media_failed`
   */
  public async init(stream?: WrappedMediaStream): Promise<WrappedMediaStream> {
    if (stream) {
      this.#usermedia = stream;
      return stream;
    }
    const media = this.delegate.mediaDevices;
    let raw: MediaStream;
    try {
      raw = await media.getUserMedia({ audio: MIC_CONSTRAINTS, video: CAMERA_CONSTRAINTS });
    } catch (error) {
      this.log.debug("camera and microphone failed, trying the microphone alone", { error: String(error) });
      try {
        raw = await media.getUserMedia({ audio: MIC_CONSTRAINTS, video: false });
      } catch (cause) {
        throw new VoipError(VoipErrorCode.UserMediaFailed, "could not acquire local media", { cause });
      }
    }
    const wrapped = new WrappedMediaStream(raw, "m.usermedia", this.local, true);
    if (this.#stopped) {
      // We left while the camera and microphone were being acquired: release them at once.
      wrapped.stop(true);
      throw new VoipError(VoipErrorCode.InvalidState, "the call was left while local media was acquired");
    }
    this.#usermedia = wrapped;
    return wrapped;
  }

  /** Sets a mute flag and the tracks' `enabled`; false when nothing changed or there is no stream. */
  public setMuted(kind: "audio" | "video", muted: boolean): boolean {
    const stream = this.#usermedia;
    if (!stream) {
      return false;
    }
    const changed = kind === "audio" ? stream.setMuted(muted, undefined) : stream.setMuted(undefined, muted);
    const tracks =
      kind === "audio" ? stream.mediaStream.getAudioTracks() : stream.mediaStream.getVideoTracks();
    for (const track of tracks) {
      track.enabled = !muted;
    }
    return changed;
  }

  /** Whether the kind is muted (true when we have no such track). */
  public isMuted(kind: "audio" | "video"): boolean {
    const stream = this.#usermedia;
    if (!stream) {
      return true;
    }
    return kind === "audio" ? stream.audioMuted : stream.videoMuted;
  }

  /**
   * Captures the screen once for the whole call (legs send clones).
   * @throws {VoipError} `user_media_failed`
   */
  public async startScreenshare(onEnded: () => void): Promise<WrappedMediaStream> {
    const getDisplayMedia = this.delegate.mediaDevices.getDisplayMedia?.bind(this.delegate.mediaDevices);
    if (!getDisplayMedia) {
      throw new VoipError(VoipErrorCode.NotSupported, "this platform cannot capture the screen");
    }
    let raw: MediaStream;
    try {
      raw = await getDisplayMedia({ audio: false, video: true });
    } catch (cause) {
      throw new VoipError(VoipErrorCode.UserMediaFailed, "screen capture failed", { cause });
    }
    for (const track of raw.getTracks()) {
      track.addEventListener("ended", onEnded);
    }
    this.#screenshare = new WrappedMediaStream(raw, "m.screenshare", this.local, true);
    return this.#screenshare;
  }

  /** Stops sharing; returns the stopped stream. */
  public stopScreenshare(): WrappedMediaStream | undefined {
    const stream = this.#screenshare;
    this.#screenshare = undefined;
    stream?.stop(true);
    return stream;
  }

  /** Stops everything (we left). Returns the stopped streams. */
  public stopAll(): WrappedMediaStream[] {
    this.#stopped = true;
    const stopped = [this.#usermedia, this.stopScreenshare()].filter(
      (s): s is WrappedMediaStream => s !== undefined,
    );
    this.#usermedia?.stop(true);
    this.#usermedia = undefined;
    return stopped;
  }
}
