// 1:1 calls through a real Synapse with matrix-js-sdk clients (Rust crypto) and real @roamhq/wrtc media.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType, VoIP, type CallSession } from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { expectMediaFlows, nextIncomingCall, untilState, type Peer } from "../helpers/calls.js";
import { createRoom, registerUser, startClient, synapse, waitForDevice, type TestClient } from "./clients.js";
import { startRecordingProxy, type RecordingProxy } from "./recordingProxy.js";

let proxy: RecordingProxy;
let alice: TestClient;
let bobPhone: TestClient;
let bobLaptop: TestClient;
let plainRoom: string;
let encryptedRoom: string;
const voips: VoIP[] = [];

function peer(tc: TestClient): Peer {
  const delegate = createNodeDelegate();
  const voip = new VoIP(tc.port, delegate);
  voips.push(voip);
  return { userId: tc.user.userId, deviceId: tc.deviceId, client: tc.port, delegate, voip, callbacks: [] };
}

beforeAll(async () => {
  proxy = await startRecordingProxy(synapse().baseUrl);
  const [aliceUser, bobUser] = await Promise.all([registerUser("alice"), registerUser("bob")]);
  alice = await startClient(aliceUser, { baseUrl: proxy.url });
  bobPhone = await startClient(bobUser, { devicePrefix: "phone" });
  bobLaptop = await startClient(bobUser, { devicePrefix: "laptop" });
  plainRoom = await createRoom(alice, [bobPhone, bobLaptop]);
  encryptedRoom = await createRoom(alice, [bobPhone, bobLaptop], { encrypted: true });
  await waitForDevice(alice.client, bobUser.userId, bobPhone.deviceId);
  await waitForDevice(alice.client, bobUser.userId, bobLaptop.deviceId);
}, 120_000);

afterAll(async () => {
  await Promise.all(voips.map((v) => v.dispose()));
  for (const c of [alice, bobPhone, bobLaptop]) {
    c.stop();
  }
  await proxy.close();
});

async function callAndConnect(
  caller: Peer,
  callee: Peer,
  roomId: string,
): Promise<{ outgoing: CallSession; incoming: CallSession }> {
  const ringing = nextIncomingCall(callee, 20_000);
  const outgoing = await caller.voip.inviteToCall(roomId, CallType.Video, callee.userId);
  const incoming = await ringing;
  await incoming.answer();
  await untilState(outgoing, CallState.Connected, 20_000);
  await untilState(incoming, CallState.Connected, 20_000);
  return { outgoing, incoming };
}

describe("1:1 calls over Synapse", () => {
  it("connects in an unencrypted room, media both ways, and the callee sees the caller's hangup reason", async () => {
    const a = peer(alice);
    const b = peer(bobPhone);
    const { outgoing, incoming } = await callAndConnect(a, b, plainRoom);
    await expectMediaFlows(incoming);
    await expectMediaFlows(outgoing);
    await outgoing.hangup();
    await untilState(incoming, CallState.Ended, 20_000);
    expect(incoming.hangupReason).toBe(CallErrorCode.UserHangup);
    await Promise.all([a.voip.dispose(), b.voip.dispose()]);
  }, 60_000);

  it("connects in an encrypted room, where the invite travels as m.room.encrypted", async () => {
    const a = peer(alice);
    const b = peer(bobPhone);
    const before = proxy.requests.length;
    const { outgoing, incoming } = await callAndConnect(a, b, encryptedRoom);
    await expectMediaFlows(incoming);
    await expectMediaFlows(outgoing);
    await incoming.hangup();
    await untilState(outgoing, CallState.Ended, 20_000);
    expect(outgoing.hangupReason).toBe(CallErrorCode.UserHangup);

    const sent = proxy.requests
      .slice(before)
      .filter(
        (r) => r.method === "PUT" && r.path.includes(`/rooms/${encodeURIComponent(encryptedRoom)}/send/`),
      );
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every((r) => r.path.includes("/send/m.room.encrypted/"))).toBe(true);
    for (const r of sent) {
      expect(r.body).not.toContain("v=0");
      expect(r.body).not.toContain(outgoing.callId);
    }
    await Promise.all([a.voip.dispose(), b.voip.dispose()]);
  }, 60_000);

  it("rings only the device named by invitee_device_id", async () => {
    const a = peer(alice);
    const phone = peer(bobPhone);
    const laptop = peer(bobLaptop);
    let phoneRang = false;
    phone.voip.on("incomingCall", () => {
      phoneRang = true;
    });
    const ringing = nextIncomingCall(laptop, 20_000);
    const outgoing = await a.voip.inviteToCall(
      plainRoom,
      CallType.Voice,
      bobLaptop.user.userId,
      bobLaptop.deviceId,
    );
    const incoming = await ringing;
    expect(incoming.remoteDeviceId).toBe(alice.deviceId);
    await incoming.answer();
    await untilState(outgoing, CallState.Connected, 20_000);
    await expectMediaFlows(incoming, { video: false });
    await outgoing.hangup();
    await untilState(incoming, CallState.Ended, 20_000);
    expect(phoneRang).toBe(false);
    await Promise.all([a.voip.dispose(), phone.voip.dispose(), laptop.voip.dispose()]);
  }, 60_000);

  it("stops the other device ringing with answered_elsewhere when one device of the callee answers", async () => {
    const a = peer(alice);
    const phone = peer(bobPhone);
    const laptop = peer(bobLaptop);
    const onPhone = nextIncomingCall(phone, 20_000);
    const onLaptop = nextIncomingCall(laptop, 20_000);
    const outgoing = await a.voip.inviteToCall(encryptedRoom, CallType.Voice, bobPhone.user.userId);
    const [phoneCall, laptopCall] = await Promise.all([onPhone, onLaptop]);
    await laptopCall.answer();
    await untilState(phoneCall, CallState.Ended, 20_000);
    expect(phoneCall.hangupReason).toBe(CallErrorCode.AnsweredElsewhere);
    await untilState(outgoing, CallState.Connected, 20_000);
    await expectMediaFlows(outgoing, { video: false });
    await outgoing.hangup();
    await untilState(laptopCall, CallState.Ended, 20_000);
    await Promise.all([a.voip.dispose(), phone.voip.dispose(), laptop.voip.dispose()]);
  }, 60_000);
});
