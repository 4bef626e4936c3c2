// What an event arbitrary produces: one inbound event of a sync batch, by transport.
import type { RoomEvent, StateEvent, ToDeviceEvent } from "../../../src/index.js";

/** One hostile inbound event. */
export type FuzzEvent =
  | { transport: "room"; roomId: string; event: Omit<RoomEvent, "roomId" | "eventId"> }
  | { transport: "state"; roomId: string; event: Omit<StateEvent, "roomId" | "eventId"> }
  | { transport: "toDevice"; event: ToDeviceEvent };

/** What the generators know of the world: the rooms, the live calls, who is who. */
export interface FuzzWorld {
  /** Rooms with a live call: `[roomId, callId, the peer's userId, the peer's party id]`. */
  calls: readonly { roomId: string; callId: string; peer: string; peerParty: string }[];
  /** The receiving user (its own echoes are a case too). */
  self: string;
  /** A user in every room who is no party to any call. */
  stranger: string;
}
