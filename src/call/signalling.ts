/**
 * Outbound content builders for 1:1 signalling (reference §3.2, PROTOCOL §2), the mesh to-device extras (reference
 * §3.1) and readers for the parts of inbound content the call logic uses. Pure: values in, wire content out; what
 * we build parses with `matrix/parse.ts`.
 *
 * Deliberate differences from the reference: stream metadata under both keys (PROTOCOL D8) and the real
 * `CallErrorCode` as hangup reason (PROTOCOL D1).
 */
import { STREAM_METADATA_KEY, STREAM_METADATA_UNSTABLE_KEY } from "../matrix/schemas/common.js";
import type { CallReplacesContent, IceCandidateContent } from "../matrix/schemas/signalling.js";
import type { CallErrorCode } from "./types.js";

/** The MSC2746 protocol version we speak; a string on the wire. */
export const VOIP_PROTO_VERSION = "1";

/** A stream's purpose (MSC3077). */
export type StreamPurpose = "m.usermedia" | "m.screenshare";

/** One stream's metadata entry. */
export interface StreamMetadataEntry {
  /** What the stream carries: camera/microphone (`m.usermedia`) or a shared screen (`m.screenshare`). */
  purpose: StreamPurpose;
  /** True when the stream's owner muted its audio. */
  audio_muted: boolean;
  /** True when the stream's owner muted its video. */
  video_muted: boolean;
}

/** SDP stream metadata: the `msid` stream id → purpose and mute state. */
export type StreamMetadata = Record<string, StreamMetadataEntry>;

/** The capabilities we announce: neither transfer nor DTMF over signalling (as the reference). */
export interface CallCapabilities {
  "m.call.transferee": boolean;
  "m.call.dtmf": boolean;
}

/** Our `capabilities` value. */
export const CALL_CAPABILITIES: Readonly<CallCapabilities> = Object.freeze({
  "m.call.transferee": false,
  "m.call.dtmf": false,
});

/** What every builder needs: the call, our party id, and the group call id for mesh legs. */
export interface SignallingBase {
  callId: string;
  /** Our `party_id` (the VoIP session id). */
  partyId: string;
  /** The group call id (`conf_id`), for mesh legs only. */
  groupCallId?: string | undefined;
}

/** The fields every 1:1 signalling content carries. */
export interface WireCallFields {
  call_id: string;
  party_id: string;
  conf_id?: string;
  version: typeof VOIP_PROTO_VERSION;
}

/** Both stream metadata keys, same value (PROTOCOL D8). */
export interface WireMetadataFields {
  [STREAM_METADATA_UNSTABLE_KEY]: StreamMetadata;
  [STREAM_METADATA_KEY]: StreamMetadata;
}

/** A session description as sent. */
export interface WireDescription<T extends "offer" | "answer"> {
  sdp: string;
  type: T;
}

/** One ICE candidate as sent; an empty `candidate` is end-of-candidates. */
export interface WireCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/** One ICE candidate as received (validated by the parse step). */
export type InboundCandidate = IceCandidateContent;

/** A user identity (MSC3086 asserted identity, MSC2747 transfer target), wire field names. */
export interface WireIdentity {
  /** The Matrix user id. */
  id?: string;
  /** The display name. */
  display_name?: string;
  /** The avatar (an `mxc://` URL). */
  avatar_url?: string;
}

/** A user identity in builder arguments. */
export interface Identity {
  id?: string;
  displayName?: string;
  avatarUrl?: string;
}

/** `m.call.invite` content. */
export type InviteContent = WireCallFields &
  WireMetadataFields & {
    lifetime: number;
    offer: WireDescription<"offer">;
    invitee?: string;
    invitee_device_id?: string;
    device_id?: string;
    capabilities: CallCapabilities;
  };

/** `m.call.answer` content. */
export type AnswerContent = WireCallFields &
  WireMetadataFields & { answer: WireDescription<"answer">; capabilities: CallCapabilities };

/** `m.call.candidates` content. */
export type CandidatesContent = WireCallFields & { candidates: WireCandidate[] };

