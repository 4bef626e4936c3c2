// Interop: our VoIP against matrix-js-sdk's own 1:1 calls (MatrixCall, what Element runs), over the real Synapse,
// with real @roamhq/wrtc media both ways.
//
// Alice runs our VoIP on the js-sdk adapter port. Bob is a plain js-sdk client with MatrixCall enabled: the browser
// globals are installed *after* alice's client is made, so only bob's client has a CallEventHandler (otherwise
// alice's own js-sdk would ring for bob's calls too, next to our VoIP).
import { CallEvent } from "matrix-js-sdk";
import {
  CallErrorCode as JsCallErrorCode,
  CallState as JsCallState,
  createNewMatrixCall,
  type MatrixCall,
} from "matrix-js-sdk/lib/webrtc/call.js";
import type { CallFeed } from "matrix-js-sdk/lib/webrtc/callFeed.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType, VoIP, type CallSession } from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { expectMediaFlows, nextIncomingCall, until, untilState, type Peer } from "../helpers/calls.js";
import { createRoom, registerUser, startClient, waitForDevice, type TestClient } from "./clients.js";
import {
  installJsSdkCallGlobals,
  nextJsSdkIncomingCall,
  receivedByJsSdk,
  untilJsSdkState,
} from "./jsSdkCall.js";

let alice: TestClient;
let bob: TestClient;
const rooms = { plain: "", encrypted: "" };
const voips: VoIP[] = [];
const jsCalls: MatrixCall[] = [];
/** Every `error` any js-sdk call emitted (MatrixCall needs a listener; a working interop emits none). */
const jsErrors: unknown[] = [];

function ourPeer(tc: TestClient): Peer {
  const delegate = createNodeDelegate();
  const voip = new VoIP(tc.port, delegate);
  voips.push(voip);
  return { userId: tc.user.userId, deviceId: tc.deviceId, client: tc.port, delegate, voip, callbacks: [] };
}

function track(call: MatrixCall): MatrixCall {
  jsCalls.push(call);
  call.on(CallEvent.Error, (error) => jsErrors.push(error));
  return call;
}

beforeAll(async () => {
  const [aliceUser, bobUser] = await Promise.all([registerUser("alice"), registerUser("bob")]);
  alice = await startClient(aliceUser);
  installJsSdkCallGlobals(createNodeDelegate().mediaDevices);
  bob = await startClient(bobUser);
  expect(alice.client.callEventHandler, "alice's js-sdk must not run MatrixCall").toBeUndefined();
  expect(bob.client.callEventHandler, "bob's js-sdk runs MatrixCall").toBeDefined();
  rooms.plain = await createRoom(alice, [bob]);
  rooms.encrypted = await createRoom(alice, [bob], { encrypted: true });
  await waitForDevice(alice.client, bobUser.userId, bob.deviceId);
  await waitForDevice(bob.client, aliceUser.userId, alice.deviceId);
}, 120_000);

afterAll(async () => {
  for (const call of jsCalls) {
    if (call.state !== JsCallState.Ended) {
      call.hangup(JsCallErrorCode.UserHangup, false);
    }
  }
  await Promise.all(voips.map((v) => v.dispose()));
  bob.client.getMediaHandler().stopAllStreams();
  for (const c of [alice, bob]) {
    c.stop();
  }
});

/** Alice (ours) calls bob (js-sdk), bob answers; both connected. */
async function ourCallToJsSdk(
  roomId: string,
  type: CallType,
): Promise<{ a: Peer; outgoing: CallSession; jsCall: MatrixCall }> {
  const a = ourPeer(alice);
  const ringing = nextJsSdkIncomingCall(bob.client);
  const outgoing = await a.voip.inviteToCall(roomId, type, bob.user.userId);
  const jsCall = track(await ringing);
  expect(jsCall.callId).toBe(outgoing.callId);
  expect(jsCall.type).toBe(type === CallType.Video ? "video" : "voice");
  await jsCall.answer();
  await untilState(outgoing, CallState.Connected, 20_000);
  await untilJsSdkState(jsCall, JsCallState.Connected);
  return { a, outgoing, jsCall };
}

