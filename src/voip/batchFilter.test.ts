import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/Logger.js";
import { CallDirection } from "../call/types.js";
import type { RoomEvent } from "../matrix/MatrixClientPort.js";
import { CallEventType, normalizeCallEventType } from "../matrix/eventTypes.js";
import { filterCallBatch, type BatchItem } from "./batchFilter.js";
import type { CallBinding } from "./senderCheck.js";
import { validateCallEvents } from "./validateBatch.js";

const NOW = 1_700_000_000_000;
const SDP = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const ME = { userId: "@alice:local", sessionId: "ALICE-PARTY" };
let n = 0;

function ev(
  type: string,
  callId: string,
  extra: Partial<RoomEvent> = {},
  content: Record<string, unknown> = {},
): RoomEvent {
  return {
    eventId: `$e${++n}`,
    roomId: "!r:local",
    type,
    sender: "@bob:local",
    content: { call_id: callId, party_id: "P", version: "1", ...content },
    originServerTs: NOW,
    ...extra,
  };
}

/** A validated item, as `validateCallEvents` hands it to the filter. */
function item(event: RoomEvent): BatchItem {
  const lifetime = event.content.lifetime;
  return {
    event,
    type: normalizeCallEventType(event.type) ?? CallEventType.Hangup,
    callId: String(event.content.call_id),
    lifetime: typeof lifetime === "number" ? lifetime : undefined,
  };
}

const callIds = (items: readonly BatchItem[]): [string, string][] => items.map((i) => [i.type, i.callId]);

describe("filterCallBatch (pure, on validated events)", () => {
  it("drops invite, candidates, negotiate and metadata of a call hung up in the same batch", () => {
    const events = [
      ev("m.call.invite", "c1", {}, { lifetime: 60000 }),
      ev("m.call.candidates", "c1"),
      ev("m.call.negotiate", "c1"),
      ev("org.matrix.call.sdp_stream_metadata_changed", "c1"),
      ev("m.call.hangup", "c1"),
      ev("m.call.invite", "c2", {}, { lifetime: 60000 }),
    ].map(item);
    const { kept, dropped } = filterCallBatch(events, NOW, 60000);
    expect(callIds(kept)).toEqual([
      ["m.call.hangup", "c1"],
      ["m.call.invite", "c2"],
    ]);
    expect(dropped.map((d) => [d.item.type, d.why])).toEqual([
      ["m.call.invite", "ended_in_batch"],
      ["m.call.candidates", "ended_in_batch"],
      ["m.call.negotiate", "ended_in_batch"],
      ["m.call.sdp_stream_metadata_changed", "ended_in_batch"],
    ]);
  });

  it("a reject or replaces ends the call in the batch too", () => {
    for (const ending of ["m.call.reject", "m.call.replaces"]) {
      const events = [ev("m.call.invite", "c1", {}, { lifetime: 60000 }), ev(ending, "c1")].map(item);
      expect(filterCallBatch(events, NOW, 60000).kept.map((i) => i.type)).toEqual([ending]);
    }
  });

  it("drops only the invite of a call answered in the same batch, keeping its candidates", () => {
    const events = [
      ev("m.call.invite", "c1", {}, { lifetime: 60000 }),
      ev("m.call.candidates", "c1"),
      ev("m.call.answer", "c1"),
    ].map(item);
    const { kept, dropped } = filterCallBatch(events, NOW, 60000);
    expect(kept.map((e) => e.type)).toEqual(["m.call.candidates", "m.call.answer"]);
    expect(dropped.map((d) => d.why)).toEqual(["answered_in_batch"]);
  });

  it("drops an expired invite only, not the rest of the batch (PROTOCOL D4)", () => {
    const events = [
      ev("m.call.invite", "old", { unsigned: { age: 60001 } }, { lifetime: 60000 }),
      ev("m.call.invite", "fresh", { unsigned: { age: 10 } }, { lifetime: 60000 }),
      ev("m.call.hangup", "other"),
    ].map(item);
    const { kept, dropped } = filterCallBatch(events, NOW, 60000);
    expect(kept.map((e) => e.callId)).toEqual(["fresh", "other"]);
    expect(dropped).toEqual([{ item: events[0], why: "invite_expired" }]);
  });

  it("falls back to origin_server_ts without unsigned.age, and to the default lifetime without lifetime", () => {
    const old = item(ev("m.call.invite", "old", { originServerTs: NOW - 61_000 }));
    const fresh = item(ev("m.call.invite", "fresh", { originServerTs: NOW - 1_000 }));
    const { kept } = filterCallBatch([old, fresh], NOW, 60000);
    expect(kept).toEqual([fresh]);
  });
});

