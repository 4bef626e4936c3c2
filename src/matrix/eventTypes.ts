/**
 * Event types of the three wire dialects (PROTOCOL §1). Read all of them everywhere; write per PROTOCOL P1/P2.
 */

/** 1:1 call signalling, room events (MSC2746). */
export const CallEventType = {
  /** Starts a call: the caller's SDP offer, its `lifetime` and stream metadata. */
  Invite: "m.call.invite",
  /** The callee's SDP answer. */
  Answer: "m.call.answer",
  /** A batch of ICE candidates. */
  Candidates: "m.call.candidates",
  /** The caller names the answer it took (`selected_party_id`); other answering devices stop. */
  SelectAnswer: "m.call.select_answer",
  /** The callee declines a ringing call. */
  Reject: "m.call.reject",
  /** A renegotiation offer or answer during the call. */
  Negotiate: "m.call.negotiate",
  /** Ends the call, with a `reason` (a `CallErrorCode` wire value). */
  Hangup: "m.call.hangup",
  /** Stream purposes or mute state changed, without renegotiation. */
  SdpStreamMetadataChanged: "m.call.sdp_stream_metadata_changed",
  /** Call transfer (MSC2747): asks to replace this call with another; surfaced to the app as an event. */
  Replaces: "m.call.replaces",
  /** The remote party's identity changed (e.g. after a transfer); surfaced to the app as an event. */
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
  /** `m.call.invite` as a mesh to-device message (famedly-v2). */
  Invite: "com.famedly.call.member.invite",
  /** `m.call.answer` as a mesh to-device message (famedly-v2). */
  Answer: "com.famedly.call.member.answer",
  /** `m.call.candidates` as a mesh to-device message (famedly-v2). */
  Candidates: "com.famedly.call.member.candidates",
  /** `m.call.select_answer` as a mesh to-device message (famedly-v2). */
  SelectAnswer: "com.famedly.call.member.select_answer",
  /** `m.call.reject` as a mesh to-device message (famedly-v2). */
  Reject: "com.famedly.call.member.reject",
  /** `m.call.negotiate` as a mesh to-device message (famedly-v2). */
  Negotiate: "com.famedly.call.member.negotiate",
  /** `m.call.hangup` as a mesh to-device message (famedly-v2). */
  Hangup: "com.famedly.call.member.hangup",
  /** `m.call.sdp_stream_metadata_changed` as a mesh to-device message (famedly-v2). */
  SdpStreamMetadataChanged: "com.famedly.call.member.sdp_stream_metadata_changed",
  /** `m.call.replaces` as a mesh to-device message (famedly-v2). */
  Replaces: "com.famedly.call.member.replaces",
  /** `m.call.asserted_identity` as a mesh to-device message (famedly-v2). */
  AssertedIdentity: "com.famedly.call.member.asserted_identity",
} as const;

/** Group membership (state event) and group extras. */
export const GroupEventType = {
  /** Famedly membership state event (v1 `backend`, v2 `foci_active`). */
  Member: "com.famedly.call.member",
  /** Element / MatrixRTC membership state event. */
  ElementMember: "org.matrix.msc3401.call.member",
  /** An in-call reaction (emoji) room event, referencing the sender's membership event. */
  Reaction: "com.famedly.call.member.reaction",
  /** Removes a reaction; its content carries routing fields (`call_id`, `device_id`, …). */
  Redaction: "m.room.redaction",
  /** MSC4075 ring/notify room event sent when entering a group call. */
  RtcNotification: "org.matrix.msc4075.rtc.notification",
} as const;

/** SFU key distribution over to-device, per dialect. */
export const KeyEventType = {
  /** SFU media keys, famedly-v1 dialect. */
  KeysV1: "com.famedly.call.encryption_keys",
  /** SFU media keys, famedly-v2 dialect. */
  KeysV2: "com.famedly.call.member.encryption_keys",
  /** SFU media keys, element dialect (object shape, 16-byte keys). */
  KeysElement: "io.element.call.encryption_keys",
  /** Asks a participant to send its current SFU media key, famedly-v1 dialect. */
  RequestV1: "com.famedly.call.encryption_keys.request",
  /** Asks a participant to send its current SFU media key, famedly-v2 dialect. */
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
