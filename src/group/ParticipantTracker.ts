/**
 * The current members of one group call: for each device the newest non-expired visible membership. Updated only
 * for the participants a state change touched, and by one expiry timer set to the soonest deadline (`expires_ts`
 * plus the grace), which fires even when no other event arrives.
 */
import type { Clock, TimerHandle } from "../core/Clock.js";
import type { ParsedMembership } from "../matrix/schemas/membership.js";
import type { ParticipantsChange } from "./backendRuntime.js";
import { membershipDeadline, type RoomMemberships } from "./RoomMemberships.js";

/** @internal A change of members. */
export interface MemberChange {
  joined: ParsedMembership[];
  left: ParsedMembership[];
  updated: ParsedMembership[];
}

/** @internal What the tracker reads. */
export interface TrackerDeps {
  clock: Clock;
  graceMs: number;
  memberships: RoomMemberships;
  callId: string;
  scope: string;
  /** Called when the expiry timer removed members. */
  onExpired(change: MemberChange): void;
}

/** @internal True when nothing changed. */
export function isEmptyChange(change: MemberChange): boolean {
  return change.joined.length + change.left.length + change.updated.length === 0;
}

/** @internal */
export class ParticipantTracker {
  readonly #members = new Map<string, ParsedMembership>();
  #timer: TimerHandle | undefined;
  #timerAt = Infinity;
  #disposed = false;

  public constructor(private readonly deps: TrackerDeps) {}

  /** Current members by participant id. */
  public get members(): ReadonlyMap<string, ParsedMembership> {
    return this.#members;
  }

  /** Re-reads every participant of the call (start-up). */
  public refreshAll(): MemberChange {
    const ids = new Set([
      ...this.#members.keys(),
      ...this.deps.memberships.participants(this.deps.callId, this.deps.scope).keys(),
    ]);
    return this.update(ids);
  }

  /** Re-reads the given participants (an id given twice is read twice, with no second change). */
  public update(ids: Iterable<string>): MemberChange {
    const change: MemberChange = { joined: [], left: [], updated: [] };
    if (this.#disposed) {
      return change;
    }
    const now = this.deps.clock.now();
    for (const id of ids) {
      const current = this.#effective(id, now);
      const previous = this.#members.get(id);
      if (current === undefined) {
        if (previous !== undefined) {
          this.#members.delete(id);
          change.left.push(previous);
        }
        continue;
      }
      this.#members.set(id, current);
      if (previous === undefined) {
        change.joined.push(current);
      } else if (previous !== current) {
        change.updated.push(current);
      }
      this.#scheduleFor(membershipDeadline(current, this.deps.graceMs));
    }
    return change;
  }

  /** Stops the timer and forgets every member. */
  public dispose(): void {
    this.#disposed = true;
    this.deps.clock.clearTimer(this.#timer);
    this.#timer = undefined;
    this.#members.clear();
  }

  #effective(id: string, now: number): ParsedMembership | undefined {
    let best: ParsedMembership | undefined;
    let bestDeadline = -Infinity;
    for (const entry of this.deps.memberships.entries(this.deps.callId, this.deps.scope, id)) {
      const deadline = membershipDeadline(entry, this.deps.graceMs);
      if (deadline >= now && deadline > bestDeadline) {
        best = entry;
        bestDeadline = deadline;
      }
    }
    return best;
  }

  #scheduleFor(deadline: number): void {
    if (deadline >= this.#timerAt) {
      return;
    }
    this.deps.clock.clearTimer(this.#timer);
    this.#timerAt = deadline;
    const delay = Math.max(0, deadline - this.deps.clock.now() + 1);
    this.#timer = this.deps.clock.setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      this.#onTimer();
    }, delay);
  }

  #onTimer(): void {
    if (this.#disposed) {
      return;
    }
    const now = this.deps.clock.now();
    const expired: string[] = [];
    let next = Infinity;
    for (const [id, member] of this.#members) {
      const deadline = membershipDeadline(member, this.deps.graceMs);
      if (deadline < now) {
        expired.push(id);
      } else {
        next = Math.min(next, deadline);
      }
    }
    // An expired member may have another, later entry: update() re-reads it and re-arms the timer.
    const change = this.update(expired);
    if (next < Infinity) {
      this.#scheduleFor(next);
    }
    if (!isEmptyChange(change)) {
      this.deps.onExpired(change);
    }
  }
}

/** @internal A change for the backend; `current` is computed only when read (most backends never read it). */
export class TrackedChange implements ParticipantsChange {
  public readonly joined: readonly ParsedMembership[];
  public readonly left: readonly ParsedMembership[];
  public readonly updated: readonly ParsedMembership[];
  readonly #members: ReadonlyMap<string, ParsedMembership>;

  public constructor(change: MemberChange, members: ReadonlyMap<string, ParsedMembership>) {
    this.joined = change.joined;
    this.left = change.left;
    this.updated = change.updated;
    this.#members = members;
  }

  public get current(): readonly ParsedMembership[] {
    return [...this.#members.values()];
  }
}
