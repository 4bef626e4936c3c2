/**
 * The SFU media-key manager as a pure state machine (reference §7; PROTOCOL K1–K6, G5): no I/O, no clock, no
 * promises. Every input returns the actions to carry out, in order. Work per membership change is proportional
 * to the change (a rotation lists every member once), so a 500-member call stays cheap.
 * Internal to the library.
 */
import type { ParsedMembership } from "../../matrix/schemas/membership.js";
import {
  deviceKey,
  type Arrival,
  type DeviceRef,
  type KeyAction,
  type KeyCoreConfig,
  type KeyDialect,
  type KeyInput,
  type KeyRecipient,
  type OutgoingKey,
  type ReceivedKeyEntry,
} from "./keyTypes.js";
import { rejectArrival } from "./keyRules.js";
import { ReceivedKeys, type HeldItem } from "./ReceivedKeys.js";

/** Our media keys are 32 random bytes (reference §7, PROTOCOL K6). */
export const KEY_LENGTH = 32;
/** Timer id of the debounce before a new key after someone left. */
export const LEAVE_TIMER = "rotate-on-leave";
const USE_PREFIX = "use:";
const HOLD_PREFIX = "hold:";

interface Member extends DeviceRef {
  dialect: KeyDialect;
  membershipId: string;
}

/** A (participant, index) key the core holds, for snapshots. @internal */
export interface HeldKey {
  /** `${userId}:${deviceId}` of the key's owner. */
  participant: string;
  /** The ring index. */
  index: number;
  /** Whether it is one of ours. */
  isLocal: boolean;
}

/** See the file comment. @internal */
export class KeyManagerCore {
  readonly #config: KeyCoreConfig;
  readonly #localId: string;
  readonly #members = new Map<string, Member>();
  readonly #received = new ReceivedKeys();
  readonly #ownKeys = new Map<number, Uint8Array>();
  readonly #pendingUse = new Map<string, { index: number; key: Uint8Array }>();
  readonly #armed = new Set<string>();
  #counter: number;
  #useSeq = 0;
  #latest: number | undefined;
  #current: number | undefined;
  #lastNewKeyAt = Number.NEGATIVE_INFINITY;
  #active = false;

  public constructor(config: KeyCoreConfig) {
    if (!Number.isInteger(config.keyRingSize) || config.keyRingSize < 1) {
      throw new TypeError(`keyRingSize must be a positive integer, got ${String(config.keyRingSize)}`);
    }
    this.#config = config;
    this.#localId = deviceKey(config.local);
    this.#counter = config.indexCounter ?? 0;
  }

  /** The index counter (the next key gets `counter % keyRingSize`). */
  public get indexCounter(): number {
    return this.#counter;
  }

  /** Index of our newest key (sent, maybe not in use yet), or `undefined` before the first. */
  public get latestLocalKeyIndex(): number | undefined {
    return this.#latest;
  }

  /** Index of the key we encrypt with, or `undefined` before the first is in use. */
  public get currentLocalKeyIndex(): number | undefined {
    return this.#current;
  }

  /** Whether joins and leaves rotate our key (after `enter`, until `dispose`). */
  public get active(): boolean {
    return this.#active;
  }

  /** Whether that device is a current member of the call, as far as the core was told. */
  public isMember(device: DeviceRef): boolean {
    return this.#members.has(deviceKey(device));
  }

  /** Number of remote members. */
  public get memberCount(): number {
    return this.#members.size;
  }

