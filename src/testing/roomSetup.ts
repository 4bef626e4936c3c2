import type { HomeserverCore } from "./HomeserverCore.js";
import { defaultPowerLevels } from "./powerLevels.js";
import { ServerRoom } from "./ServerRoom.js";
import type { CreateRoomOptions } from "./types.js";

const USER_ID = /^@[^:]+:.+$/;

function assertUserId(userId: unknown): asserts userId is string {
  if (typeof userId !== "string" || !USER_ID.test(userId)) {
    throw new Error(`Invalid user id ${JSON.stringify(userId)}`);
  }
}

/**
 * Creates a room the way Synapse's `createRoom` (private chat) does, then joins every member: `m.room.create`, the
 * creator's join, power levels, join rules, history visibility, `m.room.encryption` when encrypted, the members'
 * joins. Harness action: no faults, no transaction.
 */
export function createRoom(core: HomeserverCore, options: CreateRoomOptions): string {
  assertUserId(options.creator);
  const creator = options.creator;
  const members = [...new Set(options.members ?? [])].filter((member) => member !== creator);
  members.forEach(assertUserId);
  const roomVersion = options.roomVersion ?? "10";
  const room = new ServerRoom(core.newRoomId(), options.isDirect ?? false);
  core.addRoom(room);
  const state = (type: string, sender: string, content: Record<string, unknown>, stateKey = ""): void => {
    core.accept(room, { type, stateKey, sender, senderDevice: undefined, content });
  };
  state("m.room.create", creator, { creator, room_version: roomVersion });
  state("m.room.member", creator, { membership: "join" }, creator);
  state("m.room.power_levels", creator, defaultPowerLevels(creator, options.powerLevels));
  state("m.room.join_rules", creator, { join_rule: "invite" });
  state("m.room.history_visibility", creator, { history_visibility: "shared" });
  if (options.encrypted === true) {
    state("m.room.encryption", creator, { algorithm: "m.megolm.v1.aes-sha2" });
  }
  for (const member of members) {
    state("m.room.member", member, { membership: "join" }, member);
  }
  return room.roomId;
}

/** Joins or leaves `userId` (harness action); a joiner receives the room's full state. */
export function setMembership(
  core: HomeserverCore,
  roomId: string,
  userId: string,
  membership: "join" | "leave",
): void {
  assertUserId(userId);
  const room = core.room(roomId);
  if (!room) {
    throw new Error(`Unknown room ${roomId}`);
  }
  if (room.membership(userId) === membership) {
    return;
  }
  core.accept(room, {
    type: "m.room.member",
    stateKey: userId,
    sender: userId,
    senderDevice: undefined,
    content: { membership },
  });
}
