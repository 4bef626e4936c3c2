/**
 * Power-level rules for group calls (reference §2.12): who may publish `com.famedly.call.member`, whether every
 * member may, and the change that lets them. Pure. A room without a power-levels event lets every member send any
 * state (`state_default` is 0 there).
 */
import { GroupEventType } from "../matrix/eventTypes.js";

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

/** Whether `userId` may publish a call membership. */
export function canPublishMembership(levels: Levels, userId: string): boolean {
  return userPowerLevel(levels, userId) >= statePowerLevel(levels, GroupEventType.Member);
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
