// Mesh group calls over LocalHomeserver with real @roamhq/wrtc media (audio only unless said otherwise).
import { describe, expect, it } from "vitest";
import { CallDirection, CallState, GroupCallState, type MatrixClientPort } from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { deferredCleanup, expectMediaFlows, until } from "../helpers/calls.js";
import {
  crashableClient,
  legTo,
  meshWorld,
  pairsOf,
  untilFullMesh,
  type MeshMember,
  type MeshWorld,
} from "../helpers/mesh.js";

const defer = deferredCleanup();

async function world(userIds: string[], opts: Parameters<typeof meshWorld>[1] = {}): Promise<MeshWorld> {
  const w = await meshWorld(userIds, opts);
  defer(() => w.close());
  return w;
}

async function bytesBothWays(a: MeshMember, b: MeshMember): Promise<void> {
  const ab = legTo(a, b)!;
  const ba = legTo(b, a)!;
  await until(
    () => (ab.remoteUserMediaStream?.mediaStream.getAudioTracks().length ?? 0) > 0,
    `${a.userId} receives ${b.userId}`,
  );
  let received = [0, 0];
  for (let i = 0; i < 100 && !received.every((n) => n > 0); i++) {
    received = [(await ab.getStats()).audio.bytesReceived, (await ba.getStats()).audio.bytesReceived];
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(received[0]).toBeGreaterThan(0);
  expect(received[1]).toBeGreaterThan(0);
}

/** A client counting its `getTurnServers` requests. */
function countingTurn(inner: MatrixClientPort): { client: MatrixClientPort; turnRequests: () => number } {
  let count = 0;
  const client = new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") {
        return value;
      }
      const fn = value as (...args: unknown[]) => unknown;
      return (...args: unknown[]) => {
        if (prop === "getTurnServers") {
          count++;
        }
        return fn.apply(target, args);
      };
    },
  });
  return { client, turnRequests: () => count };
}

