/**
 * Inputs and outputs of the SFU key manager's pure core ({@link KeyManagerCore}): membership changes, received key
 * events and requests, timers and app calls go in; keys to send, keys to set, ratchets and timers come out.
 * Dialect-neutral (PROTOCOL P3): a recipient carries the dialect its message is written in.
 * Internal to the library.
 */
import type { RandomSource } from "../../core/random.js";
import type { ParsedMembership } from "../../matrix/schemas/membership.js";
import type { CallTimeouts } from "../../call/timeouts.js";
import type { ElementKeyTransport } from "../../group/elementKeyTransport.js";

/** The way one key event travels: Olm to-device, or an Element key room event. @internal */
export type KeyWay = "room" | "toDevice";

/** The dialects a key event can be written in (PROTOCOL §1; element has no key request). @internal */
export type KeyDialect = "famedly-v1" | "famedly-v2" | "element";

/** One device, `${userId}:${deviceId}` being its id. @internal */
export interface DeviceRef {
  /** The Matrix user id. */
  readonly userId: string;
  /** The device id. */
  readonly deviceId: string;
}

/** A device a message goes to, and the dialect it is written in (PROTOCOL P2). @internal */
export interface KeyRecipient extends DeviceRef {
  /** The dialect of the message. */
  readonly dialect: KeyDialect;
}

/** One of our keys on its way out. @internal */
export interface OutgoingKey {
  /** Its ring index. */
  readonly index: number;
  /** The raw key bytes. */
  readonly key: Uint8Array;
}

/** The timings the core uses. @internal */
export type KeyTimeouts = Pick<
  CallTimeouts,
  "makeKeyOnLeaveDelayMs" | "makeKeyOnJoinDelayMs" | "useKeyDelayMs" | "earlyEventHoldMs"
>;

/** Configuration of a {@link KeyManagerCore}. @internal */
export interface KeyCoreConfig {
  /** Our own device. */
  readonly local: DeviceRef;
  /** Index modulus of our keys (default 16). */
  readonly keyRingSize: number;
  /** Ratchet our key on join instead of making a new one (`enableSFUE2EEKeyRatcheting`). */
  readonly ratchet: boolean;
  /** `LiveKitBackend.e2eeEnabled`: without it the core does nothing. */
  readonly e2eeEnabled: boolean;
  /** The dialect written to a device whose membership dialect is unknown or not famedly (PROTOCOL P2). */
  readonly defaultDialect: KeyDialect;
  /** Key delays and the hold time of early keys (PROTOCOL K5, K6). */
  readonly timeouts: KeyTimeouts;
  /** Where key bytes come from (a CSPRNG outside tests). */
  readonly random: RandomSource;
  /** Where the index counter starts (it survives `dispose`, as the reference's does; reference §10.2). */
  readonly indexCounter?: number;
  /** How our keys go to Element members (default `"auto"`; see `elementTransport.ts`). */
  readonly elementTransport?: ElementKeyTransport;
  /**
   * Whether a key room event would not be cleartext now (an encrypted room, or `allowPlaintextKeys`; PROTOCOL K3).
   * Default: never (Element members then get to-device keys only).
   */
  readonly roomKeysAllowed?: () => boolean;
}

/** How a received key event or request arrived; the core applies PROTOCOL G5 to it. @internal */
export interface Arrival {
  /** The sender's user id and the `device_id` the content claims. */
  readonly from: DeviceRef;
  /** Whether it arrived Olm-encrypted. */
  readonly encrypted: boolean;
  /** The Olm-verified sending device, when the port reports it. */
  readonly senderDevice?: string;
  /** Whether the call's room is encrypted (then plaintext keys and requests are ignored). */
  readonly roomEncrypted: boolean;
  /** The dialect it came in (a reply to a request uses it, PROTOCOL P2). */
  readonly dialect: KeyDialect;
  /** How it came: to-device (default) or as a room event (Element's room-event keys). */
  readonly way?: KeyWay;
}

/** One key entry as received: `{index, key}` with the key in base64. @internal */
export interface ReceivedKeyEntry {
  /** Ring index. */
  readonly index: number;
  /** The key, base64. */
  readonly key: string;
}

/** What goes into the core. `now` is the injected clock's time. @internal */
export type KeyInput =
  | {
      /** Membership changed: devices joined, left, or re-published (dialect or session changed). */
      kind: "membership";
      joined: readonly ParsedMembership[];
      left: readonly DeviceRef[];
      now: number;
    }
  | {
      /** `preShareKey`: make (or reuse a recent) key and send it to the current members. */
      kind: "preShare";
      now: number;
    }
  | {
      /** We entered the call: from now on joins and leaves rotate our key; every member gets our key. */
      kind: "enter";
      now: number;
    }
  | {
      /** A key event from another device. */
      kind: "keys";
      arrival: Arrival;
      keys: readonly ReceivedKeyEntry[];
      now: number;
    }
  | {
      /** A key request from another device. */
      kind: "request";
      arrival: Arrival;
      now: number;
    }
  | {
      /** `requestEncryptionKey(participants)`. */
      kind: "requestKeys";
      from: readonly DeviceRef[];
      now: number;
    }
  | {
      /** A timer the core armed fell due. */
      kind: "timer";
      id: string;
      now: number;
    }
  | {
      /** The key provider ratcheted our key (`key` undefined: it could not). */
      kind: "ratcheted";
      index: number;
      key: Uint8Array | undefined;
      sendTo: readonly DeviceRef[];
      now: number;
    }
  | {
      /** Leave: forget our keys and timers (the index counter survives). */
      kind: "dispose";
    };

/** What comes out of the core, to be carried out in order by the shell. @internal */
export type KeyAction =
  | {
      /** Send these keys of ours to these devices (one key event per device, in its dialect). */
      kind: "sendKeys";
      keys: readonly OutgoingKey[];
      to: readonly KeyRecipient[];
      /** Why, for logs and the demo: `new`, `reuse`, `join`, `enter`, `reply`, `ratchet`. */
      reason: string;
    }
  | {
      /** Send these keys of ours as one Element room event (every Element member of the room reads it). */
      kind: "sendRoomKeys";
      keys: readonly OutgoingKey[];
      /** Why, as for `sendKeys`. */
      reason: string;
    }
  | {
      /** Send a key request to these devices. */
      kind: "sendRequest";
      to: readonly KeyRecipient[];
    }
  | {
      /** Install a key on the `EncryptionKeyProvider` (ours after the use delay, remote ones at once). */
      kind: "setKey";
      participant: DeviceRef;
      isLocal: boolean;
      index: number;
      key: Uint8Array;
    }
  | {
      /** Ask the key provider to ratchet our key at `index`, then feed a `ratcheted` input back. */
      kind: "ratchet";
      index: number;
      sendTo: readonly DeviceRef[];
    }
  | {
      /** These devices left: drop anything still queued for them. */
      kind: "forget";
      devices: readonly DeviceRef[];
    }
  | { kind: "setTimer"; id: string; delayMs: number }
  | { kind: "clearTimer"; id: string }
  | {
      /** Input the core dropped, and why (a debug line; never key material). */
      kind: "dropped";
      what: string;
      why: string;
      from?: DeviceRef;
    };

/** `${userId}:${deviceId}`. @internal */
export function deviceKey(device: DeviceRef): string {
  return `${device.userId}:${device.deviceId}`;
}