/** Bob (js-sdk) calls alice (ours), alice answers; both connected. */
async function jsSdkCallToUs(
  roomId: string,
  type: CallType,
): Promise<{ a: Peer; incoming: CallSession; jsCall: MatrixCall }> {
  const a = ourPeer(alice);
  const ringing = nextIncomingCall(a, 20_000);
  const jsCall = track(createNewMatrixCall(bob.client, roomId, { invitee: alice.user.userId })!);
  await (type === CallType.Video ? jsCall.placeVideoCall() : jsCall.placeVoiceCall());
  const incoming = await ringing;
  expect(incoming.callId).toBe(jsCall.callId);
  expect(incoming.type).toBe(type);
  expect(incoming.remoteUserId).toBe(bob.user.userId);
  await incoming.answer();
  await untilState(incoming, CallState.Connected, 20_000);
  await untilJsSdkState(jsCall, JsCallState.Connected);
  return { a, incoming, jsCall };
}

describe.each(["plain", "encrypted"] as const)("our VoIP ↔ js-sdk MatrixCall, %s room", (kind) => {
  it("our video call: media both ways, our mutes are seen by js-sdk, our hangup ends it with user_hangup", async () => {
    const { a, outgoing, jsCall } = await ourCallToJsSdk(rooms[kind], CallType.Video);
    // js-sdk 37.5 reads only the unstable `org.matrix.msc3077.sdp_stream_metadata` key.
    expect(jsCall.opponentSupportsSDPStreamMetadata()).toBe(true);
    expect(jsCall.getOpponentMember()?.userId).toBe(alice.user.userId);

    await expectMediaFlows(outgoing);
    const got = await receivedByJsSdk(jsCall);
    expect(Math.min(got.audioSamples, got.videoFrames, got.audioBytes, got.videoBytes)).toBeGreaterThan(0);

    const feed = (): CallFeed | undefined => jsCall.remoteUsermediaFeed;
    expect(feed()?.isAudioMuted()).toBe(false);
    expect(feed()?.isVideoMuted()).toBe(false);
    await outgoing.setMicrophoneMuted(true);
    await until(() => feed()?.isAudioMuted() === true, "js-sdk to see our microphone mute", 10_000);
    await outgoing.setLocalVideoMuted(true);
    await until(() => feed()?.isVideoMuted() === true, "js-sdk to see our camera mute", 10_000);
    await outgoing.setMicrophoneMuted(false);
    await until(() => feed()?.isAudioMuted() === false, "js-sdk to see our microphone unmute", 10_000);

    await outgoing.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsCall.hangupReason).toBe(JsCallErrorCode.UserHangup);
    expect(jsErrors).toEqual([]);
    await a.voip.dispose();
  }, 30_000);

  it("js-sdk's video call: media both ways, js-sdk's mute is seen by us, its hangup ends ours with user_hangup", async () => {
    const { a, incoming, jsCall } = await jsSdkCallToUs(rooms[kind], CallType.Video);
    await expectMediaFlows(incoming);
    const got = await receivedByJsSdk(jsCall);
    expect(Math.min(got.audioSamples, got.videoFrames, got.audioBytes, got.videoBytes)).toBeGreaterThan(0);

    expect(incoming.remoteUserMediaStream?.audioMuted).toBe(false);
    expect(await jsCall.setMicrophoneMuted(true)).toBe(true);
    await until(() => incoming.remoteUserMediaStream?.audioMuted === true, "us to see js-sdk's mute", 10_000);

    jsCall.hangup(JsCallErrorCode.UserHangup, false);
    await untilState(incoming, CallState.Ended, 20_000);
    expect(incoming.hangupReason).toBe(CallErrorCode.UserHangup);
    expect(jsErrors).toEqual([]);
    await a.voip.dispose();
  }, 30_000);
});

