/**
 * Two peer connections from createNodeDelegate(), wired directly in one process, carry the synthetic media both
 * ways through real Opus and VP8: the receiving side hears a 440 Hz tone and sees a moving picture.
 */
import { setTimeout as sleep } from "node:timers/promises";

import { afterEach, describe, expect, it } from "vitest";

import { createNodeDelegate } from "./createNodeDelegate.js";
import { probeRemoteMedia, type RemoteMediaProbe } from "./mediaProbe.js";
import { activeSourceCount } from "./syntheticMedia.js";
import type { WrtcAudioData, WrtcVideoFrame } from "./wrtc.js";

const cleanups: (() => void)[] = [];

afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) {
    cleanup();
  }
  expect(activeSourceCount()).toBe(0);
});

/** Polls `condition` every 20 ms until it holds, failing after `timeoutMs`. */
async function waitFor(what: string, condition: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!condition()) {
    if (performance.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await sleep(20);
  }
}

/** Trickles `from`'s candidates to `to`, queueing them until `to` has a remote description; returns the flush. */
function wireIce(from: RTCPeerConnection, to: RTCPeerConnection): () => Promise<void> {
  const queue: RTCIceCandidate[] = [];
  from.onicecandidate = ({ candidate }) => {
    if (candidate === null) {
      return;
    }
    if (to.remoteDescription === null) {
      queue.push(candidate);
    } else {
      void to.addIceCandidate(candidate);
    }
  };
  return async () => {
    for (let candidate = queue.shift(); candidate !== undefined; candidate = queue.shift()) {
      await to.addIceCandidate(candidate);
    }
  };
}

interface Side {
  pc: RTCPeerConnection;
  remote: Promise<MediaStream>;
}

async function createSide(): Promise<Side> {
  const delegate = createNodeDelegate();
  const pc = await delegate.createPeerConnection({ iceServers: [] });
  const local = await delegate.mediaDevices.getUserMedia({ audio: true, video: true });
  cleanups.push(() => {
    pc.close();
    for (const track of local.getTracks()) {
      track.stop();
    }
  });
  for (const track of local.getTracks()) {
    pc.addTrack(track, local);
  }
  const remote = new Promise<MediaStream>((resolve) => {
    pc.ontrack = (event) => {
      const [stream] = event.streams;
      if (stream?.getTracks().length === 2) {
        resolve(stream);
      }
    };
  });
  return { pc, remote };
}

async function connect(a: RTCPeerConnection, b: RTCPeerConnection): Promise<void> {
  const flushToB = wireIce(a, b);
  const flushToA = wireIce(b, a);
  await a.setLocalDescription(await a.createOffer());
  await b.setRemoteDescription(a.localDescription!);
  await flushToB();
  await b.setLocalDescription(await b.createAnswer());
  await a.setRemoteDescription(b.localDescription!);
  await flushToA();
}

/** Frequency from upward zero crossings of the first channel. */
function estimateFrequency(chunks: WrtcAudioData[]): number {
  let crossings = 0;
  let count = 0;
  let previous = 0;
  for (const chunk of chunks) {
    const channels = chunk.channelCount ?? 1;
    for (let i = 0; i < chunk.samples.length; i += channels) {
      const sample = chunk.samples[i]!;
      if (count > 0 && previous < 0 && sample >= 0) {
        crossings++;
      }
      previous = sample;
      count++;
    }
  }
  return (crossings * chunks[0]!.sampleRate) / count;
}

/** Luma column with the highest mean over the frame: where the camera pattern's bright bar is. */
function brightestColumn(frame: WrtcVideoFrame): number {
  let best = 0;
  let bestSum = -1;
  for (let x = 0; x < frame.width; x++) {
    let sum = 0;
    for (let y = 0; y < frame.height; y += 4) {
      sum += frame.data[y * frame.width + x]!;
    }
    if (sum > bestSum) {
      bestSum = sum;
      best = x;
    }
  }
  return best;
}

async function inboundBytes(pc: RTCPeerConnection): Promise<Record<string, number>> {
  const bytes: Record<string, number> = {};
  (await pc.getStats()).forEach(
    (report: { type: string; kind?: string; mediaType?: string; bytesReceived?: number }) => {
      const kind = report.kind ?? report.mediaType;
      if (report.type === "inbound-rtp" && kind !== undefined) {
        bytes[kind] = (bytes[kind] ?? 0) + (report.bytesReceived ?? 0);
      }
    },
  );
  return bytes;
}

describe("media between two Node peer connections", () => {
  it("carries the tone and the moving picture both ways", async () => {
    const alice = await createSide();
    const bob = await createSide();
    await connect(alice.pc, bob.pc);
    const [atBob, atAlice] = await Promise.all([bob.remote, alice.remote]);

    const audioChunks: WrtcAudioData[] = [];
    const frames: { at: number; frame: WrtcVideoFrame }[] = [];
    const bobProbe = probeRemoteMedia(atBob, {
      onAudioData: (data) => {
        if (data.samples.some((sample) => sample !== 0)) {
          audioChunks.push({ ...data, samples: data.samples.slice() });
        }
      },
      onVideoFrame: (frame) => {
        frames.push({ at: performance.now(), frame: { ...frame, data: frame.data.slice() } });
      },
    });
    const aliceProbe = probeRemoteMedia(atAlice);
    cleanups.push(() => {
      bobProbe.stop();
      aliceProbe.stop();
    });

    const flowing = (probe: RemoteMediaProbe): boolean =>
      probe.audioSamples() >= 24_000 && probe.videoFrames() >= 8;
    await waitFor(
      "media both ways",
      () => flowing(bobProbe) && flowing(aliceProbe) && audioChunks.length >= 50,
    );

    // The tone is a tone: ~440 Hz in the decoded Opus.
    expect(estimateFrequency(audioChunks.slice(-50))).toBeGreaterThan(440 * 0.85);
    expect(estimateFrequency(audioChunks.slice(-50))).toBeLessThan(440 * 1.15);

    // The picture moves: the bright bar is at a different column 200 ms later.
    const first = frames[frames.length - 1]!;
    await waitFor("a later frame", () => frames[frames.length - 1]!.at > first.at + 200);
    const later = frames[frames.length - 1]!;
    expect([first.frame.width, first.frame.height]).toEqual([320, 240]);
    expect(brightestColumn(later.frame)).not.toBe(brightestColumn(first.frame));

    for (const pc of [alice.pc, bob.pc]) {
      const bytes = await inboundBytes(pc);
      expect(bytes.audio).toBeGreaterThan(0);
      expect(bytes.video).toBeGreaterThan(0);
    }
  });

  it("stops counting once the probe is stopped", async () => {
    const alice = await createSide();
    const bob = await createSide();
    await connect(alice.pc, bob.pc);
    const probe = probeRemoteMedia(await bob.remote);
    cleanups.push(() => {
      probe.stop();
    });
    await waitFor("audio", () => probe.audioSamples() > 4800);
    probe.stop();
    probe.stop();
    const samples = probe.audioSamples();
    await sleep(100);
    expect(probe.audioSamples()).toBe(samples);
  });
});
