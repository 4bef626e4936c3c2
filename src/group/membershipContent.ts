/**
 * Pure builders of our `com.famedly.call.member` content (reference §3.3, §6.5; PROTOCOL P1): our entry in the
 * famedly shape with both `backend` and `foci_active`, and the state key's content with our entry replaced or
 * removed. Entries of other devices (and of our device in other calls) are kept exactly as they are.
 */

/** What our membership entry announces. */
export interface OwnMembership {
  callId: string;
  application: string;
  scope: string;
  /** The backend's wire form (`MeshBackend.toJson()` …). */
  backend: Record<string, unknown>;
  deviceId: string;
  /** ms since the epoch: now + `expireTsBumpMs`. */
  expiresTs: number;
  /** Our session id. */
  membershipId: string;
  /** Mesh feeds; omitted when `undefined` (LiveKit). */
  feeds?: { purpose: string }[] | undefined;
  /** `VoipOptions.dialect` "famedly-v1" (an old deployment): only `backend`, no `foci_active`. */
  v1Only?: boolean;
}

/** Our entry, keys in the reference's order with `backend` next to `foci_active`. */
export function buildOwnEntry(own: OwnMembership): Record<string, unknown> {
  return {
    call_id: own.callId,
    application: own.application,
    scope: own.scope,
    backend: { ...own.backend },
    ...(own.v1Only === true ? {} : { foci_active: [{ ...own.backend }] }),
    device_id: own.deviceId,
    expires_ts: own.expiresTs,
    membershipID: own.membershipId,
    ...(own.feeds === undefined ? {} : { feeds: own.feeds.map((feed) => ({ ...feed })) }),
  };
}

/** The raw `memberships` list of a state content (anything that is not a list reads as empty). */
export function rawMemberships(content: Record<string, unknown> | undefined): unknown[] {
  const list = content?.memberships;
  return Array.isArray(list) ? list : [];
}

/** True for our device's entry in this call and scope (the entry we own and replace). */
export function isOwnEntry(entry: unknown, deviceId: string, callId: string, scope: string): boolean {
  if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
    return false;
  }
  const record = entry as Record<string, unknown>;
  const entryScope = typeof record.scope === "string" ? record.scope : "m.room";
  return record.device_id === deviceId && record.call_id === callId && entryScope === scope;
}

/** `memberships` without our entry for this call: the leave content, and the base of an update. */
export function withoutOwnEntry(
  raw: readonly unknown[],
  deviceId: string,
  callId: string,
  scope: string,
): unknown[] {
  return raw.filter((entry) => !isOwnEntry(entry, deviceId, callId, scope));
}
