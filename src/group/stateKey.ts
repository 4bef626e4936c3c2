/**
 * Membership state keys (reference §6.9) and the ownership rule applied when reading them: an entry counts only
 * under a state key its sender owns, whatever mode the writer used.
 */
import { GroupEventType } from "../matrix/eventTypes.js";

/** How our membership state key is formed. */
export type StateKeyMode = "user" | "owned-per-device" | "unprotected-per-device";

/** The mode for a room: the unprotected option wins; MSC3757 room versions own `${userId}_${deviceId}`. */
export function stateKeyMode(roomVersion: string, useUnprotectedPerDeviceStateKeys: boolean): StateKeyMode {
  if (useUnprotectedPerDeviceStateKeys) {
    return "unprotected-per-device";
  }
  return roomVersion.includes("msc3757") ? "owned-per-device" : "user";
}

/** Our state key: `userId`, `${userId}_${deviceId}` (MSC3757) or `${deviceId}_${userId}` (unprotected). */
export function membershipStateKey(mode: StateKeyMode, userId: string, deviceId: string): string {
  switch (mode) {
    case "user":
      return userId;
    case "owned-per-device":
      return `${userId}_${deviceId}`;
    case "unprotected-per-device":
      return `${deviceId}_${userId}`;
  }
}

/** True when the key holds only one device's memberships (the leave content is then `{memberships: []}`). */
export function isPerDeviceMode(mode: StateKeyMode): boolean {
  return mode !== "user";
}

/**
 * Whether `sender` owns `stateKey` for an entry of `deviceId` in a membership event of `type`. Famedly: the user
 * id, or one of the two per-device forms. Element: `[_]${userId}_${deviceId}[_…]`.
 */
export function ownsMembershipKey(type: string, stateKey: string, sender: string, deviceId: string): boolean {
  if (type === GroupEventType.ElementMember) {
    const key = stateKey.startsWith("_") ? stateKey.slice(1) : stateKey;
    const prefix = `${sender}_${deviceId}`;
    return key === prefix || key.startsWith(`${prefix}_`);
  }
  return stateKey === sender || stateKey === `${sender}_${deviceId}` || stateKey === `${deviceId}_${sender}`;
}
