import { describe, expect, it } from "vitest";
import { wireExample, wireExamples } from "../../test/helpers/wireExamples.js";
import type { LogContext, Logger } from "../core/Logger.js";
import { CallEventType } from "./eventTypes.js";
import { parseContent, type ParseResult } from "./parse.js";

interface Line {
  level: string;
  message: string;
  context?: LogContext;
}

function captureLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const logger: Logger = {
    debug: (message, context) => lines.push({ level: "debug", message, ...(context ? { context } : {}) }),
    info: (message, context) => lines.push({ level: "info", message, ...(context ? { context } : {}) }),
    warn: (message, context) => lines.push({ level: "warn", message, ...(context ? { context } : {}) }),
    error: (message, context) => lines.push({ level: "error", message, ...(context ? { context } : {}) }),
    child: () => logger,
  };
  return { logger, lines };
}

const SDP = (wireExample("invite (ours)").content.offer as { sdp: string }).sdp;
const KEY = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=";

/** Parses, expects a failure on `field`, and checks the one debug line names it without leaking SDP or keys. */
function expectDropped(type: string, content: unknown, field: string, transport?: "room" | "toDevice"): void {
  const { logger, lines } = captureLogger();
  const result = parseContent(type, content, logger, transport === undefined ? {} : { transport });
  expect(result).toMatchObject({ ok: false, field });
  expect(lines).toHaveLength(1);
  const line = lines[0]!;
  expect(line.level).toBe("debug");
  expect(line.message).toContain(`dropped ${type}: ${field}: `);
  const logged = JSON.stringify(line);
  expect(logged).not.toContain("v=0");
  expect(logged).not.toContain("a=msid");
  expect(logged).not.toContain(KEY);
}

type Mutation = [what: string, mutate: (c: Record<string, unknown>) => void, field: string];

const common: Mutation[] = [
  ["call_id missing", (c) => delete c.call_id, "call_id"],
  ["call_id empty", (c) => (c.call_id = ""), "call_id"],
  ["call_id a number", (c) => (c.call_id = 42), "call_id"],
  ["version missing", (c) => delete c.version, "version"],
  ["version a boolean", (c) => (c.version = true), "version"],
  ["party_id a number", (c) => (c.party_id = 7), "party_id"],
];

const stream = (c: Record<string, unknown>): Record<string, unknown> =>
  (c["org.matrix.msc3077.sdp_stream_metadata"] as Record<string, Record<string, unknown>>)["stream-A"]!;

