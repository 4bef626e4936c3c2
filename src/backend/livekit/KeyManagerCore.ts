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
  type KeyInput,
  type KeyRecipient,
  type OutgoingKey,
  type ReceivedKeyEntry,
} from "./keyTypes.js";
import { rejectArrival } from "./keyRules.js";
import { ReceivedKeys, type HeldItem } from "./ReceivedKeys.js";
import { KeyMembers, recipientOf, type KeyMember } from "./KeyMembers.js";
import { ElementTransports, type ElementKeyTransport } from "./elementTransport.js";

/** Our media keys are 32 random bytes (reference §7, PROTOCOL K6). */
export const KEY_LENGTH = 32;
/** Timer id of the debounce before a new key after someone left. */
export const LEAVE_TIMER = "rotate-on-leave";
const USE_PREFIX = "use:";
const HOLD_PREFIX = "hold:";

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
  readonly #members: KeyMembers;
  readonly #received = new ReceivedKeys();
  readonly #ownKeys = new Map<number, Uint8Array>();
  readonly #pendingUse = new Map<string, { index: number; key: Uint8Array }>();
  readonly #armed = new Set<string>();
  readonly #transports: ElementTransports;
  #counter: number;
  #useSeq = 0;
  #latest: number | undefined;
  #current: number | undefined;
  #lastNewKeyAt = Number.NEGATIVE_INFINITY;
  #active = false;
  /** Room-event keys are for the call's members: taken once we pre-shared or entered, until dispose. */
  #joining = false;

  public constructor(config: KeyCoreConfig) {
    if (!Number.isInteger(config.keyRingSize) || config.keyRingSize < 1) {
      throw new TypeError(`keyRingSize must be a positive integer, got ${String(config.keyRingSize)}`);
    }
    this.#config = config;
    this.#localId = deviceKey(config.local);
    this.#members = new KeyMembers(this.#localId);
    this.#counter = config.indexCounter ?? 0;
    this.#transports = new ElementTransports(config.elementTransport ?? "auto");
  }

  /** Changes how our keys go to Element members (see `elementTransport.ts`). */
  public setElementTransport(mode: ElementKeyTransport): void {
    this.#transports.setMode(mode);
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
    return this.#members.get(deviceKey(device)) !== undefined;
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
    const rotating = this.#active && this.#config.e2eeEnabled;
    const delta = this.#members.apply(joined, left, rotating);
    for (const device of delta.gone) {
      this.#received.forget(deviceKey(device));
      this.#transports.forget(deviceKey(device));
    }
    for (const id of delta.newSessions) {
      // Same device, new session (an app restart): its old keys are gone and it needs ours again.
      this.#received.forget(id);
    }
    if (delta.gone.length > 0) {
      out.push({ kind: "forget", devices: delta.gone });
      if (rotating) {
        this.#arm(LEAVE_TIMER, this.#config.timeouts.makeKeyOnLeaveDelayMs, out);
      }
    }
    if (delta.allBack) {
      // Every device that left is back before the rotation on leave (a flapping membership): no one to exclude.
      this.#members.rotationDue();
      this.#disarm(LEAVE_TIMER, out);
    }
    if (rotating) {
      // A returning device held our key until it left a moment ago: it gets our latest again, no rotation.
      this.#sendOwn(delta.returners.map(recipientOf), "rejoin", out);
      if (delta.joiners.length > 0) {
        this.#rotateOnJoin(delta.joiners, now, out);
      }
    }
    for (const member of [...delta.returners, ...delta.joiners]) {
      this.#releaseHeld(member, now, out);
    }
  }

  /** Join (reference §7, PROTOCOL K1): ratchet, reuse a key younger than the join delay, or make a new one. */
  #rotateOnJoin(joiners: readonly KeyMember[], now: number, out: KeyAction[]): void {
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
    this.#joining = true;
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
    this.#joining = true;
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
    if (arrival.way === "room" && !this.#joining) {
      // A room event reaches everyone in the room; to-device keys go to the call's members only. Do the same.
      out.push({
        kind: "dropped",
        what: "keys",
        why: "a key room event while we are not in the call",
        from: arrival.from,
      });
      return;
    }
    const id = deviceKey(arrival.from);
    if (this.#members.get(id) === undefined) {
      this.#hold(id, { kind: "keys", arrival, keys }, out);
      return;
    }
    this.#applyKeys(arrival, keys, out);
  }

  /**
   * Keys of a member: Element key events only from a device with an Element membership (PROTOCOL G5); the way an
   * Element member's keys come tells how ours go to it (`auto`), and a change sends it our key the new way.
   */
  #applyKeys(arrival: Arrival, keys: readonly ReceivedKeyEntry[], out: KeyAction[]): void {
    const member = this.#members.get(deviceKey(arrival.from));
    if (member === undefined) {
      return;
    }
    if (arrival.dialect === "element" && member.dialect !== "element") {
      out.push({ kind: "dropped", what: "keys", why: "an Element key event without an Element membership" });
      return;
    }
    out.push(...this.#received.apply(arrival.from, keys));
    if (
      member.dialect === "element" &&
      this.#transports.observe(deviceKey(member), arrival.way ?? "toDevice", this.#roomAllowed())
    ) {
      this.#sendOwn([recipientOf(member)], "transport", out);
    }
  }

  #onRequest(arrival: Arrival, now: number, out: KeyAction[]): void {
    if (!this.#accept(arrival, "request", out)) {
      return;
    }
    const id = deviceKey(arrival.from);
    if (this.#members.get(id) === undefined) {
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
    this.#send([latest], [to], "reply", out);
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

  #releaseHeld(member: KeyMember, now: number, out: KeyAction[]): void {
    const id = deviceKey(member);
    const queue = this.#received.release(id);
    if (queue === undefined) {
      return;
    }
    this.#disarm(`${HOLD_PREFIX}${id}`, out);
    let answered = false;
    for (const item of queue) {
      if (item.kind === "keys") {
        this.#applyKeys(item.arrival, item.keys, out);
      } else if (!answered) {
        answered = true;
        this.#answer(item.arrival, now, out);
      }
    }
  }

  #onRequestKeys(from: readonly DeviceRef[], out: KeyAction[]): void {
    const to = this.#members.requestTargets(from, this.#config.defaultDialect);
    if (to.length > 0) {
      out.push({ kind: "sendRequest", to });
    }
  }

  #onTimer(id: string, now: number, out: KeyAction[]): void {
    if (!this.#armed.delete(id)) {
      return; // cleared meanwhile
    }
    if (id === LEAVE_TIMER) {
      this.#members.rotationDue();
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
    this.#send([{ index, key }], to, "ratchet", out);
  }

  #onDispose(out: KeyAction[]): void {
    for (const id of this.#armed) {
      out.push({ kind: "clearTimer", id });
    }
    this.#armed.clear();
    this.#members.rotationDue();
    this.#transports.clear();
    this.#pendingUse.clear();
    this.#received.clearHeld();
    this.#ownKeys.clear();
    this.#latest = undefined;
    this.#current = undefined;
    this.#lastNewKeyAt = Number.NEGATIVE_INFINITY;
    this.#active = false;
    this.#joining = false;
  }

  /** A new key at the next index, sent to every member before we use it (at once, or after the use delay). */
  #newKey(now: number, delayUse: boolean, reason: string, out: KeyAction[]): void {
    const index = this.#counter % this.#config.keyRingSize;
    this.#counter++;
    const key = this.#config.random.bytes(KEY_LENGTH);
    this.#ownKeys.set(index, key);
    this.#latest = index;
    this.#lastNewKeyAt = now;
    this.#send([{ index, key }], this.#recipients(), reason, out);
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
    if (latest !== undefined) {
      this.#send([latest], to, reason, out);
    }
  }

  #send(keys: OutgoingKey[], to: readonly KeyRecipient[], reason: string, out: KeyAction[]): void {
    out.push(...this.#transports.route(keys, to, reason, this.#roomAllowed()));
  }

  #roomAllowed(): boolean {
    return this.#config.roomKeysAllowed?.() ?? false;
  }

  #ownKey(index: number | undefined): OutgoingKey | undefined {
    const key = index === undefined ? undefined : this.#ownKeys.get(index);
    return index === undefined || key === undefined ? undefined : { index, key };
  }

  #recipients(): KeyRecipient[] {
    return this.#members.recipients();
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

function plainDevice(device: DeviceRef): DeviceRef {
  return { userId: device.userId, deviceId: device.deviceId };
}
