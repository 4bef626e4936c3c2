import { describe, expect, it } from "vitest";
import { wireExample, wireExamples } from "../../test/helpers/wireExamples.js";
import { silentLogger } from "../core/Logger.js";
import { CallEventType } from "../matrix/eventTypes.js";
import { parseContent } from "../matrix/parse.js";
import type { MeshFieldsContent } from "../matrix/schemas/mesh.js";
import type { SignallingContentMap } from "../matrix/schemas/signalling.js";
import {
  buildAnswerContent,
  buildAssertedIdentityContent,
  buildCandidatesContent,
  buildHangupContent,
  buildInviteContent,
  buildMeshFields,
  buildMetadataChangedContent,
  buildNegotiateAnswerContent,
  buildNegotiateOfferContent,
  buildRejectContent,
  buildReplacesContent,
  buildSelectAnswerContent,
  readReplaces,
  readStreamMetadata,
  withMeshFields,
  type InviteContent,
  type SignallingBase,
  type StreamMetadata,
} from "./signalling.js";
import { CallErrorCode } from "./types.js";

const UNSTABLE = "org.matrix.msc3077.sdp_stream_metadata";

/** A reference example as we write it: the same, plus the stable metadata key (PROTOCOL D8). */
function withStableKey(content: Record<string, unknown>): Record<string, unknown> {
  return { ...content, sdp_stream_metadata: content[UNSTABLE] };
}

/** An example's values, typed: the example run through the parse step. */
function values<T extends CallEventType>(
  name: string,
  type: T,
): SignallingContentMap[T] & { mesh?: MeshFieldsContent } {
  const ex = wireExample(name);
  const result = parseContent(ex.type, ex.content, silentLogger);
  if (!result.ok || result.kind !== "signalling" || result.type !== type) {
    throw new Error(`${name} is not a ${type}`);
  }
  const content = result.content as SignallingContentMap[T];
  return result.transport === "toDevice" ? { ...content, mesh: result.mesh } : content;
}

function must<T>(value: T | null | undefined): T {
  if (value === undefined || value === null) {
    throw new Error("fixture value missing");
  }
  return value;
}

function base(c: { call_id: string; party_id?: string | undefined }): SignallingBase {
  return { callId: c.call_id, partyId: must(c.party_id) };
}

function metadataOf(c: Parameters<typeof readStreamMetadata>[0]): StreamMetadata {
  return must(readStreamMetadata(c));
}

function invite(name: string): InviteContent {
  const c = values(name, CallEventType.Invite);
  return buildInviteContent({
    ...base(c),
    groupCallId: c.conf_id as string | undefined,
    lifetimeMs: c.lifetime,
    offerSdp: c.offer.sdp,
    invitee: c.invitee,
    ...(c.invitee_device_id === undefined
      ? {}
      : { target: { inviteeDeviceId: c.invitee_device_id, ownDeviceId: must(c.device_id) } }),
    metadata: metadataOf(c),
  });
}

