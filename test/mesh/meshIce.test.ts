// Mesh legs whose network path breaks (real @roamhq/wrtc ICE through a UDP relay that a test can cut, see
// test/helpers/udpLink.ts). The library's timers run on a ManualClock that the tests advance in small steps while
// they wait for events; nothing asserts on real time.
import { describe, expect, it } from "vitest";
import { CallDirection, CallErrorCode, CallState, type CallSession } from "../../src/index.js";
import { LEG_REPLACE_POLICY } from "../../src/backend/mesh/MeshRuntime.js";
import { LocalHomeserver, ManualClock } from "../../src/testing/index.js";
import { deferredCleanup, recordStates, until } from "../helpers/calls.js";
import { legTo, meshWorld, pairsOf, type MeshMember, type MeshWorld } from "../helpers/mesh.js";
import { UdpLink, type LinkedConnection } from "../helpers/udpLink.js";

const defer = deferredCleanup();

/** Steps the clock by `stepMs` (letting real I/O run between steps) until `predicate` holds. */
async function pumpUntil(
  clock: ManualClock,
  predicate: () => boolean,
  what: string,
  { stepMs = 50, timeoutMs = 30_000 }: { stepMs?: number; timeoutMs?: number } = {},
): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await clock.advance(stepMs);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface IceWorld {
  w: MeshWorld;
  clock: ManualClock;
  link: UdpLink;
  members: MeshMember[];
}

/** `count` members (and their homeserver) on one manual clock, entered and fully connected; u0 and u1 talk through `link`. */
async function linkedMesh(count: number): Promise<IceWorld> {
  const clock = new ManualClock();
  const userIds = Array.from({ length: count }, (_, i) => `@u${i}:local`);
  const w = await meshWorld(userIds, { hs: new LocalHomeserver({ clock }) });
  const link = new UdpLink();
  defer(async () => {
    await w.close();
    await link.close();
  });
  const members = await Promise.all(userIds.map((id) => w.add(id, "DEVICE", { clock })));
  link.attach(members[0]!.delegate);
  link.attach(members[1]!.delegate);
  await Promise.all(members.map((m) => m.group.enter()));
  await pumpUntil(
    clock,
    () => members.every((x) => members.every((y) => x === y || legTo(x, y) !== undefined)),
    `a full mesh of ${count}`,
  );
  return { w, clock, link, members };
}

async function audioBytesReceived(leg: CallSession): Promise<number> {
  return (await leg.getStats()).audio.bytesReceived;
}

/** Waits (real time, clock standing) until every leg has received `atLeast` more audio bytes than now. */
async function untilAudioGrows(legs: readonly CallSession[], what: string, atLeast = 1_000): Promise<void> {
  const start = await Promise.all(legs.map(audioBytesReceived));
  let now = start;
  const grown = () => now.every((bytes, i) => bytes >= (start[i] ?? 0) + atLeast);
  for (let i = 0; i < 150 && !grown(); i++) {
    await new Promise((r) => setTimeout(r, 100));
    now = await Promise.all(legs.map(audioBytesReceived));
  }
  expect(
    now.map((bytes, i) => bytes - (start[i] ?? 0)).every((d) => d >= atLeast),
    `${what}: ${JSON.stringify({ start, now })}`,
  ).toBe(true);
}

/** The group events that change legs or participants, as `kind:remoteUser`. */
function recordLegEvents(member: MeshMember): string[] {
  const events: string[] = [];
  member.group.on("callAdded", (call) => events.push(`callAdded:${call.remoteUserId ?? ""}`));
  member.group.on("callRemoved", (call) => events.push(`callRemoved:${call.remoteUserId ?? ""}`));
  member.group.on("callReplaced", (existing) => events.push(`callReplaced:${existing.remoteUserId ?? ""}`));
  member.group.on("participantsJoined", (ps) => events.push(...ps.map((p) => `joined:${p.userId}`)));
  member.group.on("participantsLeft", (ps) => events.push(...ps.map((p) => `left:${p.userId}`)));
  return events;
}

/** The two peer connections of the linked leg (the others never saw a relayed candidate). */
function linkedPair(link: UdpLink): LinkedConnection[] {
  return link.connections.filter((c) => c.relayed);
}

