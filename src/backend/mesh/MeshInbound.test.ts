import { describe, expect, it } from "vitest";
import type { CallSession } from "../../call/CallSession.js";
import { silentLogger } from "../../core/Logger.js";
import type { MatrixClientPort, ToDeviceEvent } from "../../matrix/MatrixClientPort.js";
import type { ParsedMembership } from "../../matrix/schemas/membership.js";
import { ManualClock } from "../../testing/ManualClock.js";
import { MeshInbound, type InboundInvite, type MeshInboundDeps } from "./MeshInbound.js";

const ROOM = "!room:local";
const GROUP = "g1";
const OURS = "ourSession";
const BOB = "@bob:local";

function membership(userId: string, deviceId: string, membershipId: string): ParsedMembership {
  return {
    userId,
    deviceId,
    callId: GROUP,
    application: "m.call",
    scope: "m.room",
    backend: { type: "mesh" },
    expiresAt: 0,
    membershipId,
    eventId: "$e",
    roomId: ROOM,
    dialect: "famedly-v2",
  };
}

const OFFER = { type: "offer", sdp: "v=0\r\n" };

function event(
  type: string,
  fields: Record<string, unknown>,
  opts: { sender?: string; encrypted?: boolean; senderDevice?: string } = {},
): ToDeviceEvent {
  const encrypted = opts.encrypted ?? true;
  return {
    type: `com.famedly.call.member.${type}`,
    sender: opts.sender ?? BOB,
    encrypted,
    ...(encrypted ? { senderDevice: opts.senderDevice ?? "BOB" } : {}),
    content: {
      call_id: "c1",
      party_id: "bobParty",
      version: "1",
      conf_id: GROUP,
      room_id: ROOM,
      dest_session_id: OURS,
      sender_session_id: "bobSession",
      ...fields,
    },
  };
}

const invite = (seq: number, extra: Record<string, unknown> = {}) =>
  event("invite", { seq, offer: OFFER, lifetime: 60000, device_id: "BOB", ...extra });
const hangup = (seq: number, extra: Record<string, unknown> = {}) =>
  event("hangup", { seq, reason: "user_hangup", ...extra });
const candidates = (seq: number) =>
  event("candidates", {
    seq,
    candidates: [{ candidate: `candidate:${seq}`, sdpMid: "0", sdpMLineIndex: 0 }],
  });

function setup(overrides: Partial<MeshInboundDeps> = {}) {
  const clock = new ManualClock();
  const members = new Map<string, ParsedMembership>([
    ["@bob:local:BOB", membership(BOB, "BOB", "bobSession")],
  ]);
  const log: string[] = [];
  const invites: InboundInvite[] = [];
  const legs = new Map<string, CallSession>();
  let entered = true;
  let encrypted = false;
  const stubLeg = (callId: string): CallSession =>
    ({
      callId,
      remoteUserId: BOB,
      remoteDeviceId: "BOB",
      remotePartyId: "bobParty",
      inbound: {
        hangup: () => log.push("hangup"),
        candidates: (_p: unknown, c: { candidate: string }[]) => {
          log.push(...c.map((x) => x.candidate));
          return Promise.resolve();
        },
      },
    }) as unknown as CallSession;
  const inbound = new MeshInbound({
    client: { userId: "@alice:local", deviceId: "ALICE" } as MatrixClientPort,
    clock,
    logger: silentLogger,
    sessionId: OURS,
    roomId: ROOM,
    groupCallId: GROUP,
    holdMs: 5000,
    gapTimeoutMs: 2000,
    roomEncrypted: () => encrypted,
    membershipOf: (u, d) => members.get(`${u}:${d}`),
    entered: () => entered,
    leg: (callId) => legs.get(callId),
    onInvite: (inv) => {
      invites.push(inv);
      log.push("invite");
      legs.set(inv.content.call_id, stubLeg(inv.content.call_id));
      return Promise.resolve();
    },
    ...overrides,
  });
  return {
    clock,
    members,
    log,
    addLeg: (callId: string) => legs.set(callId, stubLeg(callId)),
    invites,
    inbound,
    setEntered: (v: boolean) => (entered = v),
    setEncrypted: (v: boolean) => (encrypted = v),
  };
}

