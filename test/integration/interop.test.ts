// Interop: our VoIP against matrix-js-sdk 37.5's own 1:1 calls (MatrixCall, what Element runs), over the real
// Synapse, with real @roamhq/wrtc media both ways.
//
// Alice runs our VoIP on the js-sdk adapter port. Bob is a plain js-sdk client with MatrixCall enabled: the browser
// globals are installed *after* alice's client is made, so only bob's client has a CallEventHandler (otherwise
// alice's own js-sdk would also ring for bob's calls, next to our VoIP).
//
// Two @roamhq/wrtc gaps shape some checks (a browser behaves differently): a remote MediaStream never fires
// `removetrack`, and a track that stops being received (hold, screen share stopped) leaves its MediaStream for good
// while the track object itself keeps carrying media when it resumes. So media after hold is measured on the track
// objects taken before the hold, and js-sdk (which drops a remote feed on `removetrack`) keeps an empty screen-share
// feed after the share stops.
import { CallEvent } from "matrix-js-sdk";
import {
  CallErrorCode as JsCallErrorCode,
  CallState as JsCallState,
  createNewMatrixCall,
  type MatrixCall,
} from "matrix-js-sdk/lib/webrtc/call.js";
import type { CallFeed } from "matrix-js-sdk/lib/webrtc/callFeed.js";
import { CallEventHandlerEvent } from "matrix-js-sdk/lib/webrtc/callEventHandler.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType, VoIP, type CallSession } from "../../src/index.js";
import { createNodeDelegate, probeRemoteMedia } from "../../src/node/index.js";
import { expectMediaFlows, nextIncomingCall, until, untilState, type Peer } from "../helpers/calls.js";
import {
  createRoom,
  registerUser,
  startClient,
  waitForDevice,
  type TestClient,
  type TestUser,
} from "./clients.js";
import {
  callWireEvents,
  describeWire,
  installJsSdkCallGlobals,
  lastMetadataStreamIds,
  nextJsSdkAssertedIdentity,
  nextJsSdkIncomingCall,
  receivedByJsSdk,
  untilJsSdkState,
} from "./jsSdkCall.js";

let alice: TestClient;
let bob: TestClient;
let carol: TestUser;
const rooms = { plain: "", encrypted: "" };
const voips: VoIP[] = [];
const jsCalls: MatrixCall[] = [];
/** Every `error` a js-sdk call emitted (MatrixCall requires a listener); a working interop emits none. */
const jsErrors: unknown[] = [];

function ourPeer(): Peer {
  const delegate = createNodeDelegate();
  const voip = new VoIP(alice.port, delegate);
  voips.push(voip);
  return {
    userId: alice.user.userId,
    deviceId: alice.deviceId,
    client: alice.port,
    delegate,
    voip,
    callbacks: [],
  };
}

function track(call: MatrixCall): MatrixCall {
  jsCalls.push(call);
  call.on(CallEvent.Error, (error) => jsErrors.push(error));
  return call;
}

/** The wire events of a call (from alice's sync), for assertion messages. */
function wire(roomId: string, callId: string): string {
  return describeWire(callWireEvents(alice, roomId, callId));
}

