import { describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import {
  deferredCleanup,
  expectMediaFlows,
  makePeer,
  nextIncomingCall,
  type Peer,
  until,
  untilState,
} from "../helpers/calls.js";

const defer = deferredCleanup();

async function setup(
  devices: [string, string][],
): Promise<{ hs: LocalHomeserver; roomId: string; peers: Peer[] }> {
  const hs = new LocalHomeserver();
  const users = [...new Set(devices.map(([u]) => u))];
  const roomId = await hs.createRoom({ creator: users[0]!, members: users.slice(1) });
  const peers = devices.map(([u, d]) => makePeer(hs, u, d));
  defer(async () => {
    await Promise.all(peers.map((p) => p.voip.dispose()));
    await hs.close();
  });
  return { hs, roomId, peers };
}

describe("devices", () => {
  it("stops the other device ringing with answered_elsewhere, and reports no missed call there", async () => {
    const { roomId, peers } = await setup([
      ["@alice:local", "ALICE"],
      ["@bob:local", "PHONE"],
      ["@bob:local", "LAPTOP"],
    ]);
    const [alice, phone, laptop] = peers as [Peer, Peer, Peer];
    const onPhone = nextIncomingCall(phone);
    const onLaptop = nextIncomingCall(laptop);
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Video, "@bob:local");
    const [phoneCall, laptopCall] = await Promise.all([onPhone, onLaptop]);
    const missed: string[] = [];
    phone.voip.on("missedCall", (c) => missed.push(c.callId));

    await laptopCall.answer();
    await untilState(phoneCall, CallState.Ended);
    expect(phoneCall.hangupReason).toBe(CallErrorCode.AnsweredElsewhere);
    await untilState(outgoing, CallState.Connected);
    await untilState(laptopCall, CallState.Connected);
    expect(outgoing.remotePartyId).toBe(laptop.voip.sessionId);
    await expectMediaFlows(outgoing);
    expect(missed).toEqual([]);
    expect(phone.callbacks.some((c) => c.startsWith("handleMissedCall"))).toBe(false);
    expect(phone.callbacks).toContain(`handleCallEnded:${phoneCall.callId}`);
  });

  it("rings only the device named by invitee_device_id, and names the caller's device (D10)", async () => {
    const { hs, roomId, peers } = await setup([
      ["@alice:local", "ALICE"],
      ["@bob:local", "PHONE"],
      ["@bob:local", "LAPTOP"],
    ]);
    const [alice, phone, laptop] = peers as [Peer, Peer, Peer];
    let phoneRang = false;
    phone.voip.on("incomingCall", () => {
      phoneRang = true;
    });
    const onLaptop = nextIncomingCall(laptop);
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, "@bob:local", "LAPTOP");
    const call = await onLaptop;
    expect(call.remoteDeviceId).toBe("ALICE");
    const invite = hs.transcript().find((e) => e.type === "m.call.invite");
    expect(invite?.content).toMatchObject({
      invitee: "@bob:local",
      invitee_device_id: "LAPTOP",
      device_id: "ALICE",
    });
    await call.answer();
    await untilState(outgoing, CallState.Connected);
    await new Promise((r) => setTimeout(r, 100));
    expect(phoneRang).toBe(false);
    expect(phone.voip.calls.size).toBe(0);
  });

  it("connects a call between two devices of the same user, with real media (D10)", async () => {
    const { roomId, peers } = await setup([
      ["@alice:local", "DESKTOP"],
      ["@alice:local", "PHONE"],
      ["@alice:local", "TABLET"],
    ]);
    const [desktop, phone, tablet] = peers as [Peer, Peer, Peer];
    let tabletRang = false;
    tablet.voip.on("incomingCall", () => {
      tabletRang = true;
    });
    let desktopRang = false;
    desktop.voip.on("incomingCall", () => {
      desktopRang = true;
    });
    const onPhone = nextIncomingCall(phone);
    const outgoing = await desktop.voip.inviteToCall(roomId, CallType.Video, "@alice:local", "PHONE");
    const incoming = await onPhone;
    expect(incoming.remoteUserId).toBe("@alice:local");
    expect(incoming.remoteDeviceId).toBe("DESKTOP");
    await incoming.answer();
    await untilState(outgoing, CallState.Connected);
    await untilState(incoming, CallState.Connected);
    await expectMediaFlows(incoming);
    await expectMediaFlows(outgoing);
    await incoming.hangup();
    await untilState(outgoing, CallState.Ended);
    expect(outgoing.hangupReason).toBe(CallErrorCode.UserHangup);
    expect(tabletRang).toBe(false);
    expect(desktopRang).toBe(false);
  });

  it("ends a ringing call when another device of the callee rejects it", async () => {
    const { roomId, peers } = await setup([
      ["@alice:local", "ALICE"],
      ["@bob:local", "PHONE"],
      ["@bob:local", "LAPTOP"],
    ]);
    const [alice, phone, laptop] = peers as [Peer, Peer, Peer];
    const onPhone = nextIncomingCall(phone);
    const onLaptop = nextIncomingCall(laptop);
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, "@bob:local");
    const [phoneCall, laptopCall] = await Promise.all([onPhone, onLaptop]);
    await laptopCall.reject();
    await untilState(phoneCall, CallState.Ended);
    await untilState(outgoing, CallState.Ended);
    expect(phoneCall.hangupReason).toBe(CallErrorCode.AnsweredElsewhere);
    await until(() => alice.voip.calls.size === 0, "alice registry empty");
  });
});