/** To-device signalling types sent between `a` and `b` since `from` (an index into the transcript). */
function signallingBetween(w: MeshWorld, a: MeshMember, b: MeshMember, from: number): string[] {
  return w.hs
    .transcript()
    .slice(from)
    .filter(
      (e) =>
        e.kind === "toDevice" &&
        ((e.sender === a.userId && e.recipients?.some((r) => r.userId === b.userId) === true) ||
          (e.sender === b.userId && e.recipients?.some((r) => r.userId === a.userId) === true)),
    )
    .map((e) => e.type.replace("com.famedly.call.member.", ""));
}

describe("mesh: a leg whose network breaks", () => {
  it("restarts ICE over to-device and carries audio again; the leg, the other legs and the participants stay", async () => {
    const { w, clock, link, members } = await linkedMesh(3);
    const [a, b, c] = members as [MeshMember, MeshMember, MeshMember];
    const ab = legTo(a, b)!;
    const ba = legTo(b, a)!;
    await untilAudioGrows([ab, ba], "a and b hear each other through the link");
    const pair = linkedPair(link);
    expect(pair).toHaveLength(2);
    expect(link.packets.relayed).toBeGreaterThan(0);
    const states = [recordStates(ab), recordStates(ba)];
    const events = members.map(recordLegEvents);
    const mark = w.hs.transcript().length;

    // The path a–b runs on dies (as when a network goes away); paths found by a new ICE generation work.
    link.cut();
    await pumpUntil(
      clock,
      // One side notices first; its restart may reach the other before that one notices too.
      () => pair.some((p) => p.iceStates.includes("disconnected") || p.iceStates.includes("failed")),
      "ICE of the a–b leg to notice the broken path",
    );
    expect(link.packets.dropped).toBeGreaterThan(0);
    await pumpUntil(
      clock,
      () =>
        pair.every((p) => ["connected", "completed"].includes(p.pc.iceConnectionState)) &&
        signallingBetween(w, a, b, mark).includes("negotiate"),
      "the a–b leg to reconnect after an ICE restart",
    );
    await untilAudioGrows([ab, ba], "audio a ↔ b after the restart");

    // The restart went over to-device between a and b only (offer and answer as negotiate, fresh candidates).
    const restart = signallingBetween(w, a, b, mark);
    expect(restart.filter((t) => t === "negotiate").length).toBeGreaterThanOrEqual(2);
    expect(restart).toContain("candidates");
    expect(restart).not.toContain("hangup");
    expect(restart).not.toContain("invite");
    expect(signallingBetween(w, a, c, mark)).toEqual([]);
    expect(signallingBetween(w, b, c, mark)).toEqual([]);
    // What the users see: the same legs, connected throughout; no leg or participant came or went.
    expect(legTo(a, b)).toBe(ab);
    expect(legTo(b, a)).toBe(ba);
    expect(states).toEqual([[], []]);
    expect(events).toEqual([[], [], []]);
    for (const m of members) {
      expect(m.group.calls).toHaveLength(2);
      expect(m.group.participants).toHaveLength(3);
    }
    for (const [x, y] of pairsOf([a, c, b])) {
      expect(legTo(x, y)?.state).toBe(CallState.Connected);
    }
    await untilAudioGrows(
      [legTo(a, c)!, legTo(c, a)!, legTo(b, c)!, legTo(c, b)!],
      "the other legs carry audio",
    );
  }, 60_000);

  it("gives up ICE after its restarts (ice_failed); the caller (G2) places a new leg that carries audio both ways", async () => {
    const { w, clock, link, members } = await linkedMesh(3);
    const [a, b, c] = members as [MeshMember, MeshMember, MeshMember];
    const ab = legTo(a, b)!;
    const ba = legTo(b, a)!;
    const [oldA, oldB] = linkedPair(link) as [LinkedConnection, LinkedConnection];
    const states = [recordStates(ab), recordStates(ba)];
    const events = members.map(recordLegEvents);
    const mark = w.hs.transcript().length;
    let endedAt = 0;
    let placedAt = 0;
    ab.on("ended", () => (endedAt = clock.now()));
    a.group.on("callAdded", () => (placedAt = clock.now()));

    // No path between a and b at all: every restart fails too.
    link.down();
    await pumpUntil(
      clock,
      () => ab.state === CallState.Ended && ba.state === CallState.Ended,
      "the a–b leg to end",
      {
        stepMs: 100,
      },
    );
    expect(ab.hangupReason).toBe(CallErrorCode.IceFailed);
    expect(ba.hangupReason).toBe(CallErrorCode.IceFailed);
    // The side that gave up ends through `ending`; the other, told by its hangup, ends at once (or gave up too).
    for (const seq of states) {
      expect([[CallState.Ending, CallState.Ended], [CallState.Ended]]).toContainEqual(seq);
    }
    expect(states.flat().filter((x) => x === CallState.Ending).length).toBeGreaterThanOrEqual(1);
    const failed = signallingBetween(w, a, b, mark);
    expect(failed.filter((t) => t === "negotiate").length).toBeGreaterThanOrEqual(2); // restarts were tried
    expect(failed.at(-1)).toBe("hangup");
    expect(failed).not.toContain("invite");
    // The old leg's peer connections are closed; a and b are still in the call, with c.
    expect([oldA.pc.signalingState, oldB.pc.signalingState]).toEqual(["closed", "closed"]);
    for (const m of members) {
      expect(m.group.participants).toHaveLength(3);
    }

    // The network comes back; a (the smaller id) places the leg again after the retry delay.
    link.up();
    await pumpUntil(
      clock,
      () => legTo(a, b) !== undefined && legTo(b, a) !== undefined,
      "a new a–b leg to connect",
    );
    const ab2 = legTo(a, b)!;
    const ba2 = legTo(b, a)!;
    expect(ab2).not.toBe(ab);
    expect(ba2).not.toBe(ba);
    expect(ab2.direction).toBe(CallDirection.Outgoing);
    expect(ba2.direction).toBe(CallDirection.Incoming);
    expect(ab2.remoteSessionId).toBe(b.voip.sessionId);
    expect(signallingBetween(w, a, b, mark).filter((t) => t === "invite")).toHaveLength(1);
    // The first failure in a row waits the shared retry backoff: jittered into [base/2, base).
    expect(placedAt - endedAt).toBeGreaterThanOrEqual(LEG_REPLACE_POLICY.baseDelayMs / 2);
    expect(placedAt - endedAt).toBeLessThan(LEG_REPLACE_POLICY.baseDelayMs);
    await untilAudioGrows([ab2, ba2], "audio a ↔ b on the new leg");

    // Each side saw its old leg removed and the new one added; c saw nothing; nobody left.
    expect(events).toEqual([
      ["callRemoved:@u1:local", "callAdded:@u1:local"],
      ["callRemoved:@u0:local", "callAdded:@u0:local"],
      [],
    ]);
    for (const m of members) {
      expect(m.group.calls).toHaveLength(2);
      expect(m.voip.calls.size).toBe(2);
      expect(m.group.participants).toHaveLength(3);
    }
    expect(legTo(a, c)?.state).toBe(CallState.Connected);
    expect(legTo(b, c)?.state).toBe(CallState.Connected);
    // Nothing leaks: once everyone has left, every peer connection is closed and no timer is left.
    await Promise.all(members.map((m) => m.group.leave()));
    await Promise.all(members.map((m) => m.voip.dispose()));
    expect(link.connections.map((x) => x.pc.signalingState).every((s) => s === "closed")).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
  }, 90_000);

  it("a member that leaves while its leg is failed gets no new leg", async () => {
    const { w, clock, link, members } = await linkedMesh(2);
    const [a, b] = members as [MeshMember, MeshMember];
    const ab = legTo(a, b)!;
    link.down();
    await pumpUntil(clock, () => ab.state === CallState.Ended, "the a–b leg to give up", { stepMs: 100 });
    expect(ab.hangupReason).toBe(CallErrorCode.IceFailed);
    // a's new leg waits for the retry delay, which the clock has not reached; b leaves meanwhile.
    expect(a.group.calls).toEqual([]);
    const mark = w.hs.transcript().length;
    await b.group.leave();
    await until(() => a.group.participants.length === 1, "a sees b leave");
    link.up();
    // A re-placement would create its leg inside the timer, so this would see it.
    await clock.advance(60_000);
    expect(a.group.calls).toEqual([]);
    expect(a.voip.calls.size).toBe(0);
    expect(signallingBetween(w, a, b, mark)).toEqual([]);
  }, 60_000);
});