describe("mesh group call", () => {
  it("4 members: every pair connects, the smaller id places the call (G2), audio flows both ways", async () => {
    const w = await world(["@u0:local", "@u1:local", "@u2:local", "@u3:local"]);
    const members = await Promise.all([0, 1, 2, 3].map((i) => w.add(`@u${i}:local`)));
    await Promise.all(members.map((m) => m.group.enter()));
    await untilFullMesh(members);
    for (const [a, b] of pairsOf(members)) {
      expect(legTo(a, b)!.direction).toBe(CallDirection.Outgoing);
      expect(legTo(b, a)!.direction).toBe(CallDirection.Incoming);
      await bytesBothWays(a, b);
    }
    for (const m of members) {
      expect(m.group.calls).toHaveLength(3);
      expect(m.group.participants.map((p) => p.id).sort()).toEqual(
        members.map((x) => `${x.userId}:DEVICE`).sort(),
      );
      // Mesh legs are not 1:1 calls: no ringtone, no handleNewCall.
      expect(m.callbacks).toEqual([]);
    }
    // Signalling went only to-device; every message was encrypted (G7).
    const signalling = w.hs.transcript().filter((e) => e.type.startsWith("com.famedly.call.member."));
    expect(signalling.length).toBeGreaterThan(0);
    expect(signalling.every((e) => e.kind === "toDevice" && e.encrypted)).toBe(true);
  });

  it("3 members: each asks the homeserver for TURN once, when entering; the mesh connects with audio", async () => {
    const w = await world(["@u0:local", "@u1:local", "@u2:local"]);
    const counted = [0, 1, 2].map((i) => countingTurn(w.hs.createClient(`@u${i}:local`, "DEVICE")));
    const members = await Promise.all(
      counted.map(({ client }, i) => w.add(`@u${i}:local`, "DEVICE", {}, client)),
    );
    await Promise.all(members.map((m) => m.group.enter()));
    expect(counted.map((c) => c.turnRequests())).toEqual([1, 1, 1]);
    await untilFullMesh(members);
    for (const [a, b] of pairsOf(members)) {
      await bytesBothWays(a, b);
    }
    expect(counted.map((c) => c.turnRequests())).toEqual([1, 1, 1]);
  });

  it("leave: the leaver's legs end and are removed on both sides; leave() ends every leg", async () => {
    const w = await world(["@u0:local", "@u1:local", "@u2:local"]);
    const members = await Promise.all([0, 1, 2].map((i) => w.add(`@u${i}:local`)));
    await Promise.all(members.map((m) => m.group.enter()));
    await untilFullMesh(members);
    const [a, b, c] = members as [MeshMember, MeshMember, MeshMember];
    const removed: string[] = [];
    a.group.on("callRemoved", (call) => removed.push(call.remoteUserId ?? ""));
    const legsOfB = [...b.group.calls];
    await b.group.leave();
    expect(b.group.state).toBe(GroupCallState.Ended);
    expect(legsOfB.every((leg) => leg.state === CallState.Ended)).toBe(true);
    expect(b.voip.calls.size).toBe(0);
    await until(() => a.group.calls.length === 1 && c.group.calls.length === 1, "legs to b removed");
    expect(removed).toEqual(["@u1:local"]);
    expect(legTo(a, c)).toBeDefined();
    await until(() => !a.group.participants.some((p) => p.userId === b.userId), "b no longer a participant");
  });

  it("a member that restarts with a new membershipID gets a new leg; the stale one is replaced", async () => {
    const w = await world(["@u0:local", "@u1:local"]);
    const a = await w.add("@u0:local");
    const inner = w.hs.createClient("@u1:local", "DEVICE");
    const device = crashableClient(inner);
    const b = await w.add("@u1:local", "DEVICE", {}, device.client);
    await Promise.all([a.group.enter(), b.group.enter()]);
    await untilFullMesh([a, b]);
    const stale = legTo(a, b)!;
    // b's app is killed (no hangup, no leave) and restarts on the same device: a new VoIP, a new session.
    device.crash();
    const b2 = await w.add("@u1:local", "DEVICE", {}, inner);
    expect(b2.voip.sessionId).not.toBe(b.voip.sessionId);
    await b2.group.enter();
    await until(() => stale.state === CallState.Ended, "stale leg ended");
    await untilFullMesh([a, b2]);
    const fresh = legTo(a, b2)!;
    expect(fresh).not.toBe(stale);
    expect(fresh.remoteSessionId).toBe(b2.voip.sessionId);
    await expectMediaFlows(fresh, { video: false });
  });

  it("converges with to-device reordering, duplicates and lost requests", async () => {
    const w = await world(["@u0:local", "@u1:local", "@u2:local"]);
    w.hs.setFaults({ reorder: true, duplicateRate: 0.3, lossRate: 0.2 });
    const members = await Promise.all([0, 1, 2].map((i) => w.add(`@u${i}:local`)));
    await Promise.all(members.map((m) => m.group.enter()));
    await untilFullMesh(members, 30_000);
    w.hs.setFaults({});
    for (const [a, b] of pairsOf(members)) {
      await bytesBothWays(a, b);
    }
  });

  it("ignores mesh signalling from a device that is not a member of the call (G5)", async () => {
    const w = await world(["@u0:local", "@u9:local"]);
    const a = await w.add("@u0:local", "DEVICE", { timeouts: { earlyEventHoldMs: 300 } });
    await a.group.enter();
    const outsider = await w.add("@u9:local");
    // The outsider never enters, but sends a well-formed invite addressed to a's session.
    const leg = outsider.voip.createMeshLeg({
      callId: outsider.voip.newCallId(),
      roomId: w.roomId,
      groupCallId: w.roomId,
      type: "voice" as never,
      direction: CallDirection.Outgoing,
      remoteUserId: a.userId,
      remoteDeviceId: a.deviceId,
      remoteSessionId: a.voip.sessionId,
      dialect: () => "famedly-v2",
    });
    await leg.initOutbound();
    await until(
      () => w.hs.transcript().some((e) => e.type === "com.famedly.call.member.invite"),
      "invite sent",
    );
    await new Promise((r) => setTimeout(r, 600)); // longer than the hold: held, then dropped
    expect(a.group.calls).toEqual([]);
    expect([...a.voip.calls.values()]).toEqual([]);
    await leg.hangup();
  });

  it("group mute reaches every leg; screen share updates membership feeds and every leg", async () => {
    const w = await world(["@u0:local", "@u1:local", "@u2:local"]);
    const members = await Promise.all([0, 1, 2].map((i) => w.add(`@u${i}:local`)));
    await Promise.all(members.map((m) => m.group.enter()));
    await untilFullMesh(members);
    const [a, b, c] = members as [MeshMember, MeshMember, MeshMember];
    const mutes: unknown[] = [];
    a.group.on("localMuteChanged", (change) => mutes.push(change));
    await a.group.setMicrophoneMuted(true);
    expect(mutes).toEqual([{ kind: "audio", muted: true }]);
    expect(a.group.calls.every((leg) => leg.isMicrophoneMuted())).toBe(true);
    await until(
      () => [b, c].every((m) => legTo(m, a)?.remoteUserMediaStream?.audioMuted === true),
      "peers see a muted",
    );

    const shared: boolean[] = [];
    a.group.on("localScreenshareChanged", (enabled) => shared.push(enabled));
    expect(await a.group.setScreensharingEnabled(true)).toBe(true);
    await until(
      () => [b, c].every((m) => legTo(m, a)?.remoteScreenSharingStream !== undefined),
      "peers see a's screen",
    );
    const feeds = () =>
      (
        w.hs.getRoomState(w.roomId).find((e) => e.type === GroupEventType.Member && e.stateKey === a.userId)
          ?.content as { memberships: { feeds?: unknown }[] }
      ).memberships[0]?.feeds;
    expect(feeds()).toEqual([{ purpose: "m.usermedia" }, { purpose: "m.screenshare" }]);
    expect(await a.group.setScreensharingEnabled(false)).toBe(false);
    expect(shared).toEqual([true, false]);
    expect(feeds()).toEqual([{ purpose: "m.usermedia" }]);
    await until(
      () => [b, c].every((m) => legTo(m, a)?.remoteScreenSharingStream === undefined),
      "peers no longer see a's screen",
    );
  });

  it("active speaker: the one unmuted member, as every member hears it", async () => {
    const w = await world(["@u0:local", "@u1:local", "@u2:local"]);
    const members = await Promise.all([0, 1, 2].map((i) => w.add(`@u${i}:local`)));
    await Promise.all(members.map((m) => m.group.enter()));
    await untilFullMesh(members);
    const [a, b, c] = members as [MeshMember, MeshMember, MeshMember];
    await Promise.all([a.group.setMicrophoneMuted(true), c.group.setMicrophoneMuted(true)]);
    await until(
      () => members.every((m) => m.group.activeSpeaker?.id === `${b.userId}:DEVICE`),
      "b is everyone's active speaker",
      10_000,
    );
  });

  it("video: a 2-member mesh carries video frames both ways", async () => {
    const w = await world(["@u0:local", "@u1:local"], { video: true });
    const a = await w.add("@u0:local");
    const b = await w.add("@u1:local");
    await Promise.all([a.group.enter(), b.group.enter()]);
    await untilFullMesh([a, b]);
    await expectMediaFlows(legTo(a, b)!, { video: true, audio: true });
    await expectMediaFlows(legTo(b, a)!, { video: true, audio: true });
  });
});

