// A LiveKit participant in Node (@livekit/rtc-node): joins a room (end-to-end encrypted through our key bridge, or
// not), publishes a 440 Hz tone and a video painted in its own colour, and counts per remote participant what it
// receives and what of that decrypted: tonal audio frames and frames in the sender's colour.
import {
  AudioFrame,
  AudioSource,
  AudioStream,
  LocalAudioTrack,
  LocalVideoTrack,
  Room,
  RoomEvent,
  TrackKind,
  TrackPublishOptions,
  TrackSource,
  VideoBufferType,
  VideoFrame,
  VideoSource,
  VideoStream,
  type RemoteParticipant,
  type RemoteTrack,
} from "@livekit/rtc-node";
import { ToneGenerator, TONE_CHUNK_SAMPLES, TONE_SAMPLE_RATE } from "../../src/node/frames.js";
import type { LiveKitNodeKeyBridge } from "../../src/livekitNode/index.js";
import { colourOf, isTonal, pixelMatches } from "./mediaCheck.js";

/** What one participant received from one remote participant. */
export interface ReceivedMedia {
  audioFrames: number;
  /** Audio frames that carry the tone: decrypted. */
  tonalFrames: number;
  videoFrames: number;
  /** Video frames showing the sender's colour: decrypted and decoded. */
  colourFrames: number;
  /** `performance.now()` of the first tonal audio / colour video frame. */
  firstTonalAt?: number;
  firstColourAt?: number;
  /** `performance.now()` of the latest colour video frame. */
  lastColourAt?: number;
}

const WIDTH = 160;
const HEIGHT = 120;
const FPS = 15;

/** A Node participant in a LiveKit room. */
export class NodeSfuParticipant {
  private readonly received = new Map<string, ReceivedMedia>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private readonly readers: ReadableStreamDefaultReader<unknown>[] = [];
  private audioSource: AudioSource | undefined;
  private closed = false;
  /** `performance.now()` when {@link NodeSfuParticipant.publish} returned. */
  public publishedAt: number | undefined;

  private constructor(
    public readonly identity: string,
    public readonly room: Room,
  ) {}

  /**
   * Connects to `wsUrl` with `token` (whose identity is `identity`). With a `bridge` the room is end-to-end encrypted
   * and the bridge is attached; without one the participant has no E2EE at all.
   */
  public static async join(
    wsUrl: string,
    token: string,
    identity: string,
    bridge?: LiveKitNodeKeyBridge,
  ): Promise<NodeSfuParticipant> {
    const room = new Room();
    const participant = new NodeSfuParticipant(identity, room);
    room.on(RoomEvent.TrackSubscribed, (track, _publication, remote) => {
      participant.consume(track, remote);
    });
    await room.connect(wsUrl, token, {
      autoSubscribe: true,
      dynacast: false,
      ...(bridge === undefined ? {} : { encryption: bridge.e2eeOptions }),
    });
    bridge?.attach(room);
    return participant;
  }

  /** Publishes the tone and the coloured video. */
  public async publish(): Promise<void> {
    const local = this.room.localParticipant;
    if (local === undefined) {
      throw new Error(`${this.identity} is not connected`);
    }
    const audio = new AudioSource(TONE_SAMPLE_RATE, 1);
    this.audioSource = audio;
    const tone = new ToneGenerator();
    this.every(10, () => {
      if (!this.closed && audio.queuedDuration < 100) {
        void audio
          .captureFrame(new AudioFrame(tone.next(), TONE_SAMPLE_RATE, 1, TONE_CHUNK_SAMPLES))
          .catch(() => {
            // the source was closed under us
          });
      }
    });
    const video = new VideoSource(WIDTH, HEIGHT);
    const pixels = paint(colourOf(this.identity));
    this.every(1000 / FPS, () => {
      if (!this.closed) {
        video.captureFrame(new VideoFrame(pixels, WIDTH, HEIGHT, VideoBufferType.RGBA));
      }
    });
    await local.publishTrack(
      LocalAudioTrack.createAudioTrack("tone", audio),
      new TrackPublishOptions({ source: TrackSource.SOURCE_MICROPHONE }),
    );
    await local.publishTrack(
      LocalVideoTrack.createVideoTrack("colour", video),
      new TrackPublishOptions({ source: TrackSource.SOURCE_CAMERA, simulcast: false }),
    );
    this.publishedAt = performance.now();
  }

