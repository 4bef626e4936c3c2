/**
 * The members' keys we hold, and key events held back because their sender's membership is not known yet
 * (PROTOCOL K5). Pure: it returns the actions for the core to emit.
 * Internal to the library.
 */
import { decodeKey, sameBytes } from "./keyRules.js";
import {
  deviceKey,
  type Arrival,
  type DeviceRef,
  type KeyAction,
  type ReceivedKeyEntry,
} from "./keyTypes.js";

/** A key event or request waiting for its sender's membership. @internal */
export type HeldItem =
  | { kind: "keys"; arrival: Arrival; keys: readonly ReceivedKeyEntry[] }
  | { kind: "request"; arrival: Arrival };

/** See the file comment. @internal */
export class ReceivedKeys {
  readonly #keys = new Map<string, Map<number, Uint8Array>>();
  readonly #held = new Map<string, HeldItem[]>();

  /** The key of `participant` at `index`. */
  public get(participant: DeviceRef, index: number): Uint8Array | undefined {
    return this.#keys.get(deviceKey(participant))?.get(index);
  }

  /** Every (participant id, index) held. */
  public *entries(): Generator<[string, number]> {
    for (const [participant, keys] of this.#keys) {
      for (const index of keys.keys()) {
        yield [participant, index];
      }
    }
  }

  /** Stores the valid entries and returns a `setKey` per new or changed key (duplicates are skipped). */
  public apply(from: DeviceRef, keys: readonly ReceivedKeyEntry[]): KeyAction[] {
    if (keys.length === 0) {
      return [{ kind: "dropped", what: "keys", why: "no key entries", from }];
    }
    const out: KeyAction[] = [];
    const id = deviceKey(from);
    for (const entry of keys) {
      const key = decodeKey(entry.key);
      if (key === undefined) {
        out.push({ kind: "dropped", what: "keys", why: `keys[${entry.index}]: not a usable key`, from });
        continue;
      }
      let store = this.#keys.get(id);
      const previous = store?.get(entry.index);
      if (previous !== undefined && sameBytes(previous, key)) {
        continue; // a duplicate delivery
      }
      if (store === undefined) {
        store = new Map();
        this.#keys.set(id, store);
      }
      store.set(entry.index, key);
      const participant = { userId: from.userId, deviceId: from.deviceId };
      out.push({ kind: "setKey", participant, isLocal: false, index: entry.index, key });
    }
    return out;
  }

  /** Forgets a device's keys (it left, or started a new session). */
  public forget(id: string): void {
    this.#keys.delete(id);
  }

  /** Holds an item; true when it is the first held for that device (arm its hold timer). */
  public hold(id: string, item: HeldItem): boolean {
    const queue = this.#held.get(id);
    if (queue === undefined) {
      this.#held.set(id, [item]);
      return true;
    }
    queue.push(item);
    return false;
  }

  /** Takes the items held for a device (its membership appeared, or its hold time is over). */
  public release(id: string): HeldItem[] | undefined {
    const queue = this.#held.get(id);
    this.#held.delete(id);
    return queue;
  }

  /** Drops everything held (not the keys). */
  public clearHeld(): void {
    this.#held.clear();
  }
}
