import type { MatrixClient, Room } from "matrix-js-sdk";
import { EventTimeline, EventType, KnownMembership } from "matrix-js-sdk";
import type { RoomInfo, StateEvent } from "../../MatrixClientPort.js";
import { toStateEvent } from "./events.js";

/** The rooms `client` is joined to. */
export function joinedRoomIds(client: MatrixClient): string[] {
  return client
    .getRooms()
    .filter((room) => isJoined(room))
    .map((room) => room.roomId);
}

/** What `client` knows of `roomId`, in the port's shape; `undefined` for an unknown room. */
export function roomInfo(client: MatrixClient, roomId: string): RoomInfo | undefined {
  const room = client.getRoom(roomId);
  if (room === null) {
    return undefined;
  }
  const info: RoomInfo = {
    roomId,
    encrypted: room.hasEncryptionStateEvent(),
    isDirect: isDirect(client, room),
    roomVersion: room.getVersion(),
    myMembership: room.getMyMembership(),
    joinedMembers: room.getJoinedMembers().map((member) => member.userId),
  };
  const powerLevels = liveState(room)?.getStateEvents("m.room.power_levels", "");
  if (powerLevels) {
    info.powerLevels = { ...powerLevels.getContent() };
  }
  return info;
}

/** The current state events of `type` in `roomId`, every state key. */
export function currentStateEvents(client: MatrixClient, roomId: string, type: string): StateEvent[] {
  const room = client.getRoom(roomId);
  if (room === null) {
    return [];
  }
  return (liveState(room)?.getStateEvents(type) ?? [])
    .map((event) => toStateEvent(event))
    .filter((event): event is StateEvent => event !== undefined);
}

/** The joined members of the joined, encrypted rooms among `rooms`: the users Rust crypto tracks. */
export function encryptedRoomMembers(rooms: Room[]): string[] {
  return rooms
    .filter((room) => room.hasEncryptionStateEvent() && isJoined(room))
    .flatMap((room) => room.getJoinedMembers().map((member) => member.userId));
}

function isJoined(room: Room): boolean {
  return room.getMyMembership() === (KnownMembership.Join as string);
}

/** Direct: listed in our `m.direct` account data, or we were invited with `is_direct`. */
function isDirect(client: MatrixClient, room: Room): boolean {
  const direct = client.getAccountData(EventType.Direct)?.getContent<Record<string, unknown>>();
  if (direct !== undefined) {
    for (const roomIds of Object.values(direct)) {
      if (Array.isArray(roomIds) && roomIds.includes(room.roomId)) {
        return true;
      }
    }
  }
  return room.getDMInviter() !== undefined;
}

/** The current state of the room (js-sdk deprecates `room.currentState`). */
function liveState(room: Room): ReturnType<EventTimeline["getState"]> {
  return room.getLiveTimeline().getState(EventTimeline.FORWARDS);
}