describe("mesh dialects (PROTOCOL P2)", () => {
  for (const v1User of ["@u0:local", "@u1:local"]) {
    it(`a famedly-v1 peer (${v1User === "@u0:local" ? "the caller" : "the callee"}) and a default peer talk m.call.* both ways`, async () => {
      const w = await world(["@u0:local", "@u1:local"]);
      const a = await w.add("@u0:local", "DEVICE", v1User === "@u0:local" ? { dialect: "famedly-v1" } : {});
      const b = await w.add("@u1:local", "DEVICE", v1User === "@u1:local" ? { dialect: "famedly-v1" } : {});
      await Promise.all([a.group.enter(), b.group.enter()]);
      await untilFullMesh([a, b]);
      await expectMediaFlows(legTo(a, b)!, { video: false });
      const sent = (by: string) =>
        w.hs
          .transcript()
          .filter((e) => e.kind === "toDevice" && e.sender === by)
          .map((e) => e.type);
      const v1 = v1User;
      const v2 = v1User === "@u0:local" ? "@u1:local" : "@u0:local";
      // The v1 peer writes m.call.* (an old deployment knows nothing else) …
      expect(sent(v1).length).toBeGreaterThan(0);
      expect(sent(v1).every((t) => t.startsWith("m.call."))).toBe(true);
      // … and the default peer writes to it in its dialect, read from its membership (only `backend`).
      expect(sent(v2).length).toBeGreaterThan(0);
      expect(sent(v2).every((t) => t.startsWith("m.call."))).toBe(true);
      expect(legTo(a, b)!.direction).toBe(CallDirection.Outgoing);
      // The v1 peer's membership carries only `backend` (that is how the other reads its dialect).
      const entry = (
        w.hs.getRoomState(w.roomId).find((e) => e.type === GroupEventType.Member && e.stateKey === v1)
          ?.content as { memberships: Record<string, unknown>[] }
      ).memberships[0];
      expect(entry?.backend).toEqual({ type: "mesh" });
      expect(entry).not.toHaveProperty("foci_active");
    });
  }

  it("two default peers write com.famedly.call.member.*", async () => {
    const w = await world(["@u0:local", "@u1:local"]);
    const a = await w.add("@u0:local");
    const b = await w.add("@u1:local");
    await Promise.all([a.group.enter(), b.group.enter()]);
    await untilFullMesh([a, b]);
    const types = w.hs
      .transcript()
      .filter((e) => e.kind === "toDevice")
      .map((e) => e.type);
    expect(types.length).toBeGreaterThan(0);
    expect(types.every((t) => t.startsWith("com.famedly.call.member."))).toBe(true);
  });
});
