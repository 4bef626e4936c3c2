import { describe, expect, it } from "vitest";
import type { RoomEvent } from "../matrix/MatrixClientPort.js";
import { filterCallBatch } from "./batchFilter.js";

const NOW = 1_700_000_000_000;
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

describe("filterCallBatch", () => {
  it("drops invite, candidates, negotiate and metadata of a call hung up in the same batch", () => {
    const events = [
      ev("m.call.invite", "c1", {}, { lifetime: 60000 }),
      ev("m.call.candidates", "c1"),
      ev("m.call.negotiate", "c1"),
      ev("org.matrix.call.sdp_stream_metadata_changed", "c1"),
      ev("m.call.hangup", "c1"),
      ev("m.call.invite", "c2", {}, { lifetime: 60000 }),
    ];
    const { kept, dropped } = filterCallBatch(events, NOW, 60000);
    expect(kept.map((e) => [e.type, e.content.call_id])).toEqual([
      ["m.call.hangup", "c1"],
      ["m.call.invite", "c2"],
    ]);
    expect(dropped.every((d) => d.why === "ended_in_batch")).toBe(true);
    expect(dropped).toHaveLength(4);
  });

  it("drops only the invite of a call answered in the same batch, keeping its candidates", () => {
    const events = [
      ev("m.call.invite", "c1", {}, { lifetime: 60000 }),
      ev("m.call.candidates", "c1"),
      ev("m.call.answer", "c1"),
    ];
    const { kept, dropped } = filterCallBatch(events, NOW, 60000);
    expect(kept.map((e) => e.type)).toEqual(["m.call.candidates", "m.call.answer"]);
    expect(dropped.map((d) => d.why)).toEqual(["answered_in_batch"]);
  });

  it("drops an expired invite only, not the rest of the batch (PROTOCOL D4)", () => {
    const events = [
      ev("m.call.invite", "old", { unsigned: { age: 60001 } }, { lifetime: 60000 }),
      ev("m.call.invite", "fresh", { unsigned: { age: 10 } }, { lifetime: 60000 }),
      ev("m.call.hangup", "other"),
    ];
    const { kept, dropped } = filterCallBatch(events, NOW, 60000);
    expect(kept.map((e) => e.content.call_id)).toEqual(["fresh", "other"]);
    expect(dropped).toEqual([{ event: events[0], why: "invite_expired" }]);
  });

  it("falls back to origin_server_ts without unsigned.age, and to the default lifetime without lifetime", () => {
    const old = ev("m.call.invite", "old", { originServerTs: NOW - 61_000 });
    const fresh = ev("m.call.invite", "fresh", { originServerTs: NOW - 1_000 });
    const { kept } = filterCallBatch([old, fresh], NOW, 60000);
    expect(kept).toEqual([fresh]);
  });
});

describe("filterCallBatch with content that is not an object", () => {
  it("keeps going: such events pass through to the parse step, which drops them", () => {
    const bad = { ...ev("m.call.hangup", "x"), content: null as unknown as Record<string, unknown> };
    const invite = { ...ev("m.call.invite", "y"), content: "invite" as unknown as Record<string, unknown> };
    const { kept } = filterCallBatch([bad, invite], NOW, 60000);
    expect(kept).toEqual([bad, invite]);
  });
});
