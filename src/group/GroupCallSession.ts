import type { CallParticipant } from "../call/CallParticipant.js";

/**
 * A group call in a room (mesh or LiveKit). Group calls are not implemented yet: this is the shape the delegate
 * callbacks and the VoIP registry refer to.
 */
export interface GroupCallSession {
  readonly groupCallId: string;
  readonly roomId: string;
  readonly application: string;
  readonly scope: string;
  readonly participants: readonly CallParticipant[];
}