describe("MeshInbound", () => {
  it("puts a sender's signalling in seq order and drops duplicates (G3)", async () => {
    const { inbound, log } = setup();
    await inbound.handle(candidates(2));
    await inbound.handle(candidates(1));
    expect(log).toEqual([]);
    await inbound.handle(invite(0));
    await inbound.handle(candidates(1));
    await inbound.handle(hangup(3));
    await inbound.handle(hangup(3));
    expect(log).toEqual(["invite", "candidate:1", "candidate:2", "hangup"]);
  });

  it("gives up on a lost seq after the gap timeout and goes on in order", async () => {
    const { inbound, log, clock } = setup();
    await inbound.handle(invite(0));
    await inbound.handle(candidates(2));
    await inbound.handle(hangup(3));
    expect(log).toEqual(["invite"]);
    await clock.advance(2000);
    expect(log).toEqual(["invite", "candidate:2", "hangup"]);
  });

  it("ignores a wrong dest_session_id, another call's room_id / conf_id, missing room_id, our own device (§5.1, §6.11)", async () => {
    const { inbound, log } = setup();
    await inbound.handle(invite(0, { dest_session_id: "someoneElse" }));
    await inbound.handle(invite(0, { dest_session_id: undefined }));
    await inbound.handle(invite(0, { conf_id: "other" }));
    await inbound.handle(invite(0, { room_id: "!other:local" }));
    await inbound.handle(invite(0, { room_id: undefined }));
    await inbound.handle(invite(0, { conf_id: undefined }));
    await inbound.handle({
      ...invite(0, { device_id: "ALICE" }),
      sender: "@alice:local",
      senderDevice: "ALICE",
    });
    expect(log).toEqual([]);
  });

  it("takes signalling only from a current member, with the session of its membership (G5)", async () => {
    const { inbound, log, clock } = setup();
    await inbound.handle({ ...invite(0), sender: "@mallory:local" });
    await inbound.handle(invite(0, { sender_session_id: "staleSession" }));
    await clock.advance(5000);
    expect(log).toEqual([]);
    await inbound.handle(invite(0));
    expect(log).toEqual(["invite"]);
  });

  it("drops a device_id that differs from the Olm sender, and plaintext in an encrypted room (G5)", async () => {
    const { inbound, log, setEncrypted } = setup();
    await inbound.handle(invite(0, { device_id: "OTHER" }));
    setEncrypted(true);
    await inbound.handle(invite(0, { call_id: "c2" }));
    expect(log).toEqual(["invite"]);
    await inbound.handle(
      event(
        "invite",
        { seq: 0, call_id: "c3", offer: OFFER, lifetime: 1, device_id: "BOB" },
        { encrypted: false },
      ),
    );
    expect(log).toEqual(["invite"]);
  });

  it("holds signalling from a device not yet a member until its membership appears (G6)", async () => {
    const { inbound, log, members, clock } = setup();
    members.clear();
    await inbound.handle(invite(0));
    await inbound.handle(candidates(1));
    expect(inbound.heldCount).toBe(2);
    await clock.advance(4000);
    members.set("@bob:local:BOB", membership(BOB, "BOB", "bobSession"));
    await inbound.membershipsChanged();
    expect(log).toEqual(["invite", "candidate:1"]);
    expect(inbound.heldCount).toBe(0);
  });

  it("drops held signalling once the hold time is over", async () => {
    const { inbound, log, members, clock } = setup();
    members.clear();
    await inbound.handle(invite(0));
    await clock.advance(5000);
    expect(inbound.heldCount).toBe(0);
    members.set("@bob:local:BOB", membership(BOB, "BOB", "bobSession"));
    await inbound.membershipsChanged();
    expect(log).toEqual([]);
  });

  it("holds an invite that arrives just before we enter (G6)", async () => {
    const { inbound, log, setEntered } = setup();
    setEntered(false);
    await inbound.handle(invite(0));
    expect(log).toEqual([]);
    setEntered(true);
    await inbound.membershipsChanged();
    expect(log).toEqual(["invite"]);
  });

  it("plaintext reference peers: later events without device_id take the leg's device", async () => {
    const { inbound, log } = setup();
    const plain = (e: ToDeviceEvent): ToDeviceEvent => ({
      type: e.type,
      sender: e.sender,
      content: e.content,
      encrypted: false,
    });
    await inbound.handle(plain(candidates(1)));
    await inbound.handle(plain(invite(0)));
    await inbound.handle(plain(hangup(2)));
    expect(log).toEqual(["invite", "candidate:1", "hangup"]);
  });

  it("handles each leg's signalling on its own queue: an invite being answered holds up only its own leg", async () => {
    let release = (): void => undefined;
    const { inbound, log, members, addLeg } = setup({
      onInvite: (inv) => {
        log.push(`invite ${inv.sender}`);
        addLeg(inv.content.call_id);
        if (inv.sender !== BOB) {
          return Promise.resolve();
        }
        return new Promise((resolve) => {
          release = resolve; // Bob's invite is still being answered …
        });
      },
    });
    members.set("@carol:local:CAROL", membership("@carol:local", "CAROL", "carolSession"));
    const carol = (e: ToDeviceEvent): ToDeviceEvent => ({
      ...e,
      sender: "@carol:local",
      senderDevice: "CAROL",
      content: { ...e.content, call_id: "c2", device_id: "CAROL", sender_session_id: "carolSession" },
    });
    const bobInvite = inbound.handle(invite(0));
    const bobHangup = inbound.handle(hangup(1));
    await inbound.handle(carol(invite(0))); // … while Carol's goes through
    expect(log).toEqual([`invite ${BOB}`, "invite @carol:local"]);
    release();
    await Promise.all([bobInvite, bobHangup]);
    expect(log).toEqual([`invite ${BOB}`, "invite @carol:local", "hangup"]); // Bob's hangup waited for his invite
  });

  it("dispose clears its timers", async () => {
    const { inbound, members, clock } = setup();
    members.clear();
    await inbound.handle(invite(0));
    await inbound.handle(candidates(2));
    expect(clock.pendingTimers()).toBeGreaterThan(0);
    inbound.dispose();
    expect(clock.pendingTimers()).toBe(0);
  });
});
