/**
 * Mesh legs below the group call: a leg is a CallSession signalled over to-device (ToDeviceTransport out,
 * MeshInbound in), sending clones of given group media. Memberships are hand-made here; the group call feeds them
 * from room state.
 */
import { describe, expect, it } from "vitest";
import { acceptLeg, placeLeg, type LegOptions } from "../../src/backend/mesh/legs.js";
import { MeshInbound } from "../../src/backend/mesh/MeshInbound.js";
import { CallParticipant } from "../../src/call/CallParticipant.js";
import type { CallSession } from "../../src/call/CallSession.js";
import { WrappedMediaStream } from "../../src/call/WrappedMediaStream.js";
import { silentLogger } from "../../src/core/Logger.js";
import { CallState, systemClock } from "../../src/index.js";
import type { ParsedMembership } from "../../src/matrix/schemas/membership.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import {
  deferredCleanup,
  expectMediaFlows,
  makePeer,
  until,
  untilState,
  type Peer,
} from "../helpers/calls.js";

const defer = deferredCleanup();
const GROUP = "group1";

function membershipFor(
  peer: Peer,
  roomId: string,
  dialect: "famedly-v1" | "famedly-v2" = "famedly-v2",
): ParsedMembership {
  return {
    userId: peer.userId,
    deviceId: peer.deviceId,
    callId: GROUP,
    application: "m.call",
    scope: "m.room",
    backend: { type: "mesh" },
    expiresAt: Date.now() + 3_600_000,
    membershipId: peer.voip.sessionId,
    eventId: `$member-${peer.deviceId}`,
    roomId,
    dialect,
  };
}

interface Member {
  peer: Peer;
  opts: LegOptions;
  inbound: MeshInbound;
  legs: CallSession[];
  groupStream: WrappedMediaStream;
}

async function member(
  roomId: string,
  peer: Peer,
  members: Map<string, ParsedMembership>,
  encrypted = false,
): Promise<Member> {
  const stream = await peer.delegate.mediaDevices.getUserMedia({ audio: true, video: false });
  const groupStream = new WrappedMediaStream(
    stream,
    "m.usermedia",
    new CallParticipant(peer.userId, peer.deviceId, true),
    true,
  );
  defer(() => {
    groupStream.stop(true);
  });
  const legs: CallSession[] = [];
  const opts: LegOptions = {
    voip: peer.voip,
    roomId,
    groupCallId: GROUP,
    media: { usermedia: () => groupStream, screenshare: () => undefined },
    membership: () => undefined,
  };
  const inbound = new MeshInbound({
    client: peer.client,
    clock: systemClock,
    logger: silentLogger,
    sessionId: peer.voip.sessionId,
    roomId,
    groupCallId: GROUP,
    holdMs: 3000,
    gapTimeoutMs: 3000,
    roomEncrypted: () => encrypted,
    membershipOf: (userId, deviceId) => members.get(`${userId}:${deviceId}`),
    entered: () => true,
    leg: (callId) => legs.find((l) => l.callId === callId),
    onInvite: async (invite) => {
      const leg = await acceptLeg(opts, invite);
      legs.push(leg);
      await leg.answer();
    },
  });
  defer(() => {
    inbound.dispose();
  });
  peer.client.onSync((batch) => {
    for (const event of batch.toDevice) {
      void inbound.handle(event);
    }
  });
  return { peer, opts, inbound, legs, groupStream };
}

async function setup() {
  const hs = new LocalHomeserver();
  defer(() => hs.close());
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"] });
  const alice = makePeer(hs, "@alice:local", "ALICE");
  const bob = makePeer(hs, "@bob:local", "BOB");
  defer(() => Promise.all([alice.voip.dispose(), bob.voip.dispose()]).then(() => undefined));
  const members = new Map<string, ParsedMembership>();
  members.set("@alice:local:ALICE", membershipFor(alice, roomId));
  members.set("@bob:local:BOB", membershipFor(bob, roomId));
  const a = await member(roomId, alice, members);
  const b = await member(roomId, bob, members);
  return { hs, roomId, a, b, members };
}