const perType: Record<CallEventType, { base: string; cases: Mutation[] }> = {
  [CallEventType.Invite]: {
    base: "invite (ours)",
    cases: [
      ["lifetime missing", (c) => delete c.lifetime, "lifetime"],
      ["lifetime a string", (c) => (c.lifetime = "60000"), "lifetime"],
      ["offer missing", (c) => delete c.offer, "offer"],
      ["offer.sdp a number", (c) => ((c.offer as Record<string, unknown>).sdp = 1), "offer.sdp"],
      ["offer.sdp missing", (c) => delete (c.offer as Record<string, unknown>).sdp, "offer.sdp"],
      ["offer.type answer", (c) => ((c.offer as Record<string, unknown>).type = "answer"), "offer.type"],
      ["invitee a number", (c) => (c.invitee = 1), "invitee"],
      ["invitee_device_id an object", (c) => (c.invitee_device_id = {}), "invitee_device_id"],
      [
        "capability not boolean",
        (c) => ((c.capabilities as Record<string, unknown>)["m.call.dtmf"] = "yes"),
        "capabilities.m.call.dtmf",
      ],
      [
        "metadata purpose missing",
        (c) => delete stream(c).purpose,
        "org.matrix.msc3077.sdp_stream_metadata.stream-A.purpose",
      ],
      [
        "metadata audio_muted a string",
        (c) => (stream(c).audio_muted = "no"),
        "org.matrix.msc3077.sdp_stream_metadata.stream-A.audio_muted",
      ],
      ["stable metadata not an object", (c) => (c.sdp_stream_metadata = "x"), "sdp_stream_metadata"],
    ],
  },
  [CallEventType.Answer]: {
    base: "answer (reference)",
    cases: [
      ["answer missing", (c) => delete c.answer, "answer"],
      ["answer.sdp missing", (c) => delete (c.answer as Record<string, unknown>).sdp, "answer.sdp"],
      ["answer.type offer", (c) => ((c.answer as Record<string, unknown>).type = "offer"), "answer.type"],
    ],
  },
  [CallEventType.Candidates]: {
    base: "candidates",
    cases: [
      ["candidates missing", (c) => delete c.candidates, "candidates"],
      ["candidates not an array", (c) => (c.candidates = "candidate:1"), "candidates"],
      [
        "candidate a number",
        (c) => ((c.candidates as Record<string, unknown>[])[0]!.candidate = 1),
        "candidates.0.candidate",
      ],
      [
        "sdpMLineIndex a string",
        (c) => ((c.candidates as Record<string, unknown>[])[0]!.sdpMLineIndex = "0"),
        "candidates.0.sdpMLineIndex",
      ],
      [
        "sdpMid a number",
        (c) => ((c.candidates as Record<string, unknown>[])[0]!.sdpMid = 0),
        "candidates.0.sdpMid",
      ],
    ],
  },
  [CallEventType.SelectAnswer]: {
    base: "select_answer",
    cases: [
      ["selected_party_id missing", (c) => delete c.selected_party_id, "selected_party_id"],
      ["selected_party_id a number", (c) => (c.selected_party_id = 3), "selected_party_id"],
    ],
  },
  [CallEventType.Reject]: { base: "reject", cases: [["reason a number", (c) => (c.reason = 3), "reason"]] },
  [CallEventType.Negotiate]: {
    base: "negotiate offer",
    cases: [
      ["description missing", (c) => delete c.description, "description"],
      [
        "description.type pranswer",
        (c) => ((c.description as Record<string, unknown>).type = "pranswer"),
        "description.type",
      ],
      [
        "description.sdp null",
        (c) => ((c.description as Record<string, unknown>).sdp = null),
        "description.sdp",
      ],
      ["lifetime a string", (c) => (c.lifetime = "10s"), "lifetime"],
    ],
  },
  [CallEventType.Hangup]: {
    base: "hangup (ours)",
    cases: [["reason a number", (c) => (c.reason = 1), "reason"]],
  },
  [CallEventType.SdpStreamMetadataChanged]: {
    base: "metadata changed (ours)",
    cases: [
      [
        "both metadata keys missing",
        (c) => {
          delete c.sdp_stream_metadata;
          delete c["org.matrix.msc3077.sdp_stream_metadata"];
        },
        "sdp_stream_metadata",
      ],
      [
        "video_muted a number",
        (c) => (stream(c).video_muted = 1),
        "org.matrix.msc3077.sdp_stream_metadata.stream-A.video_muted",
      ],
    ],
  },
  [CallEventType.Replaces]: {
    base: "replaces",
    cases: [
      ["replacement_id a number", (c) => (c.replacement_id = 1), "replacement_id"],
      ["target_user a string", (c) => (c.target_user = "@carol:example.org"), "target_user"],
      [
        "target_user.id a number",
        (c) => ((c.target_user as Record<string, unknown>).id = 1),
        "target_user.id",
      ],
    ],
  },
  [CallEventType.AssertedIdentity]: {
    base: "asserted identity",
    cases: [
      ["asserted_identity missing", (c) => delete c.asserted_identity, "asserted_identity"],
      [
        "display_name a number",
        (c) => ((c.asserted_identity as Record<string, unknown>).display_name = 5),
        "asserted_identity.display_name",
      ],
    ],
  },
};

