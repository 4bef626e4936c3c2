/**
 * The I/O shell around {@link KeyManagerCore}: feeds it membership changes, to-device key events, Element key room
 * events and the clock, and carries out its actions: timers on the injected `Clock`, keys on the app's
 * `EncryptionKeyProvider` (one at a time, in order), key events and requests through {@link KeyDelivery}, Element
 * key room events through {@link RoomKeySender}.
 * Internal to the library.
 */
import { CallParticipant } from "../../call/CallParticipant.js";
import type { Clock, TimerHandle } from "../../core/Clock.js";
import type { VoipError } from "../../core/errors.js";
import type { Logger } from "../../core/Logger.js";
import { encodeBase64, type RandomSource } from "../../core/random.js";
import type { RetryPolicy } from "../../core/retry.js";
import { SerialQueue } from "../../core/SerialQueue.js";
import type { EncryptionKeyProvider } from "../../group/EncryptionKeyProvider.js";
import { KeyEventType } from "../../matrix/eventTypes.js";
import type { MatrixClientPort, RoomEvent, ToDeviceEvent } from "../../matrix/MatrixClientPort.js";
import { parseContent } from "../../matrix/parse.js";
import type { ElementKeysContent } from "../../matrix/schemas/keys.js";
import type { ParsedMembership } from "../../matrix/schemas/membership.js";
import { KEY_RETRY_POLICY, KeyDelivery, type KeyDeliveryStats } from "./KeyDelivery.js";
import type { ElementKeyTransport } from "./elementTransport.js";
import { RoomKeySender } from "./RoomKeySender.js";
import { KeyManagerCore, type HeldKey } from "./KeyManagerCore.js";
import type {
  DeviceRef,
  KeyAction,
  KeyDialect,
  KeyInput,
  KeyRecipient,
  KeyTimeouts,
  OutgoingKey,
} from "./keyTypes.js";

/** Up to this many `onRatchetKey` attempts until the provider returns a key (the reference's 9). */
export const RATCHET_ATTEMPTS = 9;

const KEY_TYPES: Readonly<Record<KeyDialect, string>> = {
  "famedly-v1": KeyEventType.KeysV1,
  "famedly-v2": KeyEventType.KeysV2,
  element: KeyEventType.KeysElement,
};
const REQUEST_TYPES: Readonly<Record<KeyDialect, string>> = {
  "famedly-v1": KeyEventType.RequestV1,
  "famedly-v2": KeyEventType.RequestV2,
  element: KeyEventType.RequestV2, // never used: element devices are not asked (Element has no key request)
};

/** What a {@link LiveKitKeyManager} needs. @internal */
export interface LiveKitKeyManagerOptions {
  client: MatrixClientPort;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  roomId: string;
  groupCallId: string;
  keyProvider?: EncryptionKeyProvider | undefined;
  timeouts: KeyTimeouts;
  keyRingSize: number;
  ratchet: boolean;
  e2eeEnabled: boolean;
  allowPlaintextKeys: boolean;
  defaultDialect: KeyDialect;
  /** How our keys go to Element members (default `"auto"`; see `elementTransport.ts`). */
  elementKeyTransport?: ElementKeyTransport;
  /** Where our key index counter starts (it lives on the backend, so it survives a rejoin). */
  indexCounter?: number;
  /** A key was installed (ours after the use delay, a member's at once). */
  onKeysChanged: (participant: CallParticipant, index: number) => void;
  /** A key event or request could not be delivered (PROTOCOL K2). */
  onError: (error: VoipError) => void;
  /** Override of the delivery retry policy (tests). */
  retryPolicy?: Readonly<RetryPolicy>;
}

/** See the file comment. @internal */
export class LiveKitKeyManager {
  readonly #options: LiveKitKeyManagerOptions;
  readonly #core: KeyManagerCore;
  readonly #delivery: KeyDelivery;
  readonly #roomKeys: RoomKeySender;
  readonly #timers = new Map<string, TimerHandle>();
  readonly #provider = new SerialQueue();
  readonly #local: CallParticipant;
  readonly #log: Logger;
  readonly #inFlight = new Set<Promise<unknown>>();
  #disposed = false;