  /** A snapshot of what arrived from `identity` (zeros when nothing did). */
  public from(identity: string): ReceivedMedia {
    return { ...(this.received.get(identity) ?? empty()) };
  }

  /** Polls until `check` accepts the media from `identity`; throws after `timeoutMs` with what arrived. */
  public async waitFor(
    identity: string,
    check: (media: ReceivedMedia) => boolean,
    what: string,
    timeoutMs = 20_000,
  ): Promise<ReceivedMedia> {
    const end = performance.now() + timeoutMs;
    for (;;) {
      const media = this.from(identity);
      if (check(media)) {
        return media;
      }
      if (performance.now() > end) {
        throw new Error(
          `${this.identity}: timed out waiting for ${what} from ${identity}: ${JSON.stringify(media)}`,
        );
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Stops publishing and leaves the room. */
  public async leave(): Promise<void> {
    if (this.closed) {
      return;
    }
    this.closed = true;
    for (const timer of this.timers) {
      clearInterval(timer);
    }
    for (const reader of this.readers) {
      void reader.cancel().catch(() => undefined);
    }
    await this.room.disconnect();
    await this.audioSource?.close();
  }

  private every(ms: number, tick: () => void): void {
    this.timers.push(setInterval(tick, ms));
  }

  private stats(identity: string): ReceivedMedia {
    let media = this.received.get(identity);
    if (media === undefined) {
      media = empty();
      this.received.set(identity, media);
    }
    return media;
  }

  private consume(track: RemoteTrack, remote: RemoteParticipant): void {
    const media = this.stats(remote.identity);
    if (track.kind === TrackKind.KIND_AUDIO) {
      const reader = new AudioStream(track, { sampleRate: TONE_SAMPLE_RATE, numChannels: 1 }).getReader();
      this.readers.push(reader);
      void drain(reader, (frame) => {
        media.audioFrames += 1;
        if (isTonal(frame.data, frame.sampleRate)) {
          media.tonalFrames += 1;
          media.firstTonalAt ??= performance.now();
        }
      });
    } else if (track.kind === TrackKind.KIND_VIDEO) {
      const expected = colourOf(remote.identity);
      const reader = new VideoStream(track).getReader();
      this.readers.push(reader);
      void drain(reader, ({ frame }) => {
        media.videoFrames += 1;
        const rgba = frame.convert(VideoBufferType.RGBA);
        const centre = ((rgba.height >> 1) * rgba.width + (rgba.width >> 1)) * 4;
        if (pixelMatches(rgba.data, centre, expected)) {
          media.colourFrames += 1;
          media.firstColourAt ??= performance.now();
          media.lastColourAt = performance.now();
        }
      });
    }
  }
}

function empty(): ReceivedMedia {
  return { audioFrames: 0, tonalFrames: 0, videoFrames: 0, colourFrames: 0 };
}

function paint(colour: readonly [number, number, number]): Uint8Array {
  const pixels = new Uint8Array(WIDTH * HEIGHT * 4);
  for (let i = 0; i < pixels.length; i += 4) {
    pixels[i] = colour[0];
    pixels[i + 1] = colour[1];
    pixels[i + 2] = colour[2];
    pixels[i + 3] = 255;
  }
  return pixels;
}

async function drain<T>(reader: ReadableStreamDefaultReader<T>, onValue: (value: T) => void): Promise<void> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        return;
      }
      onValue(value);
    }
  } catch {
    // the stream ended with the track or the room
  }
}
