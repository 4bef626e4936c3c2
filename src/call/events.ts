import type { ReplacesFields } from "./signalling.js";
import type { CallErrorCode, CallState } from "./types.js";
import type { WrappedMediaStream } from "./WrappedMediaStream.js";
import type { VoipError } from "../core/errors.js";

/** An asserted identity (MSC3086): every field optional, none null. */
export interface AssertedIdentity {
  /** The Matrix user id of the asserted party. */
  id?: string;
  /** Its display name. */
  displayName?: string;
  /** Its avatar (an `mxc://` URL). */
  avatarUrl?: string;
}

/**
 * The events of a call that its parts (media, negotiation, ICE) emit: everything but `replaced`, which names the
 * replacing call and is added by `CallSessionEvents`.
 */
export interface CallEvents {
  /** The state changed. */
  stateChanged: (state: CallState, previous: CallState) => void;
  /** Streams were added, removed, replaced or (un)muted. */
  feedsChanged: () => void;
  /** A local or remote stream appeared. */
  streamAdded: (stream: WrappedMediaStream) => void;
  /** A local or remote stream went away. */
  streamRemoved: (stream: WrappedMediaStream) => void;
  /** Hold changed, on either side. */
  holdChanged: (hold: { localOnHold: boolean; remoteOnHold: boolean }) => void;
  /** The peer sent `m.call.replaces` (a transfer request): its MSC2747 fields, null ones dropped. */
  replacesReceived: (content: ReplacesFields) => void;
  /** The peer asserted a different identity (e.g. a PBX bridge); also `CallSession.remoteAssertedIdentity`. */
  assertedIdentityChanged: (identity: AssertedIdentity) => void;
  /** The call ended (exactly once). */
  ended: (reason: CallErrorCode) => void;
  /** A background failure (the call may go on, or end with a reason). */
  error: (error: VoipError) => void;
}
