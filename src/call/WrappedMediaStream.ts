import type { CallParticipant } from "./CallParticipant.js";
import type { StreamPurpose } from "./signalling.js";

export type { StreamPurpose };

/**
 * A media stream of a call with its purpose, owner and mute state. Local streams are ours; remote streams come
 * from the peer, classified by the peer's `sdp_stream_metadata`.
 */
export class WrappedMediaStream {
  #mediaStream: MediaStream;
  #audioMuted = false;
  #videoMuted = false;
  #stopped = false;

  /** @internal */
  public constructor(
    mediaStream: MediaStream,
    /** Camera/microphone (`m.usermedia`) or a shared screen (`m.screenshare`). */
    public readonly purpose: StreamPurpose,
    /** The device whose stream it is. */
    public readonly participant: CallParticipant,
    /** True for our own streams, false for the peer's. */
    public readonly isLocal: boolean,
  ) {
    this.#mediaStream = mediaStream;
  }

  /** The underlying stream (attach it to a media element, or probe it in Node). */
  public get mediaStream(): MediaStream {
    return this.#mediaStream;
  }

  /** The stream id, as named in `sdp_stream_metadata`. */
  public get id(): string {
    return this.#mediaStream.id;
  }

  /** True when muted by its owner, or when it has no audio track. */
  public get audioMuted(): boolean {
    return this.#audioMuted || this.#mediaStream.getAudioTracks().length === 0;
  }

  /** True when muted by its owner, or when it has no video track. */
  public get videoMuted(): boolean {
    return this.#videoMuted || this.#mediaStream.getVideoTracks().length === 0;
  }

  /** True once the stream has ended (hangup, screenshare stopped, removed by the peer). */
  public get stopped(): boolean {
    return this.#stopped;
  }

  /** @internal */
  public setMuted(audio: boolean | undefined, video: boolean | undefined): boolean {
    const before = [this.#audioMuted, this.#videoMuted].join();
    if (audio !== undefined) {
      this.#audioMuted = audio;
    }
    if (video !== undefined) {
      this.#videoMuted = video;
    }
    return before !== [this.#audioMuted, this.#videoMuted].join();
  }

  /** @internal The mute flags as set by the owner, ignoring missing tracks. */
  public get mutedFlags(): { audio: boolean; video: boolean } {
    return { audio: this.#audioMuted, video: this.#videoMuted };
  }

  /** @internal */
  public replaceStream(stream: MediaStream): void {
    this.#mediaStream = stream;
  }

  /** @internal Marks the stream stopped; stops its tracks when `stopTracks`. */
  public stop(stopTracks: boolean): void {
    if (this.#stopped) {
      return;
    }
    this.#stopped = true;
    if (stopTracks) {
      for (const track of this.#mediaStream.getTracks()) {
        track.stop();
      }
    }
  }
}