describe("parseContent: every wire example", () => {
  it.each(wireExamples.map((e) => [e.name, e] as const))("parses %s", (_name, ex) => {
    const { logger, lines } = captureLogger();
    const result = parseContent(ex.type, ex.content, logger);
    expect(result.ok).toBe(true);
    expect(lines).toEqual([]);
    // Loose schemas: nothing of the example is lost (the fixtures spell out every default).
    if (result.ok && result.kind === "membership") {
      expect(result.content).toEqual({ memberships: ex.content.memberships, skipped: 0 });
    } else if (result.ok) {
      expect(result.content).toEqual(ex.content);
    }
  });

  it.each(wireExamples.filter((e) => e.transport === "toDevice").map((e) => [e.name, e] as const))(
    "reads %s as to-device with its mesh fields",
    (_name, ex) => {
      const result = parseContent(ex.type, ex.content, captureLogger().logger, { transport: "toDevice" });
      expect(result.ok).toBe(true);
      if (result.ok && result.kind === "signalling") {
        expect(result.transport).toBe("toDevice");
        expect(result.type).toBe(CallEventType.Invite);
        if (result.transport === "toDevice") {
          expect(result.dialect).toBe(ex.dialect);
          expect(result.mesh).toMatchObject({
            room_id: "!room:example.org",
            conf_id: "!room:example.org",
            seq: 0,
          });
        }
      }
    },
  );
});

describe("parseContent: bad 1:1 signalling is dropped with the field named", () => {
  for (const type of Object.values(CallEventType)) {
    const { base, cases } = perType[type];
    it.each([...common, ...cases].map(([what, mutate, field]) => [what, mutate, field] as const))(
      `${type}: %s`,
      (_what, mutate, field) => {
        const content = wireExample(base).content;
        mutate(content);
        expectDropped(type, content, field);
        // The same content over to-device (famedly-v2 type, with valid mesh fields) fails on the same field.
        const v2Type = `com.famedly.call.member.${type.slice("m.call.".length)}`;
        expectDropped(v2Type, { ...content, room_id: "!r:x", conf_id: "!r:x" }, field);
      },
    );
  }

  it.each([null, "m.call.invite", 42, [SDP]])("rejects content %j that is not an object", (content) => {
    expectDropped("m.call.invite", content, "content");
  });

  it("names unknown types as the failing field", () => {
    expectDropped("m.call.unknown", {}, "type");
    expectDropped("com.example.whatever", { call_id: "x" }, "type");
  });

  it("never throws, even when reading the content throws", () => {
    const evil: Record<string, unknown> = {};
    Object.defineProperty(evil, "call_id", {
      enumerable: true,
      get: () => {
        throw new Error("boom");
      },
    });
    const { logger, lines } = captureLogger();
    expect(parseContent("m.call.hangup", evil, logger)).toMatchObject({ ok: false, field: "content" });
    expect(lines.map((l) => l.level)).toEqual(["debug"]);
  });
});

describe("parseContent: accepted variations", () => {
  it("reads the aliases as their m.call type", () => {
    const metadata = parseContent(
      "org.matrix.call.sdp_stream_metadata_changed",
      wireExample("metadata changed (ours)").content,
      captureLogger().logger,
    );
    expect(metadata).toMatchObject({
      ok: true,
      kind: "signalling",
      type: CallEventType.SdpStreamMetadataChanged,
    });
    const identity = parseContent(
      "org.matrix.call.asserted_identity",
      wireExample("asserted identity").content,
      captureLogger().logger,
    );
    expect(identity).toMatchObject({ ok: true, type: CallEventType.AssertedIdentity, transport: "room" });
  });

  it("accepts version 0 peers without party_id, an end-of-candidates marker and null sdpMid", () => {
    const result = parseContent(
      "m.call.candidates",
      {
        call_id: "c1",
        version: 0,
        candidates: [{ candidate: "", sdpMid: null, sdpMLineIndex: null }, { candidate: "" }],
      },
      captureLogger().logger,
    );
    expect(result.ok).toBe(true);
  });

  it("fills absent mute flags with false and keeps unknown purposes and fields", () => {
    const content: Record<string, unknown> = {
      ...wireExample("metadata changed (ours)").content,
      extra: { x: 1 },
    };
    content.sdp_stream_metadata = { s1: { purpose: "m.future" } };
    const result = parseContent("m.call.sdp_stream_metadata_changed", content, captureLogger().logger);
    expect(result.ok && result.kind === "signalling" && result.content).toMatchObject({
      extra: { x: 1 },
      sdp_stream_metadata: { s1: { purpose: "m.future", audio_muted: false, video_muted: false } },
    });
  });

  it("reads the literal userHangup reason of the reference", () => {
    const result = parseContent(
      "m.call.hangup",
      wireExample("hangup (reference)").content,
      captureLogger().logger,
    );
    expect(result.ok && result.kind === "signalling" && result.content).toMatchObject({
      reason: "userHangup",
    });
  });

  it("reads a negotiate answer without capabilities and metadata", () => {
    const result = parseContent(
      "m.call.negotiate",
      wireExample("negotiate answer").content,
      captureLogger().logger,
    );
    expect(result).toMatchObject({ ok: true, content: { description: { type: "answer" } } });
  });
});

