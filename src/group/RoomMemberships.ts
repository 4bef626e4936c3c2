/**
 * The call memberships of one room, kept up to date incrementally: a state event re-reads only its own state key
 * (no rebuild of the room per event). Only entries under a state key their sender owns, from users joined to the
 * room, are visible. Expiry is judged by the readers ({@link membershipDeadline}), since it depends on the time.
 */
import type { Logger } from "../core/Logger.js";
import { GroupEventType } from "../matrix/eventTypes.js";
import type { StateEvent } from "../matrix/MatrixClientPort.js";
import { parseMembershipEvent, type ParsedMembership } from "../matrix/schemas/membership.js";
import { ownsMembershipKey } from "./stateKey.js";

/** What one state event changed: entries that became visible, and entries that stopped being visible. */
export interface MembershipDelta {
  /** Entries now visible. */
  added: ParsedMembership[];
  /** Entries no longer visible (replaced, removed, or their sender left the room). */
  removed: ParsedMembership[];
}

/** What the current state event under one (type, state key) holds; updated in place when it is replaced. */
interface Slot {
  eventId: string;
  sender: string;
  entries: ParsedMembership[];
}

/** `${callId}\0${scope}`: one group call of a room. */
export function callKey(callId: string, scope: string): string {
  return `${callId}\u0000${scope}`;
}

/** `${userId}:${deviceId}`, the participant id. */
export function participantId(entry: { userId: string; deviceId: string }): string {
  return `${entry.userId}:${entry.deviceId}`;
}

/**
 * When a membership stops counting, in ms since the epoch: famedly entries count until `expires_ts` plus the
 * reference's grace (`expireTsBumpMs`, §6.8); Element entries until their own expiry.
 */
export function membershipDeadline(entry: ParsedMembership, graceMs: number): number {
  return entry.dialect === "element" ? entry.expiresAt : entry.expiresAt + graceMs;
}

const MEMBER_TYPES: ReadonlySet<string> = new Set([GroupEventType.Member, GroupEventType.ElementMember]);

/** True for the state event types this index reads. */
export function isMembershipRelevant(type: string): boolean {
  return MEMBER_TYPES.has(type) || type === "m.room.member";
}

/** @internal The memberships of one room. */
export class RoomMemberships {
  /** Event type → state key → slot (no joined key strings to build per event). */
  readonly #slots = new Map<string, Map<string, Slot>>();
  readonly #joined = new Set<string>();
  /** The slots each sender wrote (few: one per membership type and device). */
  readonly #slotsBySender = new Map<string, Slot[]>();
  /** callKey → participant id → visible entries (usually one). */
  readonly #byCall = new Map<string, Map<string, ParsedMembership[]>>();

  public constructor(
    public readonly roomId: string,
    private readonly log: Logger,
  ) {}

  /** Applies one state event (membership or `m.room.member`); `undefined` when nothing visible changed. */
  public apply(event: StateEvent): MembershipDelta | undefined {
    if (event.type === "m.room.member") {
      return this.#applyRoomMember(event.stateKey, event.content.membership === "join");
    }
    if (!MEMBER_TYPES.has(event.type)) {
      return undefined;
    }
    let slotsOfType = this.#slots.get(event.type);
    if (slotsOfType === undefined) {
      slotsOfType = new Map();
      this.#slots.set(event.type, slotsOfType);
    }
    const previous = slotsOfType.get(event.stateKey);
    if (previous?.eventId === event.eventId) {
      return undefined;
    }
    const entries = this.#ownedEntries(event);
    let delta: MembershipDelta | undefined;
    if (previous === undefined) {
      const slot: Slot = { eventId: event.eventId, sender: event.sender, entries };
      slotsOfType.set(event.stateKey, slot);
      this.#linkSlot(slot);
    } else {
      if (previous.entries.length > 0 && this.#joined.has(previous.sender)) {
        delta = { added: [], removed: [] };
        for (const entry of previous.entries) {
          this.#unindex(entry);
          delta.removed.push(entry);
        }
      }
      if (previous.sender !== event.sender) {
        this.#unlinkSlot(previous);
        previous.sender = event.sender;
        this.#linkSlot(previous);
      }
      previous.eventId = event.eventId;
      previous.entries = entries;
    }
    if (entries.length === 0) {
      return delta;
    }
    if (this.#joined.has(event.sender)) {
      delta ??= { added: [], removed: [] };
      for (const entry of entries) {
        this.#index(entry);
        delta.added.push(entry);
      }
    } else {
      this.log.debug("ignored memberships of a user not joined to the room", { eventId: event.eventId });
    }
    return delta;
  }

