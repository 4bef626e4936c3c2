import { afterEach, describe, expect, it } from "vitest";
import { CallType, isVoipError, VoipErrorCode, type WrappedMediaStream } from "../../src/index.js";
import { probeRemoteMedia } from "../../src/node/index.js";
import { connectedCall, expectMediaFlows, twoPeers, until } from "../helpers/calls.js";

type Env = Awaited<ReturnType<typeof twoPeers>>;
let env: Env | undefined;
afterEach(async () => {
  await env?.close();
  env = undefined;
});

describe("in-call media controls", () => {
  it("mutes the microphone with stream metadata visible on the remote stream, under both keys (D8)", async () => {
    env = await twoPeers();
    const { outgoing, incoming } = await connectedCall(env, CallType.Video);
    let feeds = 0;
    incoming.on("feedsChanged", () => feeds++);
    await outgoing.setMicrophoneMuted(true);
    expect(outgoing.isMicrophoneMuted()).toBe(true);
    expect(outgoing.localUserMediaStream?.mediaStream.getAudioTracks()[0]?.enabled).toBe(false);
    await until(() => incoming.remoteUserMediaStream?.audioMuted === true, "remote sees audio muted");
    expect(incoming.remoteUserMediaStream?.videoMuted).toBe(false);
    expect(feeds).toBeGreaterThan(0);
    const changed = env.hs.transcript().filter((e) => e.type === "m.call.sdp_stream_metadata_changed");
    const streamId = outgoing.localUserMediaStream!.id;
    const entry = { purpose: "m.usermedia", audio_muted: true, video_muted: false };
    expect(changed.at(-1)?.content).toEqual({
      call_id: outgoing.callId,
      party_id: env.alice.voip.sessionId,
      version: "1",
      "org.matrix.msc3077.sdp_stream_metadata": { [streamId]: entry },
      sdp_stream_metadata: { [streamId]: entry },
    });

    await outgoing.setLocalVideoMuted(true);
    await until(() => incoming.remoteUserMediaStream?.videoMuted === true, "remote sees video muted");
    await outgoing.setMicrophoneMuted(false);
    await until(() => incoming.remoteUserMediaStream?.audioMuted === false, "remote sees audio unmuted");
  });

  it("holds and resumes: the held side sees isLocalOnHold() and holdChanged, media resumes", async () => {
    env = await twoPeers();
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    const holds: { localOnHold: boolean; remoteOnHold: boolean }[] = [];
    const remoteHolds: { localOnHold: boolean; remoteOnHold: boolean }[] = [];
    incoming.on("holdChanged", (h) => holds.push(h));
    outgoing.on("holdChanged", (h) => remoteHolds.push(h));

    await outgoing.setRemoteOnHold(true);
    expect(outgoing.isRemoteOnHold()).toBe(true);
    expect(remoteHolds).toEqual([{ localOnHold: false, remoteOnHold: true }]);
    await until(() => holds.length === 1, "holdChanged on the callee");
    expect(holds).toEqual([{ localOnHold: true, remoteOnHold: false }]);
    expect(incoming.isLocalOnHold()).toBe(true);
    expect(env.hs.transcript().some((e) => e.type === "m.call.negotiate")).toBe(true);

    await outgoing.setRemoteOnHold(false);
    await until(() => holds.length === 2, "holdChanged on the callee after resuming");
    expect(holds.at(-1)).toEqual({ localOnHold: false, remoteOnHold: false });
    expect(incoming.isLocalOnHold()).toBe(false);
    await expectMediaFlows(incoming, { video: false });
    await expectMediaFlows(outgoing, { video: false });
  });

  it("upgrades a voice call to video when the camera is unmuted", async () => {
    env = await twoPeers();
    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    expect(outgoing.isLocalVideoMuted()).toBe(true);
    expect(incoming.remoteUserMediaStream?.mediaStream.getVideoTracks()).toHaveLength(0);
    await outgoing.setLocalVideoMuted(false);
    expect(outgoing.type).toBe(CallType.Video);
    expect(outgoing.isLocalVideoMuted()).toBe(false);
    await until(
      () => (incoming.remoteUserMediaStream?.mediaStream.getVideoTracks().length ?? 0) > 0,
      "remote video track",
    );
    await until(() => incoming.remoteUserMediaStream?.videoMuted === false, "remote video unmuted");
    await expectMediaFlows(incoming, { audio: true, video: true });
  });

  it("shares the screen as a second stream the remote gets and loses (purpose m.screenshare)", async () => {
    env = await twoPeers();
    const { outgoing, incoming } = await connectedCall(env, CallType.Video);
    const added: WrappedMediaStream[] = [];
    const removed: WrappedMediaStream[] = [];
    incoming.on("streamAdded", (s) => added.push(s));
    incoming.on("streamRemoved", (s) => removed.push(s));

    expect(await outgoing.setScreensharingEnabled(true)).toBe(true);
    expect(outgoing.localScreenSharingStream?.purpose).toBe("m.screenshare");
    await until(() => incoming.remoteScreenSharingStream !== undefined, "remote screenshare");
    const screen = incoming.remoteScreenSharingStream!;
    expect(screen.purpose).toBe("m.screenshare");
    expect(screen.isLocal).toBe(false);
    expect(added).toEqual([screen]);
    expect(incoming.remoteUserMediaStream?.id).not.toBe(screen.id);
    const probe = probeRemoteMedia(screen.mediaStream);
    await until(() => probe.videoFrames() > 0, "screen frames");
    probe.stop();

    expect(await outgoing.setScreensharingEnabled(false)).toBe(false);
    expect(outgoing.localScreenSharingStream).toBeUndefined();
    await until(() => incoming.remoteScreenSharingStream === undefined, "remote screenshare gone");
    expect(removed).toEqual([screen]);
    expect(screen.stopped).toBe(true);
    await expectMediaFlows(incoming);
  });

  it("keeps the call when screen capture fails, emitting an error", async () => {
    env = await twoPeers({ alice: { delegate: { failGetDisplayMedia: true } } });
    const { outgoing } = await connectedCall(env, CallType.Voice);
    const errors: unknown[] = [];
    outgoing.on("error", (e) => errors.push(e));
    expect(await outgoing.setScreensharingEnabled(true)).toBe(false);
    expect(errors).toHaveLength(1);
    expect(isVoipError(errors[0], VoipErrorCode.UserMediaFailed)).toBe(true);
    expect(outgoing.state).toBe("connected");
  });

  it("throws not_supported for DTMF where the platform has no DTMF sender (wrtc)", async () => {
    env = await twoPeers();
    const { outgoing } = await connectedCall(env, CallType.Voice);
    let caught: unknown;
    try {
      outgoing.sendDTMF("123#");
    } catch (error) {
      caught = error;
    }
    expect(isVoipError(caught, "not_supported")).toBe(true);
  });

  it("switches to fresh device tracks on devicechange and keeps sending", async () => {
    env = await twoPeers();
    const { outgoing, incoming } = await connectedCall(env, CallType.Video);
    const before = outgoing.localUserMediaStream!.mediaStream.getTracks().map((t) => t.id);
    env.alice.delegate.mediaDevices.ondevicechange?.(new Event("devicechange"));
    await until(() => {
      const now = outgoing.localUserMediaStream!.mediaStream.getTracks().map((t) => t.id);
      return now.length === 2 && now.every((id) => !before.includes(id));
    }, "tracks replaced");
    await expectMediaFlows(incoming);
  });
});

describe("DTMF outside a connected call", () => {
  it("throws invalid_state before the call connects and after it ends", async () => {
    env = await twoPeers();
    const outgoing = await env.alice.voip.inviteToCall(env.roomId, CallType.Voice, env.bob.userId);
    expect(() => {
      outgoing.sendDTMF("1");
    }).toThrow(expect.objectContaining({ code: "invalid_state" }) as Error);
    await outgoing.hangup();
    expect(() => {
      outgoing.sendDTMF("1");
    }).toThrow(expect.objectContaining({ code: "invalid_state" }) as Error);
  });
});
