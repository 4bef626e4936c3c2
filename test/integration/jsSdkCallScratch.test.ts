import { CallEvent } from "matrix-js-sdk";
import { CallErrorCode as JsCallErrorCode, CallState as JsCallState, createNewMatrixCall, type MatrixCall } from "matrix-js-sdk/lib/webrtc/call.js";
import { beforeAll, it } from "vitest";
import { CallState, CallType, VoIP, type CallSession } from "../../src/index.js";
import { CallEventHandlerEvent } from "matrix-js-sdk/lib/webrtc/callEventHandler.js";
import { createNodeDelegate, probeRemoteMedia } from "../../src/node/index.js";
import { nextIncomingCall, until, untilState } from "../helpers/calls.js";
import { createRoom, registerUser, startClient, type TestClient } from "./clients.js";
import { callWireEvents, describeWire, installJsSdkCallGlobals, nextJsSdkIncomingCall, untilJsSdkState } from "./jsSdkCall.js";

let alice: TestClient; let bob: TestClient; let room: string;
beforeAll(async () => {
  const [au, bu] = await Promise.all([registerUser("alice"), registerUser("bob")]);
  alice = await startClient(au);
  installJsSdkCallGlobals(createNodeDelegate().mediaDevices);
  bob = await startClient(bu);
  room = await createRoom(alice, [bob]);
}, 120_000);

function dump(callId: string): void { process.stderr.write(describeWire(callWireEvents(alice, room, callId)) + "\n"); }
function rs(s: MediaStream | undefined): string {
  return s ? `${s.id}[${s.getTracks().map((t) => `${t.kind}:${t.readyState}:${t.enabled}`).join(",")}]` : "none";
}



it("holdprobe", async () => {
  const voip = new VoIP(alice.port, createNodeDelegate());
  const ringing = nextIncomingCall({ voip } as never, 20000);
  const js = createNewMatrixCall(bob.client, room, { invitee: alice.user.userId })!;
  js.on(CallEvent.Error, (e) => process.stderr.write(`JSERR ${String(e)}\n`));
  await js.placeVoiceCall();
  const inc = await ringing; await inc.answer();
  await untilState(inc, CallState.Connected, 20000); await untilJsSdkState(js, JsCallState.Connected);
  const jsIn = async (): Promise<number> => {
    let n = 0;
    for (const x of (await js.getCurrentCallStats()) ?? []) { const t = x as { type?: string; bytesReceived?: number }; if (t.type === "inbound-rtp") n += t.bytesReceived ?? 0; }
    return n;
  };
  const longOurs = probeRemoteMedia(inc.remoteUserMediaStream!.mediaStream);
  const longJs = probeRemoteMedia(js.remoteUsermediaStream!);
  const probe = async (label: string): Promise<void> => {
    const p = probeRemoteMedia(inc.remoteUserMediaStream!.mediaStream);
    const pj = probeRemoteMedia(js.remoteUsermediaStream!);
    const st = await inc.getStats(); const j1 = await jsIn(); const lo = longOurs.audioSamples(); const lj = longJs.audioSamples();
    await new Promise((r) => setTimeout(r, 1000));
    const st2 = await inc.getStats(); const j2 = await jsIn();
    process.stderr.write(`${label}: new probes ours ${p.audioSamples()} js ${pj.audioSamples()}; long probes ours +${longOurs.audioSamples() - lo} js +${longJs.audioSamples() - lj}; our recv +${st2.audio.bytesReceived - st.audio.bytesReceived} our sent +${st2.audio.bytesSent - st.audio.bytesSent} js recv +${j2 - j1}; js remote tracks ${rs(js.remoteUsermediaStream)} \n`);
    p.stop(); pj.stop();
  };
  await probe("start");
  js.setRemoteOnHold(true);
  await until(() => inc.isLocalOnHold(), "hold", 10000);
  await probe("js hold");
  js.setRemoteOnHold(false);
  await until(() => !inc.isLocalOnHold(), "unhold", 10000);
  await probe("js unhold");
  await inc.setRemoteOnHold(true);
  await until(() => js.isLocalOnHold(), "hold", 10000);
  await probe("our hold");
  await inc.setRemoteOnHold(false);
  await until(() => !js.isLocalOnHold(), "unhold", 10000);
  await probe("our unhold");
  await new Promise((r) => setTimeout(r, 2000));
  await probe("our unhold +2s");
  longOurs.stop(); longJs.stop();
  js.hangup(JsCallErrorCode.UserHangup, false); await voip.dispose();
}, 30000);
it("ourhold", async () => {
  const voip = new VoIP(alice.port, createNodeDelegate());
  const ringing = nextIncomingCall({ voip } as never, 20000);
  const js = createNewMatrixCall(bob.client, room, { invitee: alice.user.userId })!;
  js.on(CallEvent.Error, (e) => process.stderr.write(`JSERR ${String(e)}\n`));
  await js.placeVoiceCall();
  const inc = await ringing; await inc.answer();
  await untilState(inc, CallState.Connected, 20000); await untilJsSdkState(js, JsCallState.Connected);
  process.stderr.write(`our remote before ${rs(inc.remoteUserMediaStream?.mediaStream)}\n`);
  await inc.setRemoteOnHold(true);
  await until(() => js.isLocalOnHold(), "hold", 10000);
  process.stderr.write(`our remote on hold ${rs(inc.remoteUserMediaStream?.mediaStream)}\n`);
  await inc.setRemoteOnHold(false);
  await until(() => !js.isLocalOnHold(), "unhold", 10000);
  const s1 = await inc.getStats();
  await new Promise((r) => setTimeout(r, 1500));
  const s2 = await inc.getStats();
  process.stderr.write(`our remote after ${rs(inc.remoteUserMediaStream?.mediaStream)} bytes ${s1.audio.bytesReceived}->${s2.audio.bytesReceived} sent ${s1.audio.bytesSent}->${s2.audio.bytesSent}\n`);
  process.stderr.write(`js transceivers ${js.peerConn!.getTransceivers().map((t) => `${t.mid} ${t.sender.track?.kind}:${t.sender.track?.readyState} ${t.direction}/${t.currentDirection}`).join(" | ")}\n`);
  process.stderr.write(`ours isLocalOnHold=${inc.isLocalOnHold()} isRemoteOnHold=${inc.isRemoteOnHold()}\n`);
  dump(js.callId);
  js.hangup(JsCallErrorCode.UserHangup, false); await voip.dispose();
}, 30000);