describe("parseContent: mesh signalling over to-device", () => {
  const mesh = (): Record<string, unknown> => wireExample("mesh invite (v2)").content;

  it("reports the dialect of each mesh type", () => {
    const v2 = parseContent(
      "com.famedly.call.member.hangup",
      { ...wireExample("hangup (ours)").content, room_id: "!r", conf_id: "c" },
      captureLogger().logger,
    );
    expect(v2).toMatchObject({
      ok: true,
      type: "m.call.hangup",
      transport: "toDevice",
      dialect: "famedly-v2",
    });
    const v1 = parseContent("m.call.invite", mesh(), captureLogger().logger, { transport: "toDevice" });
    expect(v1).toMatchObject({
      ok: true,
      type: "m.call.invite",
      transport: "toDevice",
      dialect: "famedly-v1",
    });
    const room = parseContent("m.call.invite", mesh(), captureLogger().logger);
    expect(room).toMatchObject({ ok: true, transport: "room" });
  });

  it.each<[string, (c: Record<string, unknown>) => void, string]>([
    ["room_id missing", (c) => delete c.room_id, "room_id"],
    ["room_id empty", (c) => (c.room_id = ""), "room_id"],
    ["conf_id missing", (c) => delete c.conf_id, "conf_id"],
    ["seq negative", (c) => (c.seq = -1), "seq"],
    ["seq fractional", (c) => (c.seq = 0.5), "seq"],
    ["dest_session_id a number", (c) => (c.dest_session_id = 1), "dest_session_id"],
    ["sender_session_id null", (c) => (c.sender_session_id = null), "sender_session_id"],
    ["device_id a number", (c) => (c.device_id = 1), "device_id"],
  ])("drops a mesh invite with %s, in both dialects", (_what, mutate, field) => {
    const content = mesh();
    mutate(content);
    expectDropped("com.famedly.call.member.invite", content, field);
    expectDropped("m.call.invite", content, field, "toDevice");
  });

  it("refuses a v2 mesh type delivered as a room event", () => {
    expectDropped("com.famedly.call.member.invite", mesh(), "type", "room");
  });
});