describe("our VoIP ↔ js-sdk MatrixCall: reject, voice, hold, screen share", () => {
  it("js-sdk rejects our call: ours ends with user_hangup", async () => {
    const a = ourPeer(alice);
    const ringing = nextJsSdkIncomingCall(bob.client);
    const outgoing = await a.voip.inviteToCall(rooms.plain, CallType.Voice, bob.user.userId);
    const jsCall = track(await ringing);
    await untilJsSdkState(jsCall, JsCallState.Ringing);
    jsCall.reject();
    await untilState(outgoing, CallState.Ended, 20_000);
    expect(outgoing.hangupReason).toBe(CallErrorCode.UserHangup);
    await a.voip.dispose();
  }, 30_000);

  it("we reject js-sdk's voice call: js-sdk's ends with user_hangup", async () => {
    const a = ourPeer(alice);
    const ringing = nextIncomingCall(a, 20_000);
    const jsCall = track(createNewMatrixCall(bob.client, rooms.plain, { invitee: alice.user.userId })!);
    await jsCall.placeVoiceCall();
    const incoming = await ringing;
    expect(incoming.type).toBe(CallType.Voice);
    await incoming.reject();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsCall.hangupReason).toBe(JsCallErrorCode.UserHangup);
    await a.voip.dispose();
  }, 30_000);

  it("voice call both ways: audio only, then our camera upgrade reaches js-sdk as video", async () => {
    const { a, outgoing, jsCall } = await ourCallToJsSdk(rooms.plain, CallType.Voice);
    await expectMediaFlows(outgoing, { video: false });
    const got = await receivedByJsSdk(jsCall, { video: false });
    expect(got.audioSamples).toBeGreaterThan(0);
    expect(got.videoBytes).toBe(0);

    await outgoing.setLocalVideoMuted(false);
    const upgraded = await receivedByJsSdk(jsCall, { audio: false });
    expect(upgraded.videoFrames).toBeGreaterThan(0);
    await outgoing.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    await a.voip.dispose();
  }, 30_000);

  it("hold: js-sdk's hold puts us on local hold and back; ours puts js-sdk on local hold", async () => {
    const { a, incoming, jsCall } = await jsSdkCallToUs(rooms.plain, CallType.Voice);
    jsCall.setRemoteOnHold(true);
    await until(() => incoming.isLocalOnHold(), "us to be on hold (js-sdk's hold)", 10_000);
    jsCall.setRemoteOnHold(false);
    await until(() => !incoming.isLocalOnHold(), "us to be off hold (js-sdk's unhold)", 10_000);

    await incoming.setRemoteOnHold(true);
    expect(incoming.isRemoteOnHold()).toBe(true);
    await until(() => jsCall.isLocalOnHold(), "js-sdk to be on hold (our hold)", 10_000);
    await incoming.setRemoteOnHold(false);
    await until(() => !jsCall.isLocalOnHold(), "js-sdk to be off hold (our unhold)", 10_000);
    await expectMediaFlows(incoming, { video: false });

    await incoming.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsCall.hangupReason).toBe(JsCallErrorCode.UserHangup);
    await a.voip.dispose();
  }, 30_000);

  it("screen share: ours appears as js-sdk's remote screenshare feed, js-sdk's as our remote screen stream", async () => {
    const { a, outgoing, jsCall } = await ourCallToJsSdk(rooms.plain, CallType.Video);
    expect(await outgoing.setScreensharingEnabled(true)).toBe(true);
    const screen = await receivedByJsSdk(jsCall, { purpose: "screenshare", audio: false });
    expect(screen.videoFrames).toBeGreaterThan(0);
    expect(jsCall.remoteScreensharingFeed?.purpose).toBe("m.screenshare");
    await outgoing.setScreensharingEnabled(false);
    await until(() => jsCall.remoteScreensharingFeed === undefined, "js-sdk's screenshare feed to go", 10_000);

    expect(await jsCall.setScreensharingEnabled(true)).toBe(true);
    await until(() => outgoing.remoteScreenSharingStream !== undefined, "our remote screen stream", 10_000);
    await jsCall.setScreensharingEnabled(false);
    await until(() => outgoing.remoteScreenSharingStream === undefined, "our remote screen stream to go", 10_000);

    await outgoing.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsErrors).toEqual([]);
    await a.voip.dispose();
  }, 30_000);
});