/** Each example we build, with the content our builder makes from the example's own values. */
const built: [name: string, expected: Record<string, unknown>, build: () => object][] = [
  ["invite (ours)", wireExample("invite (ours)").content, () => invite("invite (ours)")],
  [
    "invite to one device (ours)",
    wireExample("invite to one device (ours)").content,
    () => invite("invite to one device (ours)"),
  ],
  [
    "invite (reference)",
    withStableKey(wireExample("invite (reference)").content),
    () => invite("invite (reference)"),
  ],
  [
    "answer (reference)",
    withStableKey(wireExample("answer (reference)").content),
    () => {
      const c = values("answer (reference)", CallEventType.Answer);
      return buildAnswerContent({ ...base(c), answerSdp: c.answer.sdp, metadata: metadataOf(c) });
    },
  ],
  [
    "candidates",
    wireExample("candidates").content,
    () => {
      const c = values("candidates", CallEventType.Candidates);
      return buildCandidatesContent({ ...base(c), candidates: c.candidates });
    },
  ],
  [
    "select_answer",
    wireExample("select_answer").content,
    () => {
      const c = values("select_answer", CallEventType.SelectAnswer);
      return buildSelectAnswerContent({ ...base(c), selectedPartyId: c.selected_party_id });
    },
  ],
  [
    "reject",
    wireExample("reject").content,
    () => buildRejectContent(base(values("reject", CallEventType.Reject))),
  ],
  [
    "negotiate offer",
    withStableKey(wireExample("negotiate offer").content),
    () => {
      const c = values("negotiate offer", CallEventType.Negotiate);
      return buildNegotiateOfferContent({
        ...base(c),
        lifetimeMs: must(c.lifetime),
        offerSdp: c.description.sdp,
        metadata: metadataOf(c),
      });
    },
  ],
  [
    "negotiate answer",
    wireExample("negotiate answer").content,
    () => {
      const c = values("negotiate answer", CallEventType.Negotiate);
      return buildNegotiateAnswerContent({
        ...base(c),
        lifetimeMs: must(c.lifetime),
        answerSdp: c.description.sdp,
      });
    },
  ],
  [
    "hangup (ours)",
    wireExample("hangup (ours)").content,
    () =>
      buildHangupContent({
        ...base(values("hangup (ours)", CallEventType.Hangup)),
        reason: CallErrorCode.UserHangup,
      }),
  ],
  [
    "busy (ours)",
    wireExample("busy (ours)").content,
    () =>
      buildHangupContent({
        ...base(values("busy (ours)", CallEventType.Hangup)),
        reason: CallErrorCode.UserBusy,
      }),
  ],
  [
    "metadata changed (ours)",
    wireExample("metadata changed (ours)").content,
    () => {
      const c = values("metadata changed (ours)", CallEventType.SdpStreamMetadataChanged);
      return buildMetadataChangedContent({ ...base(c), metadata: metadataOf(c) });
    },
  ],
  [
    "replaces",
    wireExample("replaces").content,
    () => {
      const c = values("replaces", CallEventType.Replaces);
      const target = must(c.target_user);
      return buildReplacesContent({
        ...base(c),
        replacementId: must(c.replacement_id),
        targetUser: {
          id: must(target.id),
          displayName: must(target.display_name),
          avatarUrl: must(target.avatar_url),
        },
        createCall: must(c.create_call),
      });
    },
  ],
  [
    "asserted identity",
    wireExample("asserted identity").content,
    () => {
      const c = values("asserted identity", CallEventType.AssertedIdentity);
      const who = c.asserted_identity;
      return buildAssertedIdentityContent({
        ...base(c),
        identity: { id: must(who.id), displayName: must(who.display_name), avatarUrl: must(who.avatar_url) },
      });
    },
  ],
  [
    "mesh invite (v2)",
    withStableKey(wireExample("mesh invite (v2)").content),
    () => {
      const mesh = must(values("mesh invite (v2)", CallEventType.Invite).mesh);
      return withMeshFields(invite("mesh invite (v2)"), {
        seq: must(mesh.seq),
        destSessionId: mesh.dest_session_id,
        senderSessionId: must(mesh.sender_session_id),
        roomId: mesh.room_id,
        confId: mesh.conf_id,
        deviceId: must(mesh.device_id),
      });
    },
  ],
];

describe("what we build has the shape of the wire wireExamples", () => {
  it.each(built)("%s", (_name, expected, build) => {
    const content = build();
    expect(content).toStrictEqual(expected);
    expect(JSON.parse(JSON.stringify(content))).toStrictEqual(expected);
  });

  it.each(built)("%s parses back to the same content", (name, _expected, build) => {
    const ex = wireExample(name);
    const content = build();
    const result = parseContent(ex.type, content, silentLogger);
    expect(result).toMatchObject({ ok: true, content });
  });

  it("covers every example written in our dialect", () => {
    const ours = wireExamples.filter(
      (e) => (e as { dialect?: string }).dialect === "ours" && e.type.startsWith("m.call."),
    );
    const covered = new Set(built.map(([name]) => name));
    expect(ours.map((e) => e.name).filter((name) => !covered.has(name))).toEqual([]);
  });
});

