/**
 * Power-level rules for group calls (reference §2.12): who may publish a call membership (`com.famedly.call.member`,
 * or Element's `org.matrix.msc3401.call.member` and key room event), whether every member may, and the change that
 * lets them. Pure. A room without a power-levels event lets every member send any
 * state (`state_default` is 0 there).
 */
import { GroupEventType, KeyEventType } from "../matrix/eventTypes.js";

type Levels = Record<string, unknown> | undefined;

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** The power level of `userId`. */
export function userPowerLevel(levels: Levels, userId: string): number {
  if (levels === undefined) {
    return 0;
  }
  return numberOr(record(levels.users)[userId], numberOr(levels.users_default, 0));
}

/** The level needed to send state of `type` (`events[type]`, else `state_default`; 0 without a levels event). */
export function statePowerLevel(levels: Levels, type: string): number {
  if (levels === undefined) {
    return 0;
  }
  return numberOr(record(levels.events)[type], numberOr(levels.state_default, 50));
}

/** The level needed to send a room event of `type` (`events[type]`, else `events_default`, 0 by default). */
export function eventPowerLevel(levels: Levels, type: string): number {
  if (levels === undefined) {
    return 0;
  }
  return numberOr(record(levels.events)[type], numberOr(levels.events_default, 0));
}

/** What joining a group call needs to send: the membership state type, and room event types (keys). */
export interface JoinNeeds {
  /** The membership state event type. */
  readonly state: string;
  /** Room event types sent while in the call (as the server sees them: `m.room.encrypted` in encrypted rooms). */
  readonly events: readonly string[];
}

/** Famedly calls: `com.famedly.call.member`. */
export const FAMEDLY_JOIN: JoinNeeds = { state: GroupEventType.Member, events: [] };

/**
 * Element calls: `org.matrix.msc3401.call.member`, and with room-event keys `io.element.call.encryption_keys` (in an
 * encrypted room the server sees `m.room.encrypted`).
 */
export function elementJoinNeeds(roomKeys: boolean, encrypted: boolean): JoinNeeds {
  const keyType = encrypted ? "m.room.encrypted" : KeyEventType.KeysElement;
  return { state: GroupEventType.ElementMember, events: roomKeys ? [keyType] : [] };
}

/** The first type `userId` may not send to join (with the level it needs), or `undefined` when it may join. */
export function missingJoinLevel(
  levels: Levels,
  userId: string,
  needs: JoinNeeds = FAMEDLY_JOIN,
): { type: string; needed: number; own: number } | undefined {
  const own = userPowerLevel(levels, userId);
  const stateLevel = statePowerLevel(levels, needs.state);
  if (own < stateLevel) {
    return { type: needs.state, needed: stateLevel, own };
  }
  for (const type of needs.events) {
    const needed = eventPowerLevel(levels, type);
    if (own < needed) {
      return { type, needed, own };
    }
  }
  return undefined;
}

/** Whether `userId` may publish a call membership (and send what the call needs, `needs`). */
export function canPublishMembership(
  levels: Levels,
  userId: string,
  needs: JoinNeeds = FAMEDLY_JOIN,
): boolean {
  return missingJoinLevel(levels, userId, needs) === undefined;
}

/** Whether every member (`users_default`) may publish a call membership. */
export function groupCallsEnabledForEveryone(levels: Levels): boolean {
  if (levels === undefined) {
    return true;
  }
  return statePowerLevel(levels, GroupEventType.Member) <= numberOr(levels.users_default, 0);
}

/** Whether `userId` may change the power levels. */
export function canChangePowerLevels(levels: Levels, userId: string): boolean {
  return userPowerLevel(levels, userId) >= statePowerLevel(levels, "m.room.power_levels");
}

/** The power levels with `events["com.famedly.call.member"] = users_default` (reference `enableGroupCalls`). */
export function withGroupCallsEnabled(levels: Record<string, unknown>): Record<string, unknown> {
  return {
    ...levels,
    events: { ...record(levels.events), [GroupEventType.Member]: numberOr(levels.users_default, 0) },
  };
}