  /** The visible entries of one participant in one call. */
  public entries(callId: string, scope: string, participant: string): readonly ParsedMembership[] {
    return this.#byCall.get(callKey(callId, scope))?.get(participant) ?? [];
  }

  /** Every participant of one call with its visible entries (expired ones included). */
  public participants(callId: string, scope: string): ReadonlyMap<string, readonly ParsedMembership[]> {
    return this.#byCall.get(callKey(callId, scope)) ?? new Map<string, ParsedMembership[]>();
  }

  /** Every visible entry of the room (for discovery at start-up and for "is there an active call"). */
  public *allEntries(): Iterable<ParsedMembership> {
    for (const byParticipant of this.#byCall.values()) {
      for (const entries of byParticipant.values()) {
        yield* entries;
      }
    }
  }

  /** The entries of a membership event under a state key their sender owns (the others dropped, debug). */
  #ownedEntries(event: StateEvent): ParsedMembership[] {
    const owned: ParsedMembership[] = [];
    for (const entry of parseMembershipEvent(event, this.log)) {
      if (ownsMembershipKey(event.type, event.stateKey, event.sender, entry.deviceId)) {
        owned.push(entry);
      } else {
        this.log.debug("dropped membership entry: state key not owned by its sender", {
          eventId: event.eventId,
          stateKey: event.stateKey,
        });
      }
    }
    return owned;
  }

  /** Records that `sender` wrote the slot (a sender has few slots: one per membership type and device). */
  #linkSlot(slot: Slot): void {
    const slots = this.#slotsBySender.get(slot.sender);
    if (slots === undefined) {
      this.#slotsBySender.set(slot.sender, [slot]);
    } else {
      slots.push(slot);
    }
  }

  #unlinkSlot(slot: Slot): void {
    const slots = this.#slotsBySender.get(slot.sender);
    const index = slots?.indexOf(slot) ?? -1;
    if (slots === undefined || index < 0) {
      return;
    }
    slots.splice(index, 1);
    if (slots.length === 0) {
      this.#slotsBySender.delete(slot.sender);
    }
  }

  #applyRoomMember(userId: string, joined: boolean): MembershipDelta | undefined {
    if (joined === this.#joined.has(userId)) {
      return undefined;
    }
    const delta: MembershipDelta = { added: [], removed: [] };
    if (joined) {
      this.#joined.add(userId);
    } else {
      this.#joined.delete(userId);
    }
    for (const slot of this.#slotsBySender.get(userId) ?? []) {
      for (const entry of slot.entries) {
        if (joined) {
          this.#index(entry);
          delta.added.push(entry);
        } else {
          this.#unindex(entry);
          delta.removed.push(entry);
        }
      }
    }
    return delta.added.length + delta.removed.length > 0 ? delta : undefined;
  }

  #index(entry: ParsedMembership): void {
    const key = callKey(entry.callId, entry.scope);
    let byParticipant = this.#byCall.get(key);
    if (byParticipant === undefined) {
      byParticipant = new Map();
      this.#byCall.set(key, byParticipant);
    }
    const id = participantId(entry);
    const list = byParticipant.get(id);
    if (list === undefined) {
      byParticipant.set(id, [entry]);
    } else {
      list.push(entry);
    }
  }

  #unindex(entry: ParsedMembership): void {
    const key = callKey(entry.callId, entry.scope);
    const byParticipant = this.#byCall.get(key);
    const id = participantId(entry);
    const list = byParticipant?.get(id);
    if (byParticipant === undefined || list === undefined) {
      return;
    }
    const index = list.indexOf(entry);
    if (index >= 0) {
      list.splice(index, 1);
    }
    if (list.length === 0) {
      byParticipant.delete(id);
      if (byParticipant.size === 0) {
        this.#byCall.delete(key);
      }
    }
  }
}
