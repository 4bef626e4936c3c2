import type { CallParticipant } from "./CallParticipant.js";
import type { StreamMetadata } from "./signalling.js";
import { WrappedMediaStream, type StreamPurpose } from "./WrappedMediaStream.js";

/** What changed in the remote streams after an input. */
export interface RemoteStreamChanges {
  added: WrappedMediaStream[];
  removed: WrappedMediaStream[];
  /** Mute flags or tracks changed. */
  changed: boolean;
}

/**
 * The peer's streams, classified by the peer's `sdp_stream_metadata` (reference §5.10): a track's stream id
 * names its purpose; a stream the latest metadata no longer lists has stopped.
 */
export class RemoteStreams {
  #metadata: StreamMetadata | undefined;
  readonly #streams = new Map<string, WrappedMediaStream>();

  public constructor(private readonly participant: () => CallParticipant) {}

  /** The live remote stream with `purpose`. */
  public get(purpose: StreamPurpose): WrappedMediaStream | undefined {
    for (const stream of this.#streams.values()) {
      if (stream.purpose === purpose && !stream.stopped) {
        return stream;
      }
    }
    return undefined;
  }

  /** Every live remote stream. */
  public all(): WrappedMediaStream[] {
    return [...this.#streams.values()];
  }

  /** Applies new metadata: mute flags, and streams it no longer lists are stopped and removed. */
  public applyMetadata(metadata: StreamMetadata | undefined): RemoteStreamChanges {
    const changes: RemoteStreamChanges = { added: [], removed: [], changed: false };
    if (metadata === undefined) {
      return changes;
    }
    this.#metadata = metadata;
    for (const [id, stream] of this.#streams) {
      const entry = metadata[id];
      if (entry === undefined) {
        stream.stop(false);
        this.#streams.delete(id);
        changes.removed.push(stream);
      } else if (stream.setMuted(entry.audio_muted, entry.video_muted)) {
        changes.changed = true;
      }
    }
    return changes;
  }

  /** A remote track arrived in `mediaStream`. */
  public addTrack(mediaStream: MediaStream): RemoteStreamChanges {
    const changes: RemoteStreamChanges = { added: [], removed: [], changed: false };
    const existing = this.#streams.get(mediaStream.id);
    if (existing) {
      if (existing.mediaStream !== mediaStream) {
        existing.replaceStream(mediaStream);
      }
      changes.changed = true;
      return changes;
    }
    const purpose = this.#purposeOf(mediaStream.id);
    const previous = this.get(purpose);
    if (previous) {
      previous.stop(false);
      this.#streams.delete(previous.id);
      changes.removed.push(previous);
    }
    const wrapped = new WrappedMediaStream(mediaStream, purpose, this.participant(), false);
    const entry = this.#metadata?.[mediaStream.id];
    if (entry) {
      wrapped.setMuted(entry.audio_muted, entry.video_muted);
    }
    this.#streams.set(mediaStream.id, wrapped);
    changes.added.push(wrapped);
    return changes;
  }

  /** Stops every stream (the call ended). */
  public stopAll(): WrappedMediaStream[] {
    const removed = [...this.#streams.values()];
    for (const stream of removed) {
      stream.stop(false);
    }
    this.#streams.clear();
    return removed;
  }

  #purposeOf(streamId: string): StreamPurpose {
    const purpose = this.#metadata?.[streamId]?.purpose;
    if (purpose === "m.usermedia" || purpose === "m.screenshare") {
      return purpose;
    }
    // A peer without metadata (or a stream it did not describe yet): the first stream is user media.
    return this.get("m.usermedia") ? "m.screenshare" : "m.usermedia";
  }
}
