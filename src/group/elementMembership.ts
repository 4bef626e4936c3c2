/**
 * Our membership in Element's dialect (`org.matrix.msc3401.call.member`, as matrix-js-sdk 37.5 writes it): one
 * flat membership per state key `_${userId}_${deviceId}` (no leading `_` in MSC3757/MSC3779 room versions),
 * `call_id: ""`, a relative `expires` counted from `created_ts`, LiveKit foci; leaving writes `{}`. Pure.
 */

/** The state key matrix-js-sdk 37.5 uses for a device: the leading `_` is dropped in MSC3757/MSC3779 rooms. */
export function elementStateKey(roomVersion: string, userId: string, deviceId: string): string {
  const owned = /^org\.matrix\.msc(3757|3779)\b/.test(roomVersion);
  return `${owned ? "" : "_"}${userId}_${deviceId}`;
}

/** What our Element membership announces. */
export interface OwnElementMembership {
  /** The group call id; Element Call rooms use `""`. */
  callId: string;
  application: string;
  scope: string;
  deviceId: string;
  userId: string;
  /** The LiveKit backend's wire form (`LiveKitBackend.toJson()`). */
  backend: Record<string, unknown>;
  /** When we entered (ms since the epoch): constant until we leave, so a rejoin is a new membership. */
  createdTs: number;
  /** When the membership expires (ms since the epoch); written relative to `createdTs`. */
  expiresAt: number;
}

/** Our Element membership content, fields as matrix-js-sdk writes them. */
export function buildElementEntry(own: OwnElementMembership): Record<string, unknown> {
  const { type, livekit_service_url, livekit_alias } = own.backend;
  return {
    application: own.application,
    call_id: own.callId,
    scope: own.scope,
    device_id: own.deviceId,
    membershipID: `${own.userId}:${own.deviceId}`,
    expires: own.expiresAt - own.createdTs,
    focus_active: { type: "livekit", focus_selection: "oldest_membership" },
    foci_preferred: [{ type, livekit_service_url, livekit_alias }],
    created_ts: own.createdTs,
  };
}