beforeAll(async () => {
  const [aliceUser, bobUser, carolUser] = await Promise.all([
    registerUser("alice"),
    registerUser("bob"),
    registerUser("carol"),
  ]);
  carol = carolUser;
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
): Promise<{ outgoing: CallSession; jsCall: MatrixCall }> {
  const a = ourPeer();
  const ringing = nextJsSdkIncomingCall(bob.client);
  const outgoing = await a.voip.inviteToCall(roomId, type, bob.user.userId);
  const jsCall = track(await ringing);
  expect(jsCall.callId).toBe(outgoing.callId);
  expect(jsCall.type).toBe(type === CallType.Video ? "video" : "voice");
  await jsCall.answer();
  await untilState(outgoing, CallState.Connected, 20_000);
  await untilJsSdkState(jsCall, JsCallState.Connected);
  return { outgoing, jsCall };
}

/** Bob (js-sdk) calls alice (ours), alice answers; both connected. */
async function jsSdkCallToUs(
  roomId: string,
  type: CallType,
): Promise<{ incoming: CallSession; jsCall: MatrixCall }> {
  const a = ourPeer();
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
  return { incoming, jsCall };
}

/** Resolves once `count()` has grown by more than `by` (media keeps arriving). */
async function grows(count: () => number, what: string, by = 0): Promise<void> {
  const start = count();
  await until(() => count() > start + by, what, 8000);
}

describe.each(["plain", "encrypted"] as const)("our VoIP ↔ js-sdk MatrixCall, %s room", (kind) => {
  it("our video call: media both ways, our mutes reach js-sdk, our hangup ends it with user_hangup", async () => {
    const { outgoing, jsCall } = await ourCallToJsSdk(rooms[kind], CallType.Video);
    // js-sdk 37.5 reads only the unstable `org.matrix.msc3077.sdp_stream_metadata` key.
    expect(jsCall.opponentSupportsSDPStreamMetadata()).toBe(true);
    expect(jsCall.getOpponentMember()?.userId).toBe(alice.user.userId);

    await expectMediaFlows(outgoing);
    const got = await receivedByJsSdk(jsCall);
    expect(Math.min(got.audioSamples, got.videoFrames, got.audioBytes, got.videoBytes)).toBeGreaterThan(0);

    const feed = (): CallFeed | undefined => jsCall.remoteUsermediaFeed;
    expect([feed()?.isAudioMuted(), feed()?.isVideoMuted()]).toEqual([false, false]);
    await outgoing.setMicrophoneMuted(true);
    await until(() => feed()?.isAudioMuted() === true, "js-sdk to see our microphone mute", 10_000);
    await outgoing.setLocalVideoMuted(true);
    await until(() => feed()?.isVideoMuted() === true, "js-sdk to see our camera mute", 10_000);
    await outgoing.setMicrophoneMuted(false);
    await until(() => feed()?.isAudioMuted() === false, "js-sdk to see our microphone unmute", 10_000);

    await outgoing.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsCall.hangupReason).toBe(JsCallErrorCode.UserHangup);
    expect(jsErrors, wire(rooms[kind], outgoing.callId)).toEqual([]);
  }, 30_000);

  it("js-sdk's video call: media both ways, its mute reaches us, its hangup ends ours with user_hangup", async () => {
    const { incoming, jsCall } = await jsSdkCallToUs(rooms[kind], CallType.Video);
    await expectMediaFlows(incoming);
    const got = await receivedByJsSdk(jsCall);
    expect(Math.min(got.audioSamples, got.videoFrames, got.audioBytes, got.videoBytes)).toBeGreaterThan(0);

    expect(incoming.remoteUserMediaStream?.audioMuted).toBe(false);
    expect(await jsCall.setMicrophoneMuted(true)).toBe(true);
    await until(() => incoming.remoteUserMediaStream?.audioMuted === true, "us to see js-sdk's mute", 10_000);

    jsCall.hangup(JsCallErrorCode.UserHangup, false);
    await untilState(incoming, CallState.Ended, 20_000);
    expect(incoming.hangupReason).toBe(CallErrorCode.UserHangup);
    expect(jsErrors, wire(rooms[kind], incoming.callId)).toEqual([]);
  }, 30_000);
});

