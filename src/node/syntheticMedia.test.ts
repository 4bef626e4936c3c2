import { setTimeout as sleep } from "node:timers/promises";

import { afterEach, describe, expect, it } from "vitest";

import { DEFAULT_CAMERA_FORMAT } from "./createNodeDelegate.js";
import {
  activeSourceCount,
  createPatternTrack,
  createSyntheticStream,
  createToneTrack,
} from "./syntheticMedia.js";
import { loadWrtc, type WrtcAudioSink, type WrtcVideoSink } from "./wrtc.js";

const wrtc = loadWrtc();
const tracks: MediaStreamTrack[] = [];
const sinks: (WrtcAudioSink | WrtcVideoSink)[] = [];

function own<T extends MediaStreamTrack>(track: T): T {
  tracks.push(track);
  return track;
}

/** Counts the samples a (local) audio track carries. */
function countSamples(track: MediaStreamTrack): () => number {
  let samples = 0;
  const sink = new wrtc.nonstandard.RTCAudioSink(track);
  sink.ondata = (data) => {
    samples += data.numberOfFrames ?? 0;
  };
  sinks.push(sink);
  return () => samples;
}

/** Counts the frames a (local) video track carries. */
function countFrames(track: MediaStreamTrack): () => number {
  let frames = 0;
  const sink = new wrtc.nonstandard.RTCVideoSink(track);
  sink.onframe = () => {
    frames++;
  };
  sinks.push(sink);
  return () => frames;
}

afterEach(() => {
  for (const sink of sinks.splice(0)) {
    sink.stop();
  }
  for (const track of tracks.splice(0)) {
    track.stop();
  }
  expect(activeSourceCount()).toBe(0);
});

describe("synthetic sources", () => {
  it("feed 48 000 samples a second of audio and the configured frame rate of video", async () => {
    const audio = own(createToneTrack(wrtc));
    const video = own(createPatternTrack(wrtc, DEFAULT_CAMERA_FORMAT, "camera"));
    const samples = countSamples(audio);
    const frames = countFrames(video);
    const startedAt = performance.now();
    await sleep(500);
    const seconds = (performance.now() - startedAt) / 1000;
    expect(samples() / seconds).toBeGreaterThan(48_000 * 0.8);
    expect(samples() / seconds).toBeLessThan(48_000 * 1.2);
    expect(frames() / seconds).toBeGreaterThan(15 * 0.6);
    expect(frames() / seconds).toBeLessThan(15 * 1.3);
  });

  it("stop feeding when the track is stopped: the source timer ends and no more data flows", async () => {
    const audio = own(createToneTrack(wrtc));
    const video = own(createPatternTrack(wrtc, { width: 64, height: 48, fps: 30 }, "screen"));
    expect(activeSourceCount()).toBe(2);
    const audioClone = own(audio.clone());
    const samples = countSamples(audioClone);
    const frames = countFrames(video);
    await sleep(150);
    expect(samples()).toBeGreaterThan(0);
    expect(frames()).toBeGreaterThan(0);

    audio.stop();
    video.stop();
    expect(activeSourceCount()).toBe(1); // the audio clone is still live
    const before = samples();
    await sleep(100);
    expect(samples()).toBeGreaterThan(before); // the clone keeps carrying the tone

    audioClone.stop();
    audioClone.stop(); // idempotent: must not under-count
    expect(activeSourceCount()).toBe(0);
    await sleep(50);
    const settled = samples();
    const settledFrames = frames();
    await sleep(150);
    expect(samples()).toBe(settled);
    expect(frames()).toBe(settledFrames); // the stopped video source sends no more frames either
  });

  it("count clones of clones and of streams; a clone of a stopped track does not restart the source", () => {
    const video = own(createPatternTrack(wrtc, DEFAULT_CAMERA_FORMAT, "camera"));
    const audio = own(createToneTrack(wrtc));
    const stream = createSyntheticStream(wrtc, [audio, video]);
    const streamCopy = stream.clone();
    const grandchild = own(own(video.clone()).clone());
    for (const track of streamCopy.getTracks()) {
      own(track);
      expect(track.label).toMatch(/Synthetic/);
    }
    expect(activeSourceCount()).toBe(2);

    for (const track of stream.getTracks()) {
      track.stop();
    }
    expect(activeSourceCount()).toBe(2);
    for (const track of streamCopy.getTracks()) {
      track.stop();
    }
    expect(activeSourceCount()).toBe(1); // video: the clone chain is still live
    const late = own(audio.clone());
    expect(late.readyState).toBe("ended");
    expect(activeSourceCount()).toBe(1);

    for (const track of tracks) {
      track.stop();
    }
    expect(grandchild.readyState).toBe("ended");
    expect(activeSourceCount()).toBe(0);
  });
});