  public constructor(options: LiveKitKeyManagerOptions) {
    this.#options = options;
    this.#log = options.logger;
    this.#local = new CallParticipant(options.client.userId, options.client.deviceId, true);
    this.#core = new KeyManagerCore({
      local: { userId: options.client.userId, deviceId: options.client.deviceId },
      keyRingSize: options.keyRingSize,
      ratchet: options.ratchet,
      e2eeEnabled: options.e2eeEnabled,
      defaultDialect: options.defaultDialect,
      timeouts: options.timeouts,
      random: options.random,
      ...(options.indexCounter === undefined ? {} : { indexCounter: options.indexCounter }),
      elementTransport: options.elementKeyTransport ?? "auto",
      // A key room event is Megolm-encrypted in an encrypted room; in a plain one it would be cleartext (K3).
      roomKeysAllowed: () => this.#roomEncrypted() || options.allowPlaintextKeys,
    });
    this.#roomKeys = new RoomKeySender({
      client: options.client,
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      roomId: options.roomId,
      policy: options.retryPolicy ?? KEY_RETRY_POLICY,
      onGiveUp: (error) => {
        options.onError(error);
      },
    });
    this.#delivery = new KeyDelivery({
      client: options.client,
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      roomEncrypted: () => this.#roomEncrypted(),
      allowPlaintextKeys: options.allowPlaintextKeys,
      stillWanted: (recipient) => this.#core.isMember(recipient),
      onGiveUp: (error) => {
        options.onError(error);
      },
      ...(options.retryPolicy === undefined ? {} : { policy: options.retryPolicy }),
    });
  }

  /** The index counter, for the backend to carry over to the next session. */
  public get indexCounter(): number {
    return this.#core.indexCounter;
  }

  /** Index of our newest key, or `undefined`. */
  public get latestLocalKeyIndex(): number | undefined {
    return this.#core.latestLocalKeyIndex;
  }

  /** Index of the key we encrypt with, or `undefined`. */
  public get currentLocalKeyIndex(): number | undefined {
    return this.#core.currentLocalKeyIndex;
  }

  /** Every (participant, index) key held, ours included. */
  public heldKeys(): HeldKey[] {
    return this.#core.heldKeys();
  }

  /** Changes how our keys go to Element members. */
  public setElementKeyTransport(mode: ElementKeyTransport): void {
    this.#core.setElementTransport(mode);
  }

  /** Key room events sent. */
  public get roomKeyEventsSent(): number {
    return this.#roomKeys.sent;
  }

  /** Delivery counters (sendToDevice calls, failures, give-ups). */
  public get deliveryStats(): Readonly<KeyDeliveryStats> {
    return this.#delivery.stats;
  }

  /** Membership changed: devices joined (or re-published their membership) and devices left. */
  public membershipChanged(joined: readonly ParsedMembership[], left: readonly DeviceRef[]): void {
    if (joined.length > 0 || left.length > 0) {
      void this.#input({ kind: "membership", joined, left, now: this.#options.clock.now() });
    }
  }

  /** Shares our key (a recent one, or a new one used at once) with the current members, before entering. */
  public preShareKey(): Promise<void> {
    return this.#input({ kind: "preShare", now: this.#options.clock.now() });
  }

  /** We entered: every member gets our key, and from now on joins and leaves rotate it. */
  public enter(): Promise<void> {
    return this.#input({ kind: "enter", now: this.#options.clock.now() });
  }

  /** Asks these devices for their current key. */
  public requestEncryptionKey(participants: readonly DeviceRef[]): Promise<void> {
    return this.#input({ kind: "requestKeys", from: participants, now: this.#options.clock.now() });
  }

  /**
   * A to-device event: handled and `true` when it is a famedly key event or request for this call (`room_id` and
   * `conf_id`), else `false` (not ours; invalid content is dropped with a debug line by the parser).
   */
  public handleToDevice(event: ToDeviceEvent): boolean {
    if (!isKeyEventType(event.type) || this.#disposed) {
      return false;
    }
    const parsed = parseContent(event.type, event.content, this.#log, { transport: "toDevice" });
    if (parsed.ok && parsed.kind === "elementKeys") {
      return this.#handleElementKeys(event, parsed.content);
    }
    if (!parsed.ok || (parsed.kind !== "keys" && parsed.kind !== "keyRequest")) {
      return false;
    }
    const content = parsed.content;
    if (content.room_id !== this.#options.roomId || content.conf_id !== this.#options.groupCallId) {
      return false;
    }
    const arrival = {
      from: { userId: event.sender, deviceId: content.device_id },
      encrypted: event.encrypted,
      ...(event.senderDevice === undefined ? {} : { senderDevice: event.senderDevice }),
      roomEncrypted: this.#roomEncrypted(),
      dialect: parsed.dialect,
    };
    const now = this.#options.clock.now();
    void this.#input(
      parsed.kind === "keys"
        ? { kind: "keys", arrival, keys: parsed.content.keys, now }
        : { kind: "request", arrival, now },
    );
    return true;
  }

  /**
   * An Element key event (`io.element.call.encryption_keys` to-device, matrix-js-sdk's shape): one `{index, key}`
   * from `member.claimed_device_id`, for this room and the call id of `session` (`""` when absent). The sender's
   * membership and the encryption are checked by the core (PROTOCOL G5).
   */
  #handleElementKeys(event: ToDeviceEvent, content: ElementKeysContent): boolean {
    if (
      content.room_id !== this.#options.roomId ||
      (content.session?.call_id ?? "") !== this.#options.groupCallId
    ) {
      return false;
    }
    const arrival = {
      from: { userId: event.sender, deviceId: content.member.claimed_device_id },
      encrypted: event.encrypted,
      ...(event.senderDevice === undefined ? {} : { senderDevice: event.senderDevice }),
      roomEncrypted: this.#roomEncrypted(),
      dialect: "element" as const,
    };
    void this.#input({ kind: "keys", arrival, keys: [content.keys], now: this.#options.clock.now() });
    return true;
  }

  /**
   * An Element key room event (`io.element.call.encryption_keys`, matrix-js-sdk ≤ v41.0's default) in our room: the
   * sender's keys for the call named by `call_id`. Handled and `true` when it is for this call; the sender's
   * Element membership, our own echoes and the encryption (never a cleartext key in an encrypted room) are checked
   * by the core (PROTOCOL G5, K3).
   */
  public handleRoomEvent(event: RoomEvent): boolean {
    if (event.type !== KeyEventType.KeysElement || event.roomId !== this.#options.roomId || this.#disposed) {
      return false;
    }
    const parsed = parseContent(event.type, event.content, this.#log, { transport: "room" });
    if (!parsed.ok || parsed.kind !== "elementRoomKeys") {
      return false;
    }
    if (parsed.content.call_id !== this.#options.groupCallId) {
      return false;
    }
    const arrival = {
      from: { userId: event.sender, deviceId: parsed.content.device_id },
      encrypted: event.encrypted === true,
      roomEncrypted: this.#roomEncrypted(),
      dialect: "element" as const,
      way: "room" as const,
    };
    void this.#input({ kind: "keys", arrival, keys: parsed.content.keys, now: this.#options.clock.now() });
    return true;
  }

  /** Resolves when every send, provider call and ratchet started so far has finished (tests, demo). */
  public async settled(): Promise<void> {
    while (this.#inFlight.size > 0) {
      await Promise.allSettled([...this.#inFlight]);
    }
  }

  /** Resolves when no key event or request waits for a retry. */
  public whenDelivered(): Promise<void> {
    return this.#delivery.whenIdle();
  }

  /** Forgets our keys, cancels every timer and retry. The manager stays usable for a new `preShareKey`/`enter`. */
  public dispose(): void {
    void this.#input({ kind: "dispose" });
    for (const handle of this.#timers.values()) {
      this.#options.clock.clearTimer(handle);
    }
    this.#timers.clear();
    this.#delivery.dispose();
    this.#roomKeys.dispose();
  }

  /** Shuts the manager down for good (the group call ended). */
  public close(): void {
    this.dispose();
    this.#disposed = true;
  }

  #input(input: KeyInput): Promise<void> {
    if (this.#disposed) {
      return Promise.resolve();
    }
    const work: Promise<unknown>[] = [];
    for (const action of this.#core.handle(input)) {
      const promise = this.#perform(action);
      if (promise !== undefined) {
        work.push(promise);
      }
    }
    const all = Promise.all(work).then(() => undefined);
    this.#track(all);
    return all;
  }

  #perform(action: KeyAction): Promise<unknown> | undefined {
    switch (action.kind) {
      case "sendKeys":
        this.#log.debug("sending keys", {
          reason: action.reason,
          indices: action.keys.map((k) => k.index),
          recipients: action.to.length,
        });
        return this.#sendKeys(action.keys, action.to);
      case "sendRoomKeys":
        this.#log.debug("sending keys as a room event", {
          reason: action.reason,
          indices: action.keys.map((k) => k.index),
        });
        return this.#roomKeys.send(KeyEventType.KeysElement, () => this.#elementRoomContent(action.keys));
      case "sendRequest":
        return this.#delivery.send(
          "key request",
          REQUEST_TYPES,
          this.#requestContent(),
          action.to.filter((to) => to.dialect !== "element"),
          false,
        );
      case "setKey":
        return this.#setKey(action.participant, action.isLocal, action.key, action.index);
      case "ratchet":
        return this.#ratchet(action.index, action.sendTo);
      case "forget":
        this.#delivery.forget(action.devices);
        return undefined;
      case "setTimer":
        this.#setTimer(action.id, action.delayMs);
        return undefined;
      case "clearTimer":
        this.#options.clock.clearTimer(this.#timers.get(action.id));
        this.#timers.delete(action.id);
        return undefined;
      case "dropped":
        this.#log.debug(
          `dropped ${action.what}: ${action.why}`,
          action.from === undefined ? undefined : { ...action.from },
        );
        return undefined;
    }
  }

  #setTimer(id: string, delayMs: number): void {
    this.#options.clock.clearTimer(this.#timers.get(id));
    this.#timers.set(
      id,
      this.#options.clock.setTimeout(() => {
        this.#timers.delete(id);
        void this.#input({ kind: "timer", id, now: this.#options.clock.now() });
      }, delayMs),
    );
  }

  #setKey(device: DeviceRef, isLocal: boolean, key: Uint8Array, index: number): Promise<void> {
    const participant = isLocal ? this.#local : new CallParticipant(device.userId, device.deviceId);
    return this.#provider.run(async () => {
      const provider = this.#options.keyProvider;
      try {
        await provider?.onSetEncryptionKey(participant, key, index);
      } catch (error) {
        this.#log.warn("the key provider failed to set a key", {
          participant: participant.id,
          index,
          error: String(error),
        });
        return;
      }
      this.#options.onKeysChanged(participant, index);
    });
  }

  async #ratchet(index: number, sendTo: readonly DeviceRef[]): Promise<void> {
    const provider = this.#options.keyProvider;
    let key: Uint8Array | undefined;
    for (
      let attempt = 0;
      provider !== undefined && attempt < RATCHET_ATTEMPTS && key === undefined;
      attempt++
    ) {
      try {
        const result = await this.#provider.run(() => provider.onRatchetKey(this.#local, index));
        key = result.length > 0 ? result : undefined;
      } catch (error) {
        this.#log.warn("the key provider failed to ratchet", { index, attempt, error: String(error) });
      }
    }
    if (provider === undefined) {
      this.#log.warn("ratchet mode needs a keyProvider on the delegate; making a new key instead");
    }
    await this.#input({ kind: "ratcheted", index, key, sendTo, now: this.#options.clock.now() });
  }

  /** Famedly devices get one event with every key; Element devices one event per key in matrix-js-sdk's shape. */
  async #sendKeys(keys: readonly OutgoingKey[], to: readonly KeyRecipient[]): Promise<void> {
    const famedly = to.filter((r) => r.dialect !== "element");
    const element = to.filter((r) => r.dialect === "element");
    const sends: Promise<unknown>[] = [];
    if (famedly.length > 0) {
      sends.push(this.#delivery.send("encryption keys", KEY_TYPES, this.#keysContent(keys), famedly, true));
    }
    if (element.length > 0) {
      for (const key of keys) {
        sends.push(
          this.#delivery.send("encryption keys", KEY_TYPES, this.#elementKeyContent(key), element, true),
        );
      }
    }
    await Promise.all(sends);
  }

  /** `io.element.call.encryption_keys` to-device as matrix-js-sdk reads it (unpadded base64). */
  #elementKeyContent(key: OutgoingKey): Record<string, unknown> {
    return {
      keys: { index: key.index, key: encodeBase64(key.key).replace(/=+$/, "") },
      member: { claimed_device_id: this.#options.client.deviceId },
      room_id: this.#options.roomId,
      session: { application: "m.call", call_id: this.#options.groupCallId, scope: "m.room" },
    };
  }

  /** `io.element.call.encryption_keys` as a room event, as matrix-js-sdk 37.5 reads it (unpadded base64). */
  #elementRoomContent(keys: readonly OutgoingKey[]): Record<string, unknown> {
    return {
      keys: keys.map((k) => ({ index: k.index, key: encodeBase64(k.key).replace(/=+$/, "") })),
      device_id: this.#options.client.deviceId,
      call_id: this.#options.groupCallId,
      sent_ts: this.#options.clock.now(),
    };
  }

  #keysContent(keys: readonly OutgoingKey[]): Record<string, unknown> {
    return {
      keys: keys.map((k) => ({ index: k.index, key: encodeBase64(k.key) })),
      call_id: this.#options.groupCallId,
      conf_id: this.#options.groupCallId,
      device_id: this.#options.client.deviceId,
      room_id: this.#options.roomId,
    };
  }

  #requestContent(): Record<string, unknown> {
    return {
      conf_id: this.#options.groupCallId,
      device_id: this.#options.client.deviceId,
      room_id: this.#options.roomId,
    };
  }

  /** Unknown rooms count as encrypted: never risk plaintext keys (PROTOCOL K3). */
  #roomEncrypted(): boolean {
    return this.#options.client.getRoom(this.#options.roomId)?.encrypted ?? true;
  }

  #track(promise: Promise<unknown>): void {
    this.#inFlight.add(promise);
    void promise.finally(() => this.#inFlight.delete(promise));
  }
}

const KEY_EVENT_TYPES = new Set<string>(Object.values(KeyEventType));

/** The to-device key event and request types (famedly's and Element's). */
function isKeyEventType(type: string): boolean {
  return KEY_EVENT_TYPES.has(type);
}
