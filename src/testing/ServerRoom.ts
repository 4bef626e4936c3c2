import { isJsonObject, type StoredEvent } from "./wire.js";

/** Content keys kept by redaction (room version 11 algorithm); `true` keeps every key. */
const KEPT_ON_REDACTION: Readonly<Record<string, readonly string[] | true>> = {
  "m.room.create": true,
  "m.room.member": ["membership", "join_authorised_via_users_server"],
  "m.room.join_rules": ["join_rule", "allow"],
  "m.room.power_levels": [
    "ban",
    "events",
    "events_default",
    "invite",
    "kick",
    "redact",
    "state_default",
    "users",
    "users_default",
  ],
  "m.room.history_visibility": ["history_visibility"],
  "m.room.redaction": ["redacts"],
};

/** `content` as the redaction algorithm leaves it for an event of `type`. */
export function redactContent(type: string, content: Record<string, unknown>): Record<string, unknown> {
  const kept = KEPT_ON_REDACTION[type];
  if (kept === true) {
    return content;
  }
  const out: Record<string, unknown> = {};
  for (const key of kept ?? []) {
    if (key in content) {
      out[key] = content[key];
    }
  }
  return out;
}

function stateMapKey(type: string, stateKey: string): string {
  return `${type}\u0000${stateKey}`;
}

/** One room on the {@link LocalHomeserver}: its events in order, its current state and its membership. */
export class ServerRoom {
  /** Every accepted event, in order. */
  public readonly events: StoredEvent[] = [];
  readonly #state = new Map<string, StoredEvent>();
  readonly #byId = new Map<string, StoredEvent>();

  public constructor(
    public readonly roomId: string,
    public readonly isDirect: boolean,
  ) {}

  /** `room_version` of `m.room.create` (default `"10"`). */
  public get roomVersion(): string {
    const version = this.getState("m.room.create", "")?.content.room_version;
    return typeof version === "string" ? version : "10";
  }

  /** Whether `m.room.encryption` is set. */
  public get encrypted(): boolean {
    return this.getState("m.room.encryption", "") !== undefined;
  }

  /** Content of `m.room.power_levels`, if any. */
  public get powerLevels(): Record<string, unknown> | undefined {
    return this.getState("m.room.power_levels", "")?.content;
  }

  /** The membership of `userId` (`join`, `leave`, …), if any. */
  public membership(userId: string): string | undefined {
    const membership = this.getState("m.room.member", userId)?.content.membership;
    return typeof membership === "string" ? membership : undefined;
  }

  /** Whether `userId` is joined. */
  public isJoined(userId: string): boolean {
    return this.membership(userId) === "join";
  }

  /** Joined users, in the order of their membership state events. */
  public joinedMembers(): string[] {
    return this.stateEvents()
      .filter((event) => event.type === "m.room.member" && event.content.membership === "join")
      .map((event) => event.stateKey ?? "");
  }

  /** The current state event of `(type, stateKey)`. */
  public getState(type: string, stateKey: string): StoredEvent | undefined {
    return this.#state.get(stateMapKey(type, stateKey));
  }

  /** Every current state event. */
  public stateEvents(): StoredEvent[] {
    return [...this.#state.values()];
  }

  /** An event by id. */
  public findEvent(eventId: string): StoredEvent | undefined {
    return this.#byId.get(eventId);
  }

  /** Appends an accepted event; a state event replaces the current state of its key. */
  public append(event: StoredEvent): void {
    this.events.push(event);
    this.#byId.set(event.eventId, event);
    if (event.stateKey !== undefined) {
      this.#state.set(stateMapKey(event.type, event.stateKey), event);
    }
  }

  /** Marks an event redacted and strips its content to the keys the redaction algorithm keeps. */
  public redact(eventId: string): void {
    const event = this.#byId.get(eventId);
    if (!event || event.redacted) {
      return;
    }
    event.redacted = true;
    event.content = redactContent(event.type, event.content);
  }

  /** Unredacted events of `eventType` whose `m.relates_to` has `relType` and points at `eventId`. */
  public relations(eventId: string, relType: string, eventType: string): StoredEvent[] {
    return this.events.filter((event) => {
      if (event.redacted || event.type !== eventType) {
        return false;
      }
      const relation: unknown = event.content["m.relates_to"];
      return isJsonObject(relation) && relation.rel_type === relType && relation.event_id === eventId;
    });
  }

  /** The last `limit` timeline (non-state) events. */
  public recentTimeline(limit: number): StoredEvent[] {
    const timeline = this.events.filter((event) => event.stateKey === undefined);
    return limit <= 0 ? [] : timeline.slice(-limit);
  }
}