describe("builders", () => {
  const metadata: StreamMetadata = { s1: { purpose: "m.usermedia", audio_muted: false, video_muted: true } };
  const common: SignallingBase = { callId: "c1", partyId: "p1" };

  it('adds conf_id only for mesh legs and always sends version "1"', () => {
    expect(buildRejectContent(common)).toStrictEqual({ call_id: "c1", party_id: "p1", version: "1" });
    expect(buildRejectContent({ ...common, groupCallId: "g1" })).toStrictEqual({
      call_id: "c1",
      party_id: "p1",
      conf_id: "g1",
      version: "1",
    });
  });

  it("sends device ids only when one device is targeted", () => {
    const invite = buildInviteContent({ ...common, lifetimeMs: 60_000, offerSdp: "v=0", metadata });
    expect(invite).not.toHaveProperty("device_id");
    expect(invite).not.toHaveProperty("invitee_device_id");
    expect(invite).not.toHaveProperty("invitee");
  });

  it("writes the metadata under both keys as separate copies", () => {
    const content = buildMetadataChangedContent({ ...common, metadata });
    expect(content.sdp_stream_metadata).toStrictEqual(metadata);
    expect(content[UNSTABLE]).toStrictEqual(metadata);
    content.sdp_stream_metadata.s1!.audio_muted = true;
    expect(content[UNSTABLE].s1?.audio_muted).toBe(false);
    expect(metadata.s1?.audio_muted).toBe(false);
  });

  it("writes every hangup reason as its wire value", () => {
    for (const reason of Object.values(CallErrorCode)) {
      expect(buildHangupContent({ ...common, reason }).reason).toBe(reason);
    }
    expect(buildHangupContent({ ...common, reason: CallErrorCode.IceFailed }).reason).toBe("ice_failed");
  });

  it("writes candidates as {candidate, sdpMid, sdpMLineIndex}, end-of-candidates included", () => {
    const content = buildCandidatesContent({
      ...common,
      candidates: [
        { candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host", sdpMid: "0", sdpMLineIndex: 0 },
        { candidate: "" },
      ],
    });
    expect(content.candidates).toStrictEqual([
      { candidate: "candidate:1 1 udp 1 1.2.3.4 5 typ host", sdpMid: "0", sdpMLineIndex: 0 },
      { candidate: "", sdpMid: null, sdpMLineIndex: null },
    ]);
    expect(parseContent("m.call.candidates", content, silentLogger).ok).toBe(true);
  });

  it("omits dest_session_id while the remote session is unknown", () => {
    const args = { seq: 3, senderSessionId: "me", roomId: "!r", confId: "g", deviceId: "D" };
    expect(buildMeshFields(args)).toStrictEqual({
      conf_id: "g",
      device_id: "D",
      seq: 3,
      sender_session_id: "me",
      room_id: "!r",
    });
    expect(buildMeshFields({ ...args, destSessionId: "you" })).toMatchObject({ dest_session_id: "you" });
  });

  it("builds mesh content that parses as to-device in both dialects", () => {
    const content = withMeshFields(
      buildHangupContent({ ...common, groupCallId: "g", reason: CallErrorCode.Replaced }),
      {
        seq: 0,
        senderSessionId: "p1",
        roomId: "!r",
        confId: "g",
        deviceId: "D",
      },
    );
    expect(parseContent("com.famedly.call.member.hangup", content, silentLogger)).toMatchObject({
      ok: true,
      transport: "toDevice",
      dialect: "famedly-v2",
      mesh: { seq: 0, room_id: "!r", conf_id: "g", device_id: "D" },
    });
    expect(parseContent("m.call.hangup", content, silentLogger, { transport: "toDevice" })).toMatchObject({
      ok: true,
      dialect: "famedly-v1",
    });
  });
});

describe("readers", () => {
  const entry = (purpose: string, audio: boolean) => ({ purpose, audio_muted: audio, video_muted: false });

  it("prefers the stable metadata key and falls back to the unstable one", () => {
    expect(
      readStreamMetadata({
        sdp_stream_metadata: { a: entry("m.usermedia", true) },
        [UNSTABLE]: { b: entry("m.usermedia", false) },
      }),
    ).toStrictEqual({ a: entry("m.usermedia", true) });
    expect(readStreamMetadata({ [UNSTABLE]: { b: entry("m.screenshare", false) } })).toStrictEqual({
      b: entry("m.screenshare", false),
    });
    expect(readStreamMetadata({})).toBeUndefined();
  });

  it("reads what the parse step gives, leaving out unknown purposes", () => {
    const result = parseContent(
      "m.call.sdp_stream_metadata_changed",
      {
        call_id: "c",
        party_id: "p",
        version: "1",
        sdp_stream_metadata: { a: { purpose: "m.usermedia" }, x: { purpose: "m.future" } },
      },
      silentLogger,
    );
    if (!result.ok || result.kind !== "signalling" || result.type !== "m.call.sdp_stream_metadata_changed") {
      throw new Error("expected parsed metadata");
    }
    expect(readStreamMetadata(result.content)).toStrictEqual({ a: entry("m.usermedia", false) });
  });

  it("reads replaces without nulls", () => {
    const example = wireExample("replaces").content;
    const withNulls = { ...example, create_call: null, target_user: { id: "@carol:x", avatar_url: null } };
    const replaces = parseContent("m.call.replaces", withNulls, silentLogger);
    if (!replaces.ok || replaces.kind !== "signalling" || replaces.type !== "m.call.replaces") {
      throw new Error("expected replaces");
    }
    const fields: Record<string, unknown> = { ...example, target_user: { id: "@carol:x" } };
    for (const dropped of ["call_id", "party_id", "version", "create_call"]) {
      Reflect.deleteProperty(fields, dropped);
    }
    expect(readReplaces(replaces.content)).toStrictEqual(fields);
  });
});
