import { MatrixPortError } from "../core/errors.js";

/**
 * Synapse's `createRoom` default `events` map (`synapse/handlers/room.py`). A `power_level_content_override` with
 * `events` replaces that whole map, so overrides spread this first.
 *
 * @internal
 */
export const DEFAULT_EVENT_LEVELS: Readonly<Record<string, number>> = {
  "m.room.name": 50,
  "m.room.power_levels": 100,
  "m.room.history_visibility": 100,
  "m.room.canonical_alias": 50,
  "m.room.avatar": 50,
  "m.room.tombstone": 100,
  "m.room.server_acl": 100,
  "m.room.encryption": 100,
};

/** The room-version prefix of MSC3757 (owned state events). */
export const MSC3757_PREFIX = "org.matrix.msc3757.";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Power levels like Synapse's `createRoom` (private chat): creator 100, `users_default` 0, `events_default` 0,
 * `state_default` 50. `override` is merged in; its `users` and `events` are merged key by key.
 */
export function defaultPowerLevels(
  creator: string,
  override?: Record<string, unknown>,
): Record<string, unknown> {
  const levels: Record<string, unknown> = {
    users: { [creator]: 100 },
    users_default: 0,
    events: { ...DEFAULT_EVENT_LEVELS },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
  };
  for (const [key, value] of Object.entries(override ?? {})) {
    const current = levels[key];
    levels[key] =
      (key === "users" || key === "events") && isRecord(current) && isRecord(value)
        ? { ...current, ...value }
        : value;
  }
  return levels;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === "number" && Number.isFinite(value) ? value : fallback;
}

/** The power level of `userId` under `levels` (`users[userId]` or `users_default`). */
export function userLevel(levels: Record<string, unknown> | undefined, userId: string): number {
  const users = isRecord(levels?.users) ? levels.users : {};
  return numberOr(users[userId], numberOr(levels?.users_default, 0));
}

/** The level needed to send `type`: `events[type]`, else `state_default` (50) or `events_default` (0). */
export function requiredLevel(
  levels: Record<string, unknown> | undefined,
  type: string,
  isState: boolean,
): number {
  const events = isRecord(levels?.events) ? levels.events : {};
  const fallback = isState ? numberOr(levels?.state_default, 50) : numberOr(levels?.events_default, 0);
  return numberOr(events[type], fallback);
}

/** The level needed for a named action (`redact`, `kick`, …); default 50. */
export function actionLevel(levels: Record<string, unknown> | undefined, action: string): number {
  return numberOr(levels?.[action], 50);
}

/** Rejects with 403 `M_FORBIDDEN` unless `sender` may send an event of `type`. */
export function assertCanSend(
  levels: Record<string, unknown> | undefined,
  sender: string,
  type: string,
  isState: boolean,
): void {
  const have = userLevel(levels, sender);
  const need = requiredLevel(levels, type, isState);
  if (have < need) {
    throw new MatrixPortError(
      "M_FORBIDDEN",
      403,
      `You don't have permission to post that to the room. user_level (${have}) < send_level (${need})`,
    );
  }
}

/**
 * The state-key ownership rule (Synapse `event_auth`): a key starting with `@` must be the sender's user id; in an
 * MSC3757 room it may also be `${owner}_${suffix}`, allowed for the owner or someone with a higher power level.
 */
export function assertOwnsStateKey(
  levels: Record<string, unknown> | undefined,
  roomVersion: string,
  sender: string,
  stateKey: string,
): void {
  if (!stateKey.startsWith("@") || stateKey === sender) {
    return;
  }
  if (!roomVersion.startsWith(MSC3757_PREFIX)) {
    throw new MatrixPortError("M_FORBIDDEN", 403, "You are not allowed to set others state");
  }
  const colon = stateKey.indexOf(":");
  const underscore = colon < 0 ? -1 : stateKey.indexOf("_", colon);
  const owner = underscore < 0 ? stateKey : stateKey.slice(0, underscore);
  if (colon < 2 || colon === owner.length - 1) {
    throw new MatrixPortError("M_BAD_JSON", 400, `Malformed owned state key ${JSON.stringify(stateKey)}`);
  }
  if (owner !== sender && userLevel(levels, sender) <= userLevel(levels, owner)) {
    throw new MatrixPortError("M_FORBIDDEN", 403, "You are not allowed to set others state");
  }
}