/** `m.call.select_answer` content. */
export type SelectAnswerContent = WireCallFields & { selected_party_id: string };

/** `m.call.reject` content (no reason, as the reference). */
export type RejectContent = WireCallFields;

/** `m.call.negotiate` content carrying an offer. */
export type NegotiateOfferContent = WireCallFields &
  WireMetadataFields & {
    lifetime: number;
    description: WireDescription<"offer">;
    capabilities: CallCapabilities;
  };

/** `m.call.negotiate` content answering a negotiate offer. */
export type NegotiateAnswerContent = WireCallFields & {
  lifetime: number;
  description: WireDescription<"answer">;
};

/** `m.call.hangup` content. */
export type HangupContent = WireCallFields & { reason: CallErrorCode };

/** `m.call.sdp_stream_metadata_changed` content. */
export type MetadataChangedContent = WireCallFields & WireMetadataFields;

/** The MSC2747 fields of `m.call.replaces`, every one optional. */
export interface ReplacesFields {
  /** The id of the call that replaces this one. */
  replacement_id?: string;
  /** Who the call is transferred to. */
  target_user?: WireIdentity;
  /** The call id the transferee should place. */
  create_call?: string;
  /** The call id the transferee should wait for. */
  await_call?: string;
  /** The room the new call happens in. */
  target_room?: string;
}

/** `m.call.replaces` content. */
export type ReplacesContent = WireCallFields & ReplacesFields;

/** `m.call.asserted_identity` content (MSC3086). */
export type AssertedIdentityContent = WireCallFields & { asserted_identity: WireIdentity };

/** The common fields: `call_id`, `party_id`, `conf_id` (mesh legs only), `version: "1"`. */
export function buildCallFields(base: SignallingBase): WireCallFields {
  return {
    call_id: base.callId,
    party_id: base.partyId,
    ...(base.groupCallId === undefined ? {} : { conf_id: base.groupCallId }),
    version: VOIP_PROTO_VERSION,
  };
}

/** The metadata under both keys, each a fresh copy. */
export function buildMetadataFields(metadata: StreamMetadata): WireMetadataFields {
  return {
    [STREAM_METADATA_UNSTABLE_KEY]: copyMetadata(metadata),
    [STREAM_METADATA_KEY]: copyMetadata(metadata),
  };
}

function copyMetadata(metadata: StreamMetadata): StreamMetadata {
  const out: StreamMetadata = {};
  for (const [streamId, entry] of Object.entries(metadata)) {
    out[streamId] = {
      purpose: entry.purpose,
      audio_muted: entry.audio_muted,
      video_muted: entry.video_muted,
    };
  }
  return out;
}

/** Arguments of {@link buildInviteContent}. */
export interface InviteArgs extends SignallingBase {
  lifetimeMs: number;
  offerSdp: string;
  metadata: StreamMetadata;
  /** The callee's user id. */
  invitee?: string | undefined;
  /** Set when one device is targeted (PROTOCOL D10): that device, and our own device as `device_id`. */
  target?: { inviteeDeviceId: string; ownDeviceId: string } | undefined;
}

/** `m.call.invite`: `invitee_device_id` and our `device_id` only when a device is targeted. */
export function buildInviteContent(args: InviteArgs): InviteContent {
  return {
    ...buildCallFields(args),
    lifetime: args.lifetimeMs,
    offer: { sdp: args.offerSdp, type: "offer" },
    ...(args.invitee === undefined ? {} : { invitee: args.invitee }),
    ...(args.target === undefined
      ? {}
      : { invitee_device_id: args.target.inviteeDeviceId, device_id: args.target.ownDeviceId }),
    capabilities: { ...CALL_CAPABILITIES },
    ...buildMetadataFields(args.metadata),
  };
}