describe("parseContent: group-call events", () => {
  it("drops bad key events without logging the key", () => {
    const keys = (): Record<string, unknown> => wireExample("encryption keys (v2)").content;
    const firstKey = (c: Record<string, unknown>): Record<string, unknown> =>
      (c.keys as Record<string, unknown>[])[0]!;
    for (const type of ["com.famedly.call.member.encryption_keys", "com.famedly.call.encryption_keys"]) {
      let c = keys();
      firstKey(c).key = `${KEY}!`;
      expectDropped(type, c, "keys.0.key");
      c = keys();
      firstKey(c).index = -1;
      expectDropped(type, c, "keys.0.index");
      c = keys();
      firstKey(c).index = 1.5;
      expectDropped(type, c, "keys.0.index");
      c = keys();
      c.keys = firstKey(c);
      expectDropped(type, c, "keys");
      c = keys();
      delete c.device_id;
      expectDropped(type, c, "device_id");
      c = keys();
      delete c.room_id;
      expectDropped(type, c, "room_id");
    }
  });

  it("reads Element's key object and rejects the famedly array under its type", () => {
    const element = {
      keys: { index: 3, key: "AAECAwQFBgcICQoLDA0ODw==" },
      room_id: "!room:example.org",
      member: { claimed_device_id: "ABCDEF", id: "@alice:example.org:ABCDEF" },
      session: { call_id: "", application: "m.call", scope: "m.room" },
      sent_ts: 1700000000000,
    };
    expect(parseContent("io.element.call.encryption_keys", element, captureLogger().logger)).toMatchObject({
      ok: true,
      kind: "elementKeys",
      dialect: "element",
    });
    expectDropped("io.element.call.encryption_keys", { ...element, keys: [{ index: 0, key: KEY }] }, "keys");
    expectDropped("io.element.call.encryption_keys", { ...element, member: {} }, "member.claimed_device_id");
  });

  it("reports key dialects", () => {
    const parse = (name: string): ParseResult =>
      parseContent(wireExample(name).type, wireExample(name).content, captureLogger().logger);
    expect(parse("encryption keys (v1, seed README)")).toMatchObject({ kind: "keys", dialect: "famedly-v1" });
    expect(parse("encryption keys (v2)")).toMatchObject({ kind: "keys", dialect: "famedly-v2" });
    expect(parse("key request (v1, seed README)")).toMatchObject({
      kind: "keyRequest",
      dialect: "famedly-v1",
    });
    expect(parse("key request (v2)")).toMatchObject({ kind: "keyRequest", dialect: "famedly-v2" });
  });

  it("drops a key request without its routing fields", () => {
    const c = wireExample("key request (v2)").content;
    delete c.conf_id;
    expectDropped("com.famedly.call.member.encryption_keys_request", c, "conf_id");
  });

  it("drops reactions, redactions and notifications missing what routing needs", () => {
    const reaction = wireExample("reaction").content;
    delete reaction.is_ephemeral;
    expectDropped("com.famedly.call.member.reaction", reaction, "is_ephemeral");
    const relates = wireExample("reaction").content;
    delete (relates["m.relates_to"] as Record<string, unknown>).event_id;
    expectDropped("com.famedly.call.member.reaction", relates, "m.relates_to.event_id");
    const redaction = wireExample("reaction removal").content;
    delete redaction.device_id;
    expectDropped("m.room.redaction", redaction, "device_id");
    const notification = wireExample("ring notification").content;
    notification.notification_type = "shout";
    expectDropped("org.matrix.msc4075.rtc.notification", notification, "notification_type");
  });

  it("reads a pre-v11 redaction whose redacts is outside the content", () => {
    const content = wireExample("reaction removal").content;
    delete content.redacts;
    expect(parseContent("m.room.redaction", content, captureLogger().logger)).toMatchObject({
      ok: true,
      kind: "redaction",
    });
  });

  it("keeps the valid entries of a membership event and names the bad one", () => {
    const good = (wireExample("membership (v2, reference code)").content.memberships as unknown[])[0];
    const { logger, lines } = captureLogger();
    const result = parseContent(
      "com.famedly.call.member",
      { memberships: [good, { ...(good as object), expires_ts: "soon" }, good] },
      logger,
    );
    expect(result).toMatchObject({ ok: true, kind: "membership", content: { skipped: 1 } });
    expect(result.ok && result.kind === "membership" && result.content.memberships).toHaveLength(2);
    expect(lines.map((l) => l.message)).toEqual([expect.stringContaining("memberships.1.expires_ts")]);
  });

  it("drops a membership event whose memberships is not a list", () => {
    expectDropped("com.famedly.call.member", { memberships: {} }, "memberships");
  });

  it("reads Element memberships and their leave", () => {
    const element = {
      application: "m.call",
      call_id: "",
      scope: "m.room",
      device_id: "ABCDEF",
      expires: 14400000,
      focus_active: { type: "livekit", focus_selection: "oldest_membership" },
      foci_preferred: [
        {
          type: "livekit",
          livekit_service_url: "https://lk.example.org/jwt",
          livekit_alias: "!room:example.org",
        },
      ],
    };
    expect(parseContent("org.matrix.msc3401.call.member", element, captureLogger().logger)).toMatchObject({
      ok: true,
      kind: "elementMembership",
      content: { device_id: "ABCDEF" },
    });
    expect(parseContent("org.matrix.msc3401.call.member", {}, captureLogger().logger)).toMatchObject({
      ok: true,
      content: null,
    });
    expectDropped("org.matrix.msc3401.call.member", { ...element, focus_active: {} }, "focus_active.type");
    expectDropped("org.matrix.msc3401.call.member", { memberships: [] }, "call_id");
  });
});
