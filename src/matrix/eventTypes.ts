/**
 * Event types of the three wire dialects (PROTOCOL §1). Read all of them everywhere; write per PROTOCOL P1/P2.
 */

/** 1:1 call signalling, room events (MSC2746). */
export const CallEventType = {
  Invite: "m.call.invite",
  Answer: "m.call.answer",
  Candidates: "m.call.candidates",
  SelectAnswer: "m.call.select_answer",
  Reject: "m.call.reject",
  Negotiate: "m.call.negotiate",
  Hangup: "m.call.hangup",
  SdpStreamMetadataChanged: "m.call.sdp_stream_metadata_changed",
  Replaces: "m.call.replaces",
  AssertedIdentity: "m.call.asserted_identity",
} as const;

/** A 1:1 signalling type. */
export type CallEventType = (typeof CallEventType)[keyof typeof CallEventType];

/** Older aliases accepted on input (matrix-js-sdk < 41 and the reference read these). */
export const CallEventTypeAlias: Readonly<Record<string, CallEventType>> = {
  "org.matrix.call.sdp_stream_metadata_changed": CallEventType.SdpStreamMetadataChanged,
  "org.matrix.call.asserted_identity": CallEventType.AssertedIdentity,
};

/** Mesh signalling over to-device, famedly-v2 dialect: `com.famedly.call.member.<x>`. */
export const MeshEventType = {
  Invite: "com.famedly.call.member.invite",
  Answer: "com.famedly.call.member.answer",
  Candidates: "com.famedly.call.member.candidates",
  SelectAnswer: "com.famedly.call.member.select_answer",
  Reject: "com.famedly.call.member.reject",
  Negotiate: "com.famedly.call.member.negotiate",
  Hangup: "com.famedly.call.member.hangup",
  SdpStreamMetadataChanged: "com.famedly.call.member.sdp_stream_metadata_changed",
  Replaces: "com.famedly.call.member.replaces",
  AssertedIdentity: "com.famedly.call.member.asserted_identity",
} as const;

/** Group membership (state event) and group extras. */
export const GroupEventType = {
  /** Famedly membership state event (v1 `backend`, v2 `foci_active`). */
  Member: "com.famedly.call.member",
  /** Element / MatrixRTC membership state event. */
  ElementMember: "org.matrix.msc3401.call.member",
  Reaction: "com.famedly.call.member.reaction",
  Redaction: "m.room.redaction",
  RtcNotification: "org.matrix.msc4075.rtc.notification",
} as const;

/** SFU key distribution over to-device, per dialect. */
export const KeyEventType = {
  KeysV1: "com.famedly.call.encryption_keys",
  KeysV2: "com.famedly.call.member.encryption_keys",
  KeysElement: "io.element.call.encryption_keys",
  RequestV1: "com.famedly.call.encryption_keys.request",
  RequestV2: "com.famedly.call.member.encryption_keys_request",
} as const;

/** A wire dialect (PROTOCOL §1). */
export type Dialect = "famedly-v1" | "famedly-v2" | "element";

const MESH_V2_PREFIX = "com.famedly.call.member.";

/**
 * The 1:1 signalling type a mesh to-device type stands for, with the dialect it came in, or `undefined` for
 * anything else. famedly-v1 mesh signalling uses the `m.call.*` types themselves (with `room_id`/`conf_id`).
 */
export function meshSignallingType(type: string): { type: CallEventType; dialect: Dialect } | undefined {
  if (type.startsWith(MESH_V2_PREFIX)) {
    const suffix = type.slice(MESH_V2_PREFIX.length);
    const candidate = `m.call.${suffix}`;
    if (isCallEventType(candidate)) {
      return { type: candidate, dialect: "famedly-v2" };
    }
    return undefined;
  }
  const normalized = normalizeCallEventType(type);
  return normalized === undefined ? undefined : { type: normalized, dialect: "famedly-v1" };
}

/** The mesh to-device type to write for a signalling type in `dialect`. */
export function meshTypeFor(type: CallEventType, dialect: "famedly-v1" | "famedly-v2"): string {
  return dialect === "famedly-v1" ? type : `${MESH_V2_PREFIX}${type.slice("m.call.".length)}`;
}

const CALL_EVENT_TYPES = new Set<string>(Object.values(CallEventType));

/** True for the ten `m.call.*` types. */
export function isCallEventType(type: string): type is CallEventType {
  return CALL_EVENT_TYPES.has(type);
}

/** Maps a room event type (including accepted aliases) to its `m.call.*` type, or `undefined`. */
export function normalizeCallEventType(type: string): CallEventType | undefined {
  if (isCallEventType(type)) {
    return type;
  }
  return CallEventTypeAlias[type];
}
