import type { CallSession, CallSessionInit } from "../../call/CallSession.js";
import type { LegMediaSource } from "../../call/LocalMedia.js";
import { callTypeOfInvite } from "../../call/sdp.js";
import { readStreamMetadata } from "../../call/signalling.js";
import { CallDirection, CallType } from "../../call/types.js";
import type { MeshDialect } from "../../matrix/parse.js";
import type { ParsedMembership } from "../../matrix/schemas/membership.js";
import type { InboundInvite } from "./MeshInbound.js";

/**
 * @internal The dialect to write to a member (PROTOCOL P2): only `backend` → v1; `foci_active` → v2; unknown →
 * `fallback` (VoipOptions.dialect, v2 by default).
 */
export function dialectOf(
  membership: ParsedMembership | undefined,
  fallback: MeshDialect = "famedly-v2",
): MeshDialect {
  if (membership?.dialect === "famedly-v1" || membership?.dialect === "famedly-v2") {
    return membership.dialect;
  }
  return fallback;
}

/** @internal What the legs need of `VoIP`. */
export interface MeshLegFactory {
  createMeshLeg(init: MeshLegInit): CallSession;
  newCallId(): string;
}

/** @internal How a mesh leg is created (`VoIP.createMeshLeg`). */
export interface MeshLegInit extends CallSessionInit {
  groupCallId: string;
  remoteUserId: string;
  remoteDeviceId: string;
  remoteSessionId: string;
  /** The peer's dialect (PROTOCOL P2), asked at each send. */
  dialect: () => MeshDialect;
  /** Told the leg's peer connection when it is created (the mesh reads its stats for the active speaker). */
  onPeerConnection?: (pc: RTCPeerConnection) => void;
}

/** @internal What both kinds of leg share. */
export interface LegOptions {
  voip: MeshLegFactory;
  roomId: string;
  groupCallId: string;
  media: LegMediaSource;
  /** The peer's current membership (its dialect is read at each send). */
  membership: () => ParsedMembership | undefined;
  /** What to write when the peer's dialect is unknown. */
  defaultDialect?: MeshDialect;
  /** Told each leg's peer connection when it is created. */
  onPeerConnection?: (leg: CallSession, pc: RTCPeerConnection) => void;
}

/**
 * @internal Places the call to a member (reference §6.7 "who calls whom", step 3): an outgoing leg to that device,
 * `dest_session_id` its `membershipID`, sending clones of the group's media. The invite leaves on
 * `negotiationneeded`. Resolves with the leg once its media is attached (it may have ended meanwhile).
 */
export async function placeLeg(
  opts: LegOptions,
  member: ParsedMembership,
  onCreated?: (leg: CallSession) => void,
): Promise<CallSession> {
  const leg: CallSession = opts.voip.createMeshLeg({
    callId: opts.voip.newCallId(),
    roomId: opts.roomId,
    groupCallId: opts.groupCallId,
    type: hasVideo(opts.media) ? CallType.Video : CallType.Voice,
    direction: CallDirection.Outgoing,
    remoteUserId: member.userId,
    remoteDeviceId: member.deviceId,
    remoteSessionId: member.membershipId,
    media: opts.media,
    // An old (famedly-v1) deployment writes m.call.* to everyone; otherwise the peer's dialect (P2).
    dialect: () =>
      opts.defaultDialect === "famedly-v1"
        ? "famedly-v1"
        : dialectOf(opts.membership() ?? member, opts.defaultDialect),
    onPeerConnection: (pc) => opts.onPeerConnection?.(leg, pc),
  });
  onCreated?.(leg);
  try {
    await leg.initOutbound();
  } catch {
    // The leg has ended with its reason (user_media_failed); the caller sees it in the leg's state.
  }
  return leg;
}

/**
 * @internal Takes an invite from a member (reference §6.7, incoming): an incoming leg with the offer set and clones
 * of the group's media attached, in `ringing`. The caller answers it (mesh legs are answered automatically).
 */
export async function acceptLeg(
  opts: LegOptions,
  invite: InboundInvite,
  onCreated?: (leg: CallSession) => void,
): Promise<CallSession> {
  const metadata = readStreamMetadata(invite.content);
  const leg: CallSession = opts.voip.createMeshLeg({
    callId: invite.content.call_id,
    roomId: opts.roomId,
    groupCallId: opts.groupCallId,
    type: callTypeOfInvite(invite.content.offer.sdp, metadata),
    direction: CallDirection.Incoming,
    remoteUserId: invite.sender,
    remoteDeviceId: invite.deviceId,
    remoteSessionId: invite.senderSessionId,
    ...(invite.content.party_id !== undefined ? { remotePartyId: invite.content.party_id } : {}),
    media: opts.media,
    // A reply uses the dialect the invite came in (P2); an old (famedly-v1) deployment knows only m.call.*.
    dialect: () => (opts.defaultDialect === "famedly-v1" ? "famedly-v1" : invite.dialect),
    onPeerConnection: (pc) => opts.onPeerConnection?.(leg, pc),
  });
  onCreated?.(leg);
  await leg.initWithInvite(invite.content.offer, metadata);
  return leg;
}

function hasVideo(media: LegMediaSource): boolean {
  return (media.usermedia()?.mediaStream.getVideoTracks().length ?? 0) > 0;
}