describe("validateCallEvents, then filterCallBatch: bad events never drop a valid one", () => {
  const invite = (): RoomEvent =>
    ev(
      "m.call.invite",
      "c1",
      {},
      { lifetime: 60000, offer: { type: "offer", sdp: SDP }, invitee: ME.userId },
    );
  const noLiveCall = (): undefined => undefined;
  const run = (
    events: RoomEvent[],
    live: (roomId: string, callId: string) => CallBinding | undefined = noLiveCall,
  ) => filterCallBatch(validateCallEvents(events, ME, live, silentLogger), NOW, 60000);

  it("a third party's hangup with the invite's call_id is dropped before the filter: the invite stays", () => {
    const forged = ev("m.call.hangup", "c1", { sender: "@mallory:local" }, { reason: "user_hangup" });
    const { kept, dropped } = run([invite(), forged]);
    expect(callIds(kept)).toEqual([["m.call.invite", "c1"]]);
    expect(dropped).toEqual([]);
  });

  it("a hangup from the inviter's other party (another device) does not drop the invite either", () => {
    const otherParty = ev("m.call.hangup", "c1", {}, { party_id: "OTHER", reason: "user_hangup" });
    expect(callIds(run([invite(), otherParty]).kept)).toEqual([["m.call.invite", "c1"]]);
  });

  it("malformed hangups (missing version, wrong-typed reason, party_id or call_id, not an object) are dropped", () => {
    const malformed = [
      { ...ev("m.call.hangup", "c1"), content: { call_id: "c1", party_id: "P" } },
      ev("m.call.hangup", "c1", {}, { reason: 7 }),
      ev("m.call.hangup", "c1", {}, { party_id: 5 }),
      { ...ev("m.call.hangup", "c1"), content: null as unknown as Record<string, unknown> },
      { ...ev("m.call.hangup", "c1"), content: ["c1"] as unknown as Record<string, unknown> },
      ev("m.call.reject", "c1", {}, { version: { v: 1 } }),
    ];
    const { kept } = run([invite(), ...malformed]);
    expect(callIds(kept)).toEqual([["m.call.invite", "c1"]]);
  });

  it("a valid hangup from the inviter's party still drops the invite (reference §5.1)", () => {
    const { kept, dropped } = run([invite(), ev("m.call.hangup", "c1", {}, { reason: "user_hangup" })]);
    expect(callIds(kept)).toEqual([["m.call.hangup", "c1"]]);
    expect(dropped.map((d) => [d.item.type, d.why])).toEqual([["m.call.invite", "ended_in_batch"]]);
  });

  it("an answer counts only from another device of ours; a third party's answer leaves the invite ringing", () => {
    const answer = { answer: { type: "answer", sdp: SDP } };
    const mallory = ev("m.call.answer", "c1", { sender: "@mallory:local" }, answer);
    expect(callIds(run([invite(), mallory]).kept)).toEqual([["m.call.invite", "c1"]]);
    const ours = ev("m.call.answer", "c1", { sender: ME.userId }, { ...answer, party_id: "OUR-OTHER" });
    const { kept, dropped } = run([invite(), ours]);
    expect(callIds(kept)).toEqual([["m.call.answer", "c1"]]);
    expect(dropped.map((d) => d.why)).toEqual(["answered_in_batch"]);
  });

  it("checks events of a live call against its bound peer, and drops our own echoes", () => {
    const live = (_roomId: string, callId: string): CallBinding | undefined =>
      callId === "live"
        ? { direction: CallDirection.Outgoing, remoteUserId: "@bob:local", remotePartyId: "P" }
        : undefined;
    const events = [
      ev("m.call.candidates", "live", {}, { candidates: [] }),
      ev("m.call.candidates", "live", { sender: "@mallory:local" }, { candidates: [] }),
      ev("m.call.hangup", "live", { sender: ME.userId }, { party_id: ME.sessionId }),
      ev("m.call.hangup", "unknown"),
    ];
    const { kept } = run(events, live);
    expect(kept.map((i) => i.event)).toEqual([events[0]]);
  });
});