/** `m.call.answer`. */
export function buildAnswerContent(
  args: SignallingBase & { answerSdp: string; metadata: StreamMetadata },
): AnswerContent {
  return {
    ...buildCallFields(args),
    answer: { sdp: args.answerSdp, type: "answer" },
    capabilities: { ...CALL_CAPABILITIES },
    ...buildMetadataFields(args.metadata),
  };
}

/** A candidate as the WebRTC API gives it (`RTCIceCandidate`, its JSON, or a {@link WireCandidate}). */
export interface CandidateInit {
  candidate?: string;
  sdpMid?: string | null;
  sdpMLineIndex?: number | null;
}

/** `m.call.candidates`: `{candidate, sdpMid, sdpMLineIndex}` per candidate. */
export function buildCandidatesContent(
  args: SignallingBase & { candidates: readonly CandidateInit[] },
): CandidatesContent {
  return {
    ...buildCallFields(args),
    candidates: args.candidates.map((c) => ({
      candidate: c.candidate ?? "",
      sdpMid: c.sdpMid ?? null,
      sdpMLineIndex: c.sdpMLineIndex ?? null,
    })),
  };
}

/** `m.call.select_answer`. */
export function buildSelectAnswerContent(
  args: SignallingBase & { selectedPartyId: string },
): SelectAnswerContent {
  return { ...buildCallFields(args), selected_party_id: args.selectedPartyId };
}

/** `m.call.reject` (no reason). */
export function buildRejectContent(args: SignallingBase): RejectContent {
  return buildCallFields(args);
}

/** `m.call.negotiate` with an offer: lifetime, description, capabilities, metadata (both keys). */
export function buildNegotiateOfferContent(
  args: SignallingBase & { lifetimeMs: number; offerSdp: string; metadata: StreamMetadata },
): NegotiateOfferContent {
  return {
    ...buildCallFields(args),
    lifetime: args.lifetimeMs,
    description: { sdp: args.offerSdp, type: "offer" },
    capabilities: { ...CALL_CAPABILITIES },
    ...buildMetadataFields(args.metadata),
  };
}

/** `m.call.negotiate` answering a negotiate offer: description and lifetime only (as the reference). */
export function buildNegotiateAnswerContent(
  args: SignallingBase & { lifetimeMs: number; answerSdp: string },
): NegotiateAnswerContent {
  return {
    ...buildCallFields(args),
    lifetime: args.lifetimeMs,
    description: { sdp: args.answerSdp, type: "answer" },
  };
}

/** `m.call.hangup` with the real `CallErrorCode` value (PROTOCOL D1). */
export function buildHangupContent(args: SignallingBase & { reason: CallErrorCode }): HangupContent {
  return { ...buildCallFields(args), reason: args.reason };
}

/** `m.call.sdp_stream_metadata_changed` (both keys). */
export function buildMetadataChangedContent(
  args: SignallingBase & { metadata: StreamMetadata },
): MetadataChangedContent {
  return { ...buildCallFields(args), ...buildMetadataFields(args.metadata) };
}

function wireIdentity(identity: Identity): WireIdentity {
  return {
    ...(identity.id === undefined ? {} : { id: identity.id }),
    ...(identity.displayName === undefined ? {} : { display_name: identity.displayName }),
    ...(identity.avatarUrl === undefined ? {} : { avatar_url: identity.avatarUrl }),
  };
}

/** Arguments of {@link buildReplacesContent} (MSC2747); every field optional. */
export interface ReplacesArgs extends SignallingBase {
  replacementId?: string;
  targetUser?: Identity;
  createCall?: string;
  awaitCall?: string;
  targetRoom?: string;
}

/** `m.call.replaces`. */
export function buildReplacesContent(args: ReplacesArgs): ReplacesContent {
  return {
    ...buildCallFields(args),
    ...(args.replacementId === undefined ? {} : { replacement_id: args.replacementId }),
    ...(args.targetUser === undefined ? {} : { target_user: wireIdentity(args.targetUser) }),
    ...(args.createCall === undefined ? {} : { create_call: args.createCall }),
    ...(args.awaitCall === undefined ? {} : { await_call: args.awaitCall }),
    ...(args.targetRoom === undefined ? {} : { target_room: args.targetRoom }),
  };
}