  /** Every (participant, index) key held: ours and the members'. */
  public heldKeys(): HeldKey[] {
    const out: HeldKey[] = [...this.#ownKeys.keys()].map((index) => ({
      participant: this.#localId,
      index,
      isLocal: true,
    }));
    for (const [participant, index] of this.#received.entries()) {
      out.push({ participant, index, isLocal: false });
    }
    return out;
  }

  /** The key held for (participant, index), ours included. */
  public keyOf(participant: DeviceRef, index: number): Uint8Array | undefined {
    const id = deviceKey(participant);
    return id === this.#localId ? this.#ownKeys.get(index) : this.#received.get(participant, index);
  }

  /** Applies one input; returns the actions to carry out, in order. Never throws on bad input. */
  public handle(input: KeyInput): KeyAction[] {
    const out: KeyAction[] = [];
    switch (input.kind) {
      case "membership":
        this.#onMembership(input.joined, input.left, input.now, out);
        break;
      case "preShare":
        this.#onPreShare(input.now, out);
        break;
      case "enter":
        this.#onEnter(input.now, out);
        break;
      case "keys":
        this.#onKeys(input.arrival, input.keys, out);
        break;
      case "request":
        this.#onRequest(input.arrival, input.now, out);
        break;
      case "requestKeys":
        this.#onRequestKeys(input.from, out);
        break;
      case "timer":
        this.#onTimer(input.id, input.now, out);
        break;
      case "ratcheted":
        this.#onRatcheted(input.index, input.key, input.sendTo, input.now, out);
        break;
      case "dispose":
        this.#onDispose(out);
        break;
    }
    return out;
  }

  #onMembership(
    joined: readonly ParsedMembership[],
    left: readonly DeviceRef[],
    now: number,
    out: KeyAction[],
  ): void {
    const gone: DeviceRef[] = [];
    for (const device of left) {
      const id = deviceKey(device);
      const member = this.#members.get(id);
      if (member === undefined) {
        continue;
      }
      this.#members.delete(id);
      this.#received.forget(id);
      gone.push({ userId: member.userId, deviceId: member.deviceId });
    }
    const joiners: Member[] = [];
    for (const membership of joined) {
      const member = this.#toMember(membership);
      const id = deviceKey(member);
      if (id === this.#localId) {
        continue;
      }
      const known = this.#members.get(id);
      this.#members.set(id, member);
      if (known === undefined) {
        joiners.push(member);
      } else if (known.membershipId !== member.membershipId) {
        // Same device, new session (an app restart): its old keys are gone and it needs ours again.
        this.#received.forget(id);
        joiners.push(member);
      }
    }
    if (gone.length > 0) {
      out.push({ kind: "forget", devices: gone });
      if (this.#active && this.#config.e2eeEnabled) {
        this.#arm(LEAVE_TIMER, this.#config.timeouts.makeKeyOnLeaveDelayMs, out);
      }
    }
    if (joiners.length > 0 && this.#active && this.#config.e2eeEnabled) {
      this.#rotateOnJoin(joiners, now, out);
    }
    for (const joiner of joiners) {
      this.#releaseHeld(joiner, now, out);
    }
  }

  #toMember(membership: ParsedMembership): Member {
    const dialect: KeyDialect = membership.dialect;
    return {
      userId: membership.userId,
      deviceId: membership.deviceId,
      dialect,
      membershipId: membership.membershipId,
    };
  }

  /** Join (reference §7, PROTOCOL K1): ratchet, reuse a key younger than the join delay, or make a new one. */
  #rotateOnJoin(joiners: readonly Member[], now: number, out: KeyAction[]): void {
    if (this.#latest === undefined) {
      this.#newKey(now, false, "new", out);
      return;
    }
    if (this.#config.ratchet) {
      out.push({ kind: "ratchet", index: this.#latest, sendTo: joiners.map(plainDevice) });
      return;
    }
    if (now - this.#lastNewKeyAt < this.#config.timeouts.makeKeyOnJoinDelayMs) {
      this.#sendOwn(joiners.map(recipientOf), "reuse", out);
      return;
    }
    this.#newKey(now, true, "join", out);
  }

  #onPreShare(now: number, out: KeyAction[]): void {
    if (!this.#config.e2eeEnabled) {
      return;
    }
    if (this.#latest !== undefined && now - this.#lastNewKeyAt < this.#config.timeouts.makeKeyOnJoinDelayMs) {
      this.#sendOwn(this.#recipients(), "reuse", out);
      return;
    }
    this.#newKey(now, false, "new", out);
  }

  #onEnter(now: number, out: KeyAction[]): void {
    if (this.#active) {
      return;
    }
    this.#active = true;
    if (!this.#config.e2eeEnabled) {
      return;
    }
    if (this.#latest === undefined) {
      this.#newKey(now, false, "new", out);
      return;
    }
    // A pre-shared key may have been dropped by members who did not know us yet (PROTOCOL K5): send it again.
    this.#sendOwn(this.#recipients(), "enter", out);
  }

  #onKeys(arrival: Arrival, keys: readonly ReceivedKeyEntry[], out: KeyAction[]): void {
    if (!this.#accept(arrival, "keys", out)) {
      return;
    }
    const id = deviceKey(arrival.from);
    if (!this.#members.has(id)) {
      this.#hold(id, { kind: "keys", arrival, keys }, out);
      return;
    }
    out.push(...this.#received.apply(arrival.from, keys));
  }

  #onRequest(arrival: Arrival, now: number, out: KeyAction[]): void {
    if (!this.#accept(arrival, "request", out)) {
      return;
    }
    const id = deviceKey(arrival.from);
    if (!this.#members.has(id)) {
      this.#hold(id, { kind: "request", arrival }, out);
      return;
    }
    this.#answer(arrival, now, out);
  }

  #answer(arrival: Arrival, now: number, out: KeyAction[]): void {
    if (!this.#config.e2eeEnabled) {
      return;
    }
    if (this.#latest === undefined) {
      if (this.#active) {
        this.#newKey(now, false, "new", out);
      } else {
        out.push({ kind: "dropped", what: "request", why: "we have no key yet", from: arrival.from });
      }
      return;
    }
    const latest = this.#ownKey(this.#latest);
    if (latest === undefined) {
      return;
    }
    const to: KeyRecipient = {
      userId: arrival.from.userId,
      deviceId: arrival.from.deviceId,
      dialect: arrival.dialect,
    };
    out.push({ kind: "sendKeys", keys: [latest], to: [to], reason: "reply" });
  }

  /** PROTOCOL G5: own echoes, plaintext in an encrypted room and a device claim the Olm sender contradicts. */
  #accept(arrival: Arrival, what: string, out: KeyAction[]): boolean {
    const why = rejectArrival(arrival, this.#localId, this.#config.e2eeEnabled);
    if (why !== undefined) {
      out.push({ kind: "dropped", what, why, from: arrival.from });
      return false;
    }
    return true;
  }

  #hold(id: string, item: HeldItem, out: KeyAction[]): void {
    if (this.#received.hold(id, item)) {
      this.#arm(`${HOLD_PREFIX}${id}`, this.#config.timeouts.earlyEventHoldMs, out);
    }
  }

  #releaseHeld(member: Member, now: number, out: KeyAction[]): void {
    const id = deviceKey(member);
    const queue = this.#received.release(id);
    if (queue === undefined) {
      return;
    }
    this.#disarm(`${HOLD_PREFIX}${id}`, out);
    let answered = false;
    for (const item of queue) {
      if (item.kind === "keys") {
        out.push(...this.#received.apply(item.arrival.from, item.keys));
      } else if (!answered) {
        answered = true;
        this.#answer(item.arrival, now, out);
      }
    }
  }

  #onRequestKeys(from: readonly DeviceRef[], out: KeyAction[]): void {
    const to: KeyRecipient[] = [];
    const seen = new Set<string>();
    for (const device of from) {
      const id = deviceKey(device);
      if (id === this.#localId || seen.has(id)) {
        continue;
      }
      seen.add(id);
      const member = this.#members.get(id);
      to.push({
        userId: device.userId,
        deviceId: device.deviceId,
        dialect: member?.dialect ?? this.#config.defaultDialect,
      });
    }
    if (to.length > 0) {
      out.push({ kind: "sendRequest", to });
    }
  }

  #onTimer(id: string, now: number, out: KeyAction[]): void {
    if (!this.#armed.delete(id)) {
      return; // cleared meanwhile
    }
    if (id === LEAVE_TIMER) {
      if (this.#active && this.#config.e2eeEnabled) {
        this.#newKey(now, this.#current !== undefined, "leave", out);
      }
      return;
    }
    if (id.startsWith(USE_PREFIX)) {
      const pending = this.#pendingUse.get(id);
      this.#pendingUse.delete(id);
      if (pending !== undefined) {
        this.#use(pending.index, pending.key, out);
      }
      return;
    }
    if (id.startsWith(HOLD_PREFIX)) {
      const participant = id.slice(HOLD_PREFIX.length);
      const queue = this.#received.release(participant);
      if (queue !== undefined) {
        const from = queue[0]?.arrival.from;
        out.push({
          kind: "dropped",
          what: `${queue.length} early key event(s)`,
          why: "the sender's membership did not appear within the hold time",
          ...(from === undefined ? {} : { from }),
        });
      }
    }
  }

  #onRatcheted(
    index: number,
    key: Uint8Array | undefined,
    sendTo: readonly DeviceRef[],
    now: number,
    out: KeyAction[],
  ): void {
    if (!this.#active || !this.#config.e2eeEnabled || this.#latest !== index) {
      return; // left, or a newer key was made meanwhile
    }
    if (key === undefined || key.length === 0) {
      this.#newKey(now, true, "join", out);
      return;
    }
    this.#ownKeys.set(index, key);
    this.#lastNewKeyAt = now;
    const to = sendTo.flatMap((device) => {
      const member = this.#members.get(deviceKey(device));
      return member === undefined ? [] : [recipientOf(member)];
    });
    if (to.length > 0) {
      out.push({ kind: "sendKeys", keys: [{ index, key }], to, reason: "ratchet" });
    }
  }

  #onDispose(out: KeyAction[]): void {
    for (const id of this.#armed) {
      out.push({ kind: "clearTimer", id });
    }
    this.#armed.clear();
    this.#pendingUse.clear();
    this.#received.clearHeld();
    this.#ownKeys.clear();
    this.#latest = undefined;
    this.#current = undefined;
    this.#lastNewKeyAt = Number.NEGATIVE_INFINITY;
    this.#active = false;
  }

  /** A new key at the next index, sent to every member before we use it (at once, or after the use delay). */
  #newKey(now: number, delayUse: boolean, reason: string, out: KeyAction[]): void {
    const index = this.#counter % this.#config.keyRingSize;
    this.#counter++;
    const key = this.#config.random.bytes(KEY_LENGTH);
    this.#ownKeys.set(index, key);
    this.#latest = index;
    this.#lastNewKeyAt = now;
    const to = this.#recipients();
    if (to.length > 0) {
      out.push({ kind: "sendKeys", keys: [{ index, key }], to, reason });
    }
    if (delayUse && this.#current !== undefined) {
      const id = `${USE_PREFIX}${index}:${++this.#useSeq}`;
      this.#pendingUse.set(id, { index, key });
      this.#arm(id, this.#config.timeouts.useKeyDelayMs, out);
    } else {
      this.#use(index, key, out);
    }
  }

  #use(index: number, key: Uint8Array, out: KeyAction[]): void {
    this.#current = index;
    out.push({ kind: "setKey", participant: this.#config.local, isLocal: true, index, key });
  }

  /**
   * Our latest key only: a joiner during the use delay does not get the key still in use (it could decrypt media
   * from before it joined); it decrypts us once the latest is in use, as in the reference.
   */
  #sendOwn(to: KeyRecipient[], reason: string, out: KeyAction[]): void {
    const latest = this.#ownKey(this.#latest);
    if (to.length === 0 || latest === undefined) {
      return;
    }
    out.push({ kind: "sendKeys", keys: [latest], to, reason });
  }

  #ownKey(index: number | undefined): OutgoingKey | undefined {
    const key = index === undefined ? undefined : this.#ownKeys.get(index);
    return index === undefined || key === undefined ? undefined : { index, key };
  }

  #recipients(): KeyRecipient[] {
    return [...this.#members.values()].map(recipientOf);
  }

  #arm(id: string, delayMs: number, out: KeyAction[]): void {
    if (this.#armed.has(id)) {
      out.push({ kind: "clearTimer", id });
    }
    this.#armed.add(id);
    out.push({ kind: "setTimer", id, delayMs });
  }

  #disarm(id: string, out: KeyAction[]): void {
    if (this.#armed.delete(id)) {
      out.push({ kind: "clearTimer", id });
    }
  }
}

function recipientOf(member: Member): KeyRecipient {
  return { userId: member.userId, deviceId: member.deviceId, dialect: member.dialect };
}

function plainDevice(device: DeviceRef): DeviceRef {
  return { userId: device.userId, deviceId: device.deviceId };
}
