import { afterEach, describe, expect, it } from "vitest";

import { isVoipError } from "../core/errors.js";
import { createNodeDelegate } from "./createNodeDelegate.js";
import { activeSourceCount } from "./syntheticMedia.js";

const streams: MediaStream[] = [];

async function keep(stream: Promise<MediaStream>): Promise<MediaStream> {
  const resolved = await stream;
  streams.push(resolved);
  return resolved;
}

afterEach(() => {
  for (const track of streams.splice(0).flatMap((stream) => stream.getTracks())) {
    track.stop();
  }
  expect(activeSourceCount()).toBe(0);
});

describe("createNodeDelegate", () => {
  it("is a non-web delegate whose peer connections are wrtc ones", () => {
    const delegate = createNodeDelegate();
    expect(delegate.isWeb).toBe(false);
    const pc = delegate.createPeerConnection({ iceServers: [] }) as RTCPeerConnection;
    try {
      expect(pc.signalingState).toBe("stable");
      expect(pc.connectionState).toBe("new");
    } finally {
      pc.close();
    }
  });

  it("gives live audio and video tracks by default", async () => {
    const stream = await keep(createNodeDelegate().mediaDevices.getUserMedia({ audio: true, video: true }));
    expect(stream.getAudioTracks()).toHaveLength(1);
    expect(stream.getVideoTracks()).toHaveLength(1);
    for (const track of stream.getTracks()) {
      expect(track.readyState).toBe("live");
      expect(track.label).toMatch(/Synthetic/);
    }
    expect(stream.getAudioTracks()[0]!.kind).toBe("audio");
    expect(stream.getVideoTracks()[0]!.kind).toBe("video");
  });

  it("gives only what was asked for, and only what it has", async () => {
    const devices = createNodeDelegate().mediaDevices;
    const audioOnly = await keep(devices.getUserMedia({ audio: true }));
    expect(audioOnly.getTracks().map((track) => track.kind)).toEqual(["audio"]);
    const videoOnly = await keep(devices.getUserMedia({ audio: false, video: { width: 640 } }));
    expect(videoOnly.getTracks().map((track) => track.kind)).toEqual(["video"]);

    const noCamera = createNodeDelegate({ video: false }).mediaDevices;
    const withoutCamera = await keep(noCamera.getUserMedia({ audio: true, video: true }));
    expect(withoutCamera.getTracks().map((track) => track.kind)).toEqual(["audio"]);
    await expect(noCamera.getUserMedia({ video: true })).rejects.toMatchObject({ name: "NotFoundError" });
    await expect(devices.getUserMedia({ audio: false, video: false })).rejects.toBeInstanceOf(TypeError);
  });

  it("rejects getUserMedia and getDisplayMedia with NotAllowedError when told to fail", async () => {
    const delegate = createNodeDelegate({ failGetUserMedia: true, failGetDisplayMedia: true });
    await expect(delegate.mediaDevices.getUserMedia({ audio: true })).rejects.toMatchObject({
      name: "NotAllowedError",
    });
    await expect(delegate.mediaDevices.getDisplayMedia?.()).rejects.toMatchObject({
      name: "NotAllowedError",
    });
    expect(activeSourceCount()).toBe(0);
  });

  it("gives a live screen-share video track from getDisplayMedia", async () => {
    const stream = await keep(createNodeDelegate({ failGetUserMedia: true }).mediaDevices.getDisplayMedia!());
    expect(stream.getTracks()).toHaveLength(1);
    const track = stream.getVideoTracks()[0]!;
    expect(track.readyState).toBe("live");
    expect(track.label).toBe("Synthetic screen 640x360");
  });

  it("lists the synthetic devices it has", async () => {
    const all = await createNodeDelegate().mediaDevices.enumerateDevices!();
    expect(all.map((device) => device.kind)).toEqual(["audioinput", "videoinput", "audiooutput"]);
    for (const device of all) {
      expect(device.deviceId).not.toBe("");
      expect(device.label).not.toBe("");
      expect(device.toJSON()).toEqual({
        deviceId: device.deviceId,
        groupId: device.groupId,
        kind: device.kind,
        label: device.label,
      });
    }
    const audioOnly = await createNodeDelegate({ video: false }).mediaDevices.enumerateDevices!();
    expect(audioOnly.map((device) => device.kind)).toEqual(["audioinput", "audiooutput"]);
  });

  it("keeps a settable ondevicechange", () => {
    const devices = createNodeDelegate().mediaDevices;
    expect(devices.ondevicechange).toBeNull();
    const listener = (): void => undefined;
    devices.ondevicechange = listener;
    expect(devices.ondevicechange).toBe(listener);
  });

  it("copies app callbacks and overrides onto the delegate, ignoring undefined ones", () => {
    const handleNewCall = (): void => undefined;
    const playRingtone = (): void => undefined;
    const delegate = createNodeDelegate({
      handleNewCall,
      playRingtone,
      canHandleNewCall: false,
      isWeb: undefined,
      audio: false,
    });
    expect(delegate).toMatchObject({ handleNewCall, playRingtone });
    expect(delegate.canHandleNewCall).toBe(false);
    expect(delegate.isWeb).toBe(false);
    expect(delegate).not.toHaveProperty("audio");
    expect(delegate.keyProvider).toBeUndefined();
  });

  it("rejects a malformed video format with invalid_argument", () => {
    let caught: unknown;
    try {
      createNodeDelegate({ video: { width: 321, height: 240, fps: 15 } });
    } catch (error) {
      caught = error;
    }
    expect(isVoipError(caught, "invalid_argument")).toBe(true);
    expect((caught as Error).message).toMatch(/video\.width/);
  });

  it("honours a custom camera format", async () => {
    const stream = await keep(
      createNodeDelegate({ video: { width: 160, height: 120, fps: 5 } }).mediaDevices.getUserMedia({
        video: true,
      }),
    );
    expect(stream.getVideoTracks()[0]!.label).toBe("Synthetic camera 160x120");
  });
});