describe("mesh legs over to-device", () => {
  it("connect with the group's media (clones), carry audio both ways, and skip the 1:1 app callbacks", async () => {
    const { hs, a, b, members } = await setup();
    const out = await placeLeg(a.opts, members.get("@bob:local:BOB")!);
    a.legs.push(out);
    await until(() => b.legs.length === 1, "bob's incoming leg");
    const incoming = b.legs[0]!;
    await Promise.all([untilState(out, CallState.Connected), untilState(incoming, CallState.Connected)]);
    expect(incoming.isGroupCall).toBe(true);
    expect(incoming.remoteDeviceId).toBe("ALICE");
    expect(incoming.remoteSessionId).toBe(a.peer.voip.sessionId);
    expect(out.remoteSessionId).toBe(b.peer.voip.sessionId);
    await expectMediaFlows(incoming, { video: false });
    await expectMediaFlows(out, { video: false });

    // Clones: the leg sends its own tracks, not the group's.
    const legTrack = out.localUserMediaStream!.mediaStream.getAudioTracks()[0]!;
    const groupTrack = a.groupStream.mediaStream.getAudioTracks()[0]!;
    expect(legTrack.id).not.toBe(groupTrack.id);

    // The wire: to-device, encrypted (the port can), v2 types, dest_session_id the peer's session.
    const invite = hs
      .transcript()
      .find((e) => e.kind === "toDevice" && e.type === "com.famedly.call.member.invite");
    expect(invite?.encrypted).toBe(true);
    expect(invite?.recipients).toEqual([{ userId: "@bob:local", deviceId: "BOB" }]);
    expect(hs.transcript().filter((e) => e.kind === "room")).toEqual([]);

    await out.hangup();
    await untilState(incoming, CallState.Ended);
    // Ending a leg stops its clones, never the group's tracks.
    expect(legTrack.readyState).toBe("ended");
    expect(groupTrack.readyState).toBe("live");
    expect(b.groupStream.mediaStream.getAudioTracks()[0]!.readyState).toBe("live");
    // Legs are not 1:1 calls: no ringtone, no handleNewCall / handleCallEnded.
    expect(a.peer.callbacks).toEqual([]);
    expect(b.peer.callbacks).toEqual([]);
    expect(a.peer.voip.calls.size).toBe(0);
    expect(b.peer.voip.calls.size).toBe(0);
  });

  it("answers in the dialect the invite came in: m.call.* to a famedly-v1 member", async () => {
    const { hs, roomId, a, b } = await setup();
    const bobV1 = membershipFor(b.peer, roomId, "famedly-v1");
    const out = await placeLeg({ ...a.opts, membership: () => bobV1 }, bobV1);
    a.legs.push(out);
    await until(() => b.legs.length === 1, "bob's incoming leg");
    await Promise.all([untilState(out, CallState.Connected), untilState(b.legs[0]!, CallState.Connected)]);
    const types = hs.transcript().filter((e) => e.kind === "toDevice");
    expect(types.filter((e) => e.sender === "@alice:local").map((e) => e.type)).toContain("m.call.invite");
    expect(types.filter((e) => e.sender === "@bob:local").map((e) => e.type)).toContain("m.call.answer");
    expect(types.every((e) => e.type.startsWith("m.call."))).toBe(true);
  });

  it("a leg that shares the group's screen sends a clone of it, without asking for the screen", async () => {
    const { a, b, members } = await setup();
    const screen = await a.peer.delegate.mediaDevices.getDisplayMedia!({ video: true });
    const shared = new WrappedMediaStream(
      screen,
      "m.screenshare",
      new CallParticipant("@alice:local", "ALICE", true),
      true,
    );
    defer(() => {
      shared.stop(true);
    });
    let asked = 0;
    const original = a.peer.delegate.mediaDevices.getDisplayMedia!.bind(a.peer.delegate.mediaDevices);
    (a.peer.delegate.mediaDevices as { getDisplayMedia: typeof original }).getDisplayMedia = (c) => {
      asked++;
      return original(c);
    };
    const opts: LegOptions = {
      ...a.opts,
      media: { usermedia: () => a.groupStream, screenshare: () => shared },
    };
    const out = await placeLeg(opts, members.get("@bob:local:BOB")!);
    a.legs.push(out);
    await until(() => b.legs.length === 1, "bob's incoming leg");
    const incoming = b.legs[0]!;
    await untilState(incoming, CallState.Connected);
    await until(() => incoming.remoteScreenSharingStream !== undefined, "bob sees alice's screen");
    expect(out.localScreenSharingStream?.mediaStream.id).not.toBe(screen.id);
    expect(asked).toBe(0);
    await out.hangup();
    expect(screen.getVideoTracks()[0]!.readyState).toBe("live");
  });
});
