import type { CallParticipant } from "../call/CallParticipant.js";

/**
 * A group call in a room (mesh or LiveKit). Group calls are not implemented yet: this is the shape the delegate
 * callbacks and the VoIP registry refer to.
 */
export interface GroupCallSession {
  /** The group call's id (`call_id` in the membership events). */
  readonly groupCallId: string;
  /** The room the group call is in. */
  readonly roomId: string;
  /** The membership `application`, e.g. `m.call`. */
  readonly application: string;
  /** The membership `scope`, e.g. `m.room`. */
  readonly scope: string;
  /** The devices currently in the call. */
  readonly participants: readonly CallParticipant[];
}