it("jsscreenshare", async () => {
  const voip = new VoIP(alice.port, createNodeDelegate());
  const ringing = nextJsSdkIncomingCall(bob.client);
  const out = await voip.inviteToCall(room, CallType.Video, bob.user.userId);
  const js: MatrixCall = await ringing; js.on(CallEvent.Error, (e) => process.stderr.write(`JSERR ${String(e)}\n`));
  await js.answer();
  await untilState(out, CallState.Connected, 20000); await untilJsSdkState(js, JsCallState.Connected);
  process.stderr.write(`enable -> ${String(await js.setScreensharingEnabled(true))}\n`);
  await new Promise((r) => setTimeout(r, 3000));
  process.stderr.write(`our remote ss ${rs(out.remoteScreenSharingStream?.mediaStream)} um ${rs(out.remoteUserMediaStream?.mediaStream)}\n`);
  process.stderr.write(`disable -> ${String(await js.setScreensharingEnabled(false))}\n`);
  await new Promise((r) => setTimeout(r, 3000));
  process.stderr.write(`our remote ss ${rs(out.remoteScreenSharingStream?.mediaStream)}\n`);
  dump(out.callId);
  await out.hangup(); await voip.dispose();
}, 30000);

it("upgrade", async () => {
  const voip = new VoIP(alice.port, createNodeDelegate());
  const ringing = nextJsSdkIncomingCall(bob.client);
  const out = await voip.inviteToCall(room, CallType.Voice, bob.user.userId);
  const js = await ringing;
  js.on(CallEvent.Error, (e) => process.stderr.write(`JSERR ${String(e)}\n`));
  await js.answer();
  await untilState(out, CallState.Connected, 20000); await untilJsSdkState(js, JsCallState.Connected);
  await out.setLocalVideoMuted(false);
  await new Promise((r) => setTimeout(r, 3000));
  process.stderr.write(`feeds ${js.getRemoteFeeds().map((f) => `${f.purpose} ${rs(f.stream)} am=${f.isAudioMuted()} vm=${f.isVideoMuted()}`).join(" | ")}\n`);
  dump(out.callId);
  await out.hangup(); await voip.dispose();
}, 30000);