/** `m.call.asserted_identity`. */
export function buildAssertedIdentityContent(
  args: SignallingBase & { identity: Identity },
): AssertedIdentityContent {
  return { ...buildCallFields(args), asserted_identity: wireIdentity(args.identity) };
}

/** Arguments of {@link buildMeshFields}. */
export interface MeshFieldsArgs {
  /** Per call leg, from 0. */
  seq: number;
  /** The remote's session id (its `membershipID`), when known. */
  destSessionId?: string | undefined;
  /** Our session id. */
  senderSessionId: string;
  roomId: string;
  /** The group call id. */
  confId: string;
  /** Our device id. */
  deviceId: string;
}

/** The mesh to-device extras as sent. */
export interface WireMeshFields {
  conf_id: string;
  device_id: string;
  seq: number;
  dest_session_id?: string;
  sender_session_id: string;
  room_id: string;
}

/** The to-device extras of mesh signalling; `dest_session_id` is omitted when unknown. */
export function buildMeshFields(args: MeshFieldsArgs): WireMeshFields {
  return {
    conf_id: args.confId,
    device_id: args.deviceId,
    seq: args.seq,
    ...(args.destSessionId === undefined ? {} : { dest_session_id: args.destSessionId }),
    sender_session_id: args.senderSessionId,
    room_id: args.roomId,
  };
}

/** `content` with the mesh extras added, for a to-device leg. */
export function withMeshFields<C extends object>(content: C, args: MeshFieldsArgs): C & WireMeshFields {
  return { ...content, ...buildMeshFields(args) };
}

/** Parsed metadata as the schema gives it: any purpose string. */
type LooseMetadata = Readonly<
  Record<string, { purpose: string; audio_muted?: boolean; video_muted?: boolean }>
>;

/**
 * The stream metadata of an inbound content: the stable key when present, else the unstable one (PROTOCOL D8).
 * Entries with a purpose other than `m.usermedia`/`m.screenshare` are left out. `undefined` when neither key is set.
 */
export function readStreamMetadata(content: {
  [STREAM_METADATA_KEY]?: LooseMetadata | undefined;
  [STREAM_METADATA_UNSTABLE_KEY]?: LooseMetadata | undefined;
}): StreamMetadata | undefined {
  const source = content[STREAM_METADATA_KEY] ?? content[STREAM_METADATA_UNSTABLE_KEY];
  if (source === undefined) {
    return undefined;
  }
  const out: StreamMetadata = {};
  for (const [streamId, entry] of Object.entries(source)) {
    if (entry.purpose === "m.usermedia" || entry.purpose === "m.screenshare") {
      out[streamId] = {
        purpose: entry.purpose,
        audio_muted: entry.audio_muted ?? false,
        video_muted: entry.video_muted ?? false,
      };
    }
  }
  return out;
}

interface NullableIdentity {
  id?: string | null;
  display_name?: string | null;
  avatar_url?: string | null;
}

function identityFromWire(wire: NullableIdentity): WireIdentity {
  return {
    ...(typeof wire.id === "string" ? { id: wire.id } : {}),
    ...(typeof wire.display_name === "string" ? { display_name: wire.display_name } : {}),
    ...(typeof wire.avatar_url === "string" ? { avatar_url: wire.avatar_url } : {}),
  };
}

/** The MSC2747 fields of a parsed `m.call.replaces`, nulls and unknown fields dropped. */
export function readReplaces(content: CallReplacesContent): ReplacesFields {
  return {
    ...(typeof content.replacement_id === "string" ? { replacement_id: content.replacement_id } : {}),
    ...(content.target_user ? { target_user: identityFromWire(content.target_user) } : {}),
    ...(typeof content.create_call === "string" ? { create_call: content.create_call } : {}),
    ...(typeof content.await_call === "string" ? { await_call: content.await_call } : {}),
    ...(typeof content.target_room === "string" ? { target_room: content.target_room } : {}),
  };
}