describe("our VoIP ↔ js-sdk MatrixCall, plain room: reject, upgrade, hold, screen share, transfer, identity, glare", () => {
  it("js-sdk rejects our call, and we reject js-sdk's: the caller's call ends with user_hangup", async () => {
    const a = ourPeer();
    const ringing = nextJsSdkIncomingCall(bob.client);
    const outgoing = await a.voip.inviteToCall(rooms.plain, CallType.Voice, bob.user.userId);
    const theirs = track(await ringing);
    await untilJsSdkState(theirs, JsCallState.Ringing);
    theirs.reject();
    await untilState(outgoing, CallState.Ended, 20_000);
    expect(outgoing.hangupReason).toBe(CallErrorCode.UserHangup);

    const ours = nextIncomingCall(a, 20_000);
    const jsCall = track(createNewMatrixCall(bob.client, rooms.plain, { invitee: alice.user.userId })!);
    await jsCall.placeVoiceCall();
    const incoming = await ours;
    expect(incoming.type).toBe(CallType.Voice);
    await incoming.reject();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsCall.hangupReason).toBe(JsCallErrorCode.UserHangup);
  }, 30_000);

  it("voice call: audio only both ways, then our camera upgrade reaches js-sdk as video", async () => {
    const { outgoing, jsCall } = await ourCallToJsSdk(rooms.plain, CallType.Voice);
    await expectMediaFlows(outgoing, { video: false });
    const got = await receivedByJsSdk(jsCall, { video: false });
    expect(got.audioSamples).toBeGreaterThan(0);
    expect(got.videoBytes).toBe(0);

    await outgoing.setLocalVideoMuted(false);
    const upgraded = await receivedByJsSdk(jsCall, { audio: false });
    expect(upgraded.videoFrames, wire(rooms.plain, outgoing.callId)).toBeGreaterThan(0);
    expect(jsCall.remoteUsermediaFeed?.isVideoMuted()).toBe(false);
    await outgoing.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
  }, 30_000);

  it("hold: js-sdk's hold puts us on local hold and ours puts js-sdk there; media resumes after each", async () => {
    const { incoming, jsCall } = await jsSdkCallToUs(rooms.plain, CallType.Voice);
    // Probes on the track objects as they are now (see the header on wrtc).
    const toUs = probeRemoteMedia(incoming.remoteUserMediaStream!.mediaStream);
    const toJs = probeRemoteMedia(jsCall.remoteUsermediaStream!);
    try {
      jsCall.setRemoteOnHold(true);
      await until(() => incoming.isLocalOnHold(), "us to be on hold (js-sdk's hold)", 10_000);
      expect(incoming.isRemoteOnHold()).toBe(false);
      jsCall.setRemoteOnHold(false);
      await until(() => !incoming.isLocalOnHold(), "us to be off hold (js-sdk's unhold)", 10_000);
      await grows(() => toJs.audioSamples(), "audio to js-sdk after its unhold", 4800);
      await grows(() => toUs.audioSamples(), "audio to us after js-sdk's unhold", 4800);

      await incoming.setRemoteOnHold(true);
      expect(incoming.isRemoteOnHold()).toBe(true);
      await until(() => jsCall.isLocalOnHold(), "js-sdk to be on hold (our hold)", 10_000);
      await incoming.setRemoteOnHold(false);
      await until(() => !jsCall.isLocalOnHold(), "js-sdk to be off hold (our unhold)", 10_000);
      await grows(() => toUs.audioSamples(), "audio to us after our unhold", 4800);
      await grows(() => toJs.audioSamples(), "audio to js-sdk after our unhold", 4800);
    } finally {
      toUs.stop();
      toJs.stop();
    }
    await incoming.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsCall.hangupReason).toBe(JsCallErrorCode.UserHangup);
    expect(jsErrors, wire(rooms.plain, incoming.callId)).toEqual([]);
  }, 30_000);

  it("screen share: ours becomes js-sdk's remote screenshare feed, js-sdk's becomes our remote screen stream", async () => {
    const { outgoing, jsCall } = await ourCallToJsSdk(rooms.plain, CallType.Video);
    expect(await outgoing.setScreensharingEnabled(true)).toBe(true);
    const screen = await receivedByJsSdk(jsCall, { purpose: "screenshare", audio: false });
    expect(screen.videoFrames).toBeGreaterThan(0);
    expect(jsCall.remoteScreensharingFeed?.purpose).toBe("m.screenshare");
    const screenStreamId = jsCall.remoteScreensharingFeed!.stream.id;
    expect(outgoing.localScreenSharingStream?.id).toBe(screenStreamId);

    await outgoing.setScreensharingEnabled(false);
    await until(
      () => jsCall.remoteScreensharingStream?.getTracks().length === 0,
      "js-sdk's screenshare stream to lose its track",
      10_000,
    );
    // Our latest metadata on the wire (as synced back to alice) no longer lists the screen stream.
    await until(
      () => {
        const sent = lastMetadataStreamIds(
          callWireEvents(alice, rooms.plain, outgoing.callId),
          alice.user.userId,
        );
        return sent.length === 1 && !sent.includes(screenStreamId);
      },
      `our metadata without the screen stream:\n${wire(rooms.plain, outgoing.callId)}`,
    );

    expect(await jsCall.setScreensharingEnabled(true)).toBe(true);
    await until(() => outgoing.remoteScreenSharingStream !== undefined, "our remote screen stream", 10_000);
    const probe = probeRemoteMedia(outgoing.remoteScreenSharingStream!.mediaStream);
    try {
      await grows(() => probe.videoFrames(), "js-sdk's screen frames to reach us");
    } finally {
      probe.stop();
    }
    await jsCall.setScreensharingEnabled(false);
    await until(
      () => outgoing.remoteScreenSharingStream === undefined,
      "our remote screen stream to go",
      10_000,
    );
    expect(outgoing.remoteUserMediaStream).toBeDefined();

    await outgoing.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsErrors, wire(rooms.plain, outgoing.callId)).toEqual([]);
  }, 30_000);

  it("transfer: js-sdk's m.call.replaces reaches us as replacesReceived", async () => {
    const { incoming, jsCall } = await jsSdkCallToUs(rooms.plain, CallType.Voice);
    const replaces = new Promise<unknown>((resolve) => incoming.on("replacesReceived", resolve));
    await jsCall.transfer(carol.userId);
    expect(jsCall.hangupReason).toBe(JsCallErrorCode.Transferred);
    await expect(replaces).resolves.toMatchObject({
      target_user: { id: carol.userId },
      create_call: expect.any(String) as string,
    });
    await incoming.hangup();
    expect(incoming.state).toBe(CallState.Ended);
  }, 30_000);

  it("asserted identity: ours reaches js-sdk as AssertedIdentityChanged and getRemoteAssertedIdentity()", async () => {
    const { outgoing, jsCall } = await ourCallToJsSdk(rooms.plain, CallType.Voice);
    expect(jsCall.getRemoteAssertedIdentity()).toBeUndefined();
    const changed = nextJsSdkAssertedIdentity(jsCall);
    await outgoing.sendAssertedIdentity({
      id: carol.userId,
      displayName: "Carol",
      avatarUrl: "mxc://localhost/carol",
    });
    // js-sdk 37.5 keeps the id and the display name (it has no avatar field).
    await expect(changed).resolves.toStrictEqual({ id: carol.userId, displayName: "Carol" });
    expect(jsCall.getRemoteAssertedIdentity()).toStrictEqual({ id: carol.userId, displayName: "Carol" });
    expect(jsCall.state).toBe(JsCallState.Connected);
    await outgoing.hangup();
    await untilJsSdkState(jsCall, JsCallState.Ended);
    expect(jsErrors, wire(rooms.plain, outgoing.callId)).toEqual([]);
  }, 30_000);

  it.each(["ours", "js-sdk's"] as const)(
    "glare, %s call made first (lower call_id): both sides keep the same call and it connects",
    async (first) => {
      const a = ourPeer();
      const ourRings: CallSession[] = [];
      a.voip.on("incomingCall", (call) => ourRings.push(call));
      const jsRings: MatrixCall[] = [];
      const onJsRing = (call: MatrixCall): void => void jsRings.push(call);
      bob.client.on(CallEventHandlerEvent.Incoming, onJsRing);
      let ours!: Promise<CallSession>;
      let theirs!: MatrixCall;
      const makeOurs = (): void => {
        ours = a.voip.inviteToCall(rooms.plain, CallType.Voice, bob.user.userId);
      };
      const makeTheirs = (): void => {
        theirs = track(createNewMatrixCall(bob.client, rooms.plain, { invitee: alice.user.userId })!);
      };
      // Both libraries make call ids as `Date.now()` + random, so the call made 5 ms earlier has the lower id.
      (first === "ours" ? makeOurs : makeTheirs)();
      await new Promise((r) => setTimeout(r, 5));
      (first === "ours" ? makeTheirs : makeOurs)();
      let successor: MatrixCall | undefined;
      theirs.on(CallEvent.Replaced, (next) => (successor = track(next)));
      await theirs.placeVoiceCall();
      const outgoing = await ours;
      const ourIdWins = outgoing.callId < theirs.callId;
      expect(ourIdWins).toBe(first === "ours");

      if (ourIdWins) {
        // js-sdk hands its media to our call and answers it; its own call ends as replaced.
        await untilState(outgoing, CallState.Connected, 20_000);
        await untilJsSdkState(theirs, JsCallState.Ended);
        expect(theirs.hangupReason).toBe(JsCallErrorCode.Replaced);
        expect(successor?.callId).toBe(outgoing.callId);
        await untilJsSdkState(successor!, JsCallState.Connected);
      } else {
        // Ours ends as replaced; js-sdk's keeps ringing here until we answer (PROTOCOL D6).
        await untilState(outgoing, CallState.Ended, 20_000);
        expect(outgoing.hangupReason).toBe(CallErrorCode.Replaced);
        await until(() => ourRings.length > 0, "js-sdk's call to ring here", 10_000);
        const incoming = ourRings[0]!;
        expect(incoming.callId).toBe(theirs.callId);
        expect(incoming.state).toBe(CallState.Ringing);
        await incoming.answer();
        await untilState(incoming, CallState.Connected, 20_000);
        await untilJsSdkState(theirs, JsCallState.Connected);
      }
      bob.client.off(CallEventHandlerEvent.Incoming, onJsRing);
      expect(jsRings, "js-sdk never rings in glare").toEqual([]);
      expect(ourRings.map((c) => c.callId)).toEqual(ourIdWins ? [] : [theirs.callId]);
      const survivor = ourIdWins ? successor! : theirs;
      survivor.hangup(JsCallErrorCode.UserHangup, false);
      await until(
        () => [...a.voip.calls.values()].every((c) => c.state === CallState.Ended),
        "our calls to end",
        20_000,
      );
      expect(jsErrors, `${wire(rooms.plain, outgoing.callId)}\n${wire(rooms.plain, theirs.callId)}`).toEqual(
        [],
      );
    },
    30_000,
  );
});
