/**
 * The remote members as the key core sees them, and what a membership change means for keys: who joined, who
 * left, who started a new session, and who came back before the rotation on leave fell due (a flapping
 * membership: matrix-js-sdk's legacy membership manager writes `{}` and its membership again every few seconds when
 * its delayed leave is orphaned). Pure.
 * Internal to the library.
 */
import type { ParsedMembership } from "../../matrix/schemas/membership.js";
import { deviceKey, type DeviceRef, type KeyDialect, type KeyRecipient } from "./keyTypes.js";

/** A remote member of the call. @internal */
export interface KeyMember extends DeviceRef {
  /** The dialect of its membership (and of the key events it gets). */
  readonly dialect: KeyDialect;
  /** Its membership id (a new one is a new session). */
  readonly membershipId: string;
}

/** What one membership change means. @internal */
export interface MembersDelta {
  /** Devices that left. */
  gone: DeviceRef[];
  /** New members, and members with a new session (their old keys are gone; they need ours). */
  joiners: KeyMember[];
  /** Ids of `joiners` that were members before, with another session. */
  newSessions: string[];
  /** Devices that left while a rotation on leave was pending and are back before it fell due. */
  returners: KeyMember[];
  /** True when the change brought back the last device that left since the pending rotation was armed. */
  allBack: boolean;
}

/** See the file comment. @internal */
export class KeyMembers {
  readonly #localId: string;
  readonly #members = new Map<string, KeyMember>();
  /** Devices that left since the pending rotation on leave was armed. */
  readonly #leftPending = new Set<string>();

  public constructor(localId: string) {
    this.#localId = localId;
  }

  /** The member with that id (`${userId}:${deviceId}`). */
  public get(id: string): KeyMember | undefined {
    return this.#members.get(id);
  }

  /** Number of remote members. */
  public get size(): number {
    return this.#members.size;
  }

  /** Every remote member as a key recipient. */
  public recipients(): KeyRecipient[] {
    return [...this.#members.values()].map(recipientOf);
  }

  /**
   * Applies a change. `rotating`: leaves arm a rotation on leave now, so the leavers are remembered until
   * {@link KeyMembers.rotationDue} (a leaver back before then is a returner, not a joiner).
   */
  public apply(
    joined: readonly ParsedMembership[],
    left: readonly DeviceRef[],
    rotating: boolean,
  ): MembersDelta {
    const delta: MembersDelta = { gone: [], joiners: [], newSessions: [], returners: [], allBack: false };
    for (const device of left) {
      const id = deviceKey(device);
      const member = this.#members.get(id);
      if (member === undefined) {
        continue;
      }
      this.#members.delete(id);
      delta.gone.push({ userId: member.userId, deviceId: member.deviceId });
      if (rotating) {
        this.#leftPending.add(id);
      }
    }
    for (const membership of joined) {
      const member: KeyMember = {
        userId: membership.userId,
        deviceId: membership.deviceId,
        dialect: membership.dialect,
        membershipId: membership.membershipId,
      };
      const id = deviceKey(member);
      if (id === this.#localId) {
        continue;
      }
      const known = this.#members.get(id);
      this.#members.set(id, member);
      if (known === undefined && this.#leftPending.delete(id)) {
        delta.returners.push(member);
      } else if (known === undefined) {
        delta.joiners.push(member);
      } else if (known.membershipId !== member.membershipId) {
        delta.newSessions.push(id);
        delta.joiners.push(member);
      }
    }
    delta.allBack = delta.returners.length > 0 && this.#leftPending.size === 0;
    return delta;
  }

  /** Each device once, not ours, in its membership's dialect (`fallback` for devices without one). */
  public requestTargets(from: readonly DeviceRef[], fallback: KeyDialect): KeyRecipient[] {
    const to: KeyRecipient[] = [];
    const seen = new Set<string>();
    for (const device of from) {
      const id = deviceKey(device);
      if (id === this.#localId || seen.has(id)) {
        continue;
      }
      seen.add(id);
      const dialect = this.#members.get(id)?.dialect ?? fallback;
      to.push({ userId: device.userId, deviceId: device.deviceId, dialect });
    }
    return to;
  }

  /** The rotation on leave fell due (or was dropped): leavers from now on are plain leavers. */
  public rotationDue(): void {
    this.#leftPending.clear();
  }
}

/** A member as a key recipient. @internal */
export function recipientOf(member: KeyMember): KeyRecipient {
  return { userId: member.userId, deviceId: member.deviceId, dialect: member.dialect };
}