it("glare", async () => {
  for (const order of ["ours-first", "js-first"]) {
  const voip = new VoIP(alice.port, createNodeDelegate());
  const ourIncoming: CallSession[] = [];
  voip.on("incomingCall", (c) => { ourIncoming.push(c); });
  const jsIncoming: MatrixCall[] = [];
  const onInc = (c: MatrixCall): void => { jsIncoming.push(c); };
  bob.client.on(CallEventHandlerEvent.Incoming, onInc);
  const js = createNewMatrixCall(bob.client, room, { invitee: alice.user.userId })!;
  js.on(CallEvent.Error, (e) => process.stderr.write(`JSERR ${String(e)}\n`));
  let out: CallSession;
  if (order === "ours-first") {
    out = await voip.inviteToCall(room, CallType.Voice, bob.user.userId);
    await js.placeVoiceCall();
  } else {
    await js.placeVoiceCall();
    out = await voip.inviteToCall(room, CallType.Voice, bob.user.userId);
  }
  await new Promise((r) => setTimeout(r, 4000));
  process.stderr.write(`${order}: ours ${out.callId} ${out.state} ${String(out.hangupReason)}; js ${js.callId} ${js.state} ${String(js.hangupReason)}; ours<js ${String(out.callId < js.callId)}\n`);
  process.stderr.write(`  our incoming: ${ourIncoming.map((c) => `${c.callId} ${c.state} ${String(c.hangupReason)}`).join(", ")}; js incoming: ${jsIncoming.map((c) => `${c.callId} ${c.state} ${String(c.hangupReason)}`).join(", ")}\n`);
  process.stderr.write(describeWire([...callWireEvents(alice, room, out.callId), ...callWireEvents(alice, room, js.callId)]).split("\n").map((l) => l.slice(0, 200)).join("\n") + "\n");
  bob.client.off(CallEventHandlerEvent.Incoming, onInc);
  for (const c of [out, ...ourIncoming]) await c.hangup();
  for (const c of [js, ...jsIncoming]) if (c.state !== JsCallState.Ended) c.hangup(JsCallErrorCode.UserHangup, false);
  await voip.dispose();
  await new Promise((r) => setTimeout(r, 500));
  }
}, 30000);

it("glare2", async () => {
  const voip = new VoIP(alice.port, createNodeDelegate());
  const ourIncoming: CallSession[] = [];
  voip.on("incomingCall", (c) => { ourIncoming.push(c); });
  const jsIncoming: MatrixCall[] = [];
  const onInc = (c: MatrixCall): void => { jsIncoming.push(c); };
  bob.client.on(CallEventHandlerEvent.Incoming, onInc);
  const outP = voip.inviteToCall(room, CallType.Voice, bob.user.userId);
  await new Promise((r) => setTimeout(r, 5));
  const js = createNewMatrixCall(bob.client, room, { invitee: alice.user.userId })!;
  let successor: MatrixCall | undefined;
  js.on(CallEvent.Replaced, (n) => { successor = n; });
  js.on(CallEvent.Error, (e) => process.stderr.write(`JSERR ${String(e)}\n`));
  await js.placeVoiceCall();
  const out = await outP;
  await new Promise((r) => setTimeout(r, 4000));
  process.stderr.write(`ours ${out.callId} ${out.state} ${String(out.hangupReason)}; js ${js.callId} ${js.state} ${String(js.hangupReason)}; successor ${successor?.callId} ${successor?.state}; ours<js ${String(out.callId < js.callId)}\n`);
  process.stderr.write(`  our incoming: ${ourIncoming.map((c) => `${c.callId} ${c.state} ${String(c.hangupReason)}`).join(", ")}; js incoming: ${jsIncoming.map((c) => `${c.callId} ${c.state} ${String(c.hangupReason)}`).join(", ")}\n`);
  process.stderr.write(describeWire([...callWireEvents(alice, room, out.callId), ...callWireEvents(alice, room, js.callId)]).split("\n").map((l) => l.slice(0, 200)).join("\n") + "\n");
  bob.client.off(CallEventHandlerEvent.Incoming, onInc);
  for (const c of [out, ...ourIncoming]) await c.hangup();
  for (const c of [js, ...jsIncoming]) if (c.state !== JsCallState.Ended) c.hangup(JsCallErrorCode.UserHangup, false);
  await voip.dispose();
}, 30000);
