/**
 * How our media keys reach Element peers (matrix-js-sdk's MatrixRTC): as one `io.element.call.encryption_keys` room
 * event that every Element member reads (js-sdk ≤ v41.0's default: v37.5 reads only room-event keys unless
 * `useExperimentalToDeviceTransport` is set), or Olm to-device per device (js-sdk ≥ v41.1, and 37.5 with
 * `useExperimentalToDeviceTransport` until it receives a room-event key, after which it reads room events only).
 * Pure: the key core asks it per recipient and tells it how each Element member's keys arrived.
 *
 * - `"room"` / `"to-device"`: always that way.
 * - `"auto"` (default): per Element member, the way its last accepted key came in, room events until one is seen.
 *   Room is sticky, as in js-sdk: once a member sent us a room-event key it ignores to-device keys for good, so a
 *   later to-device key from it does not switch us back. A member that left is forgotten (a rejoin starts over).
 *
 * In every mode a room event needs a room where it is not cleartext (PROTOCOL K3): an encrypted room, or
 * `allowPlaintextKeys` in an unencrypted one. Otherwise our keys go to-device (Olm), whatever the mode.
 * Internal to the library.
 */

import type { ElementKeyTransport } from "../../group/elementKeyTransport.js";
import { deviceKey, type KeyAction, type KeyRecipient, type KeyWay, type OutgoingKey } from "./keyTypes.js";

export type { ElementKeyTransport };

/** See the file comment. @internal */
export class ElementTransports {
  #mode: ElementKeyTransport;
  readonly #observed = new Map<string, KeyWay>();

  public constructor(mode: ElementKeyTransport) {
    this.#mode = mode;
  }

  /** The configured mode. */
  public get mode(): ElementKeyTransport {
    return this.#mode;
  }

  /** Changes the mode (the app asked again with another option before entering). */
  public setMode(mode: ElementKeyTransport): void {
    this.#mode = mode;
  }

  /** How our keys go to the Element member `id` now; `roomAllowed`: a room event would not be cleartext. */
  public wayFor(id: string, roomAllowed: boolean): KeyWay {
    if (!roomAllowed || this.#mode === "to-device") {
      return "toDevice";
    }
    if (this.#mode === "room") {
      return "room";
    }
    return this.#observed.get(id) ?? "room";
  }

  /**
   * An accepted key from the Element member `id` came in `way`. Returns true when, in `auto`, the way we send to it
   * changed (then it should get our current key again, the new way).
   */
  public observe(id: string, way: KeyWay, roomAllowed: boolean): boolean {
    const before = this.#observed.get(id);
    if (before === "room" || before === way) {
      return false;
    }
    const wayBefore = this.wayFor(id, roomAllowed);
    this.#observed.set(id, way);
    return this.wayFor(id, roomAllowed) !== wayBefore;
  }

  /**
   * The send actions for `keys` to `to`: Element members reached by room event get one `sendRoomKeys` for all of
   * them; everyone else one `sendKeys` (to-device).
   */
  public route(
    keys: readonly OutgoingKey[],
    to: readonly KeyRecipient[],
    reason: string,
    roomAllowed: boolean,
  ): KeyAction[] {
    const direct = to.filter(
      (r) => r.dialect !== "element" || this.wayFor(deviceKey(r), roomAllowed) === "toDevice",
    );
    const out: KeyAction[] = [];
    if (direct.length > 0) {
      out.push({ kind: "sendKeys", keys, to: direct, reason });
    }
    if (direct.length < to.length) {
      out.push({ kind: "sendRoomKeys", keys, reason });
    }
    return out;
  }

  /** The member left: its next session starts over. */
  public forget(id: string): void {
    this.#observed.delete(id);
  }

  /** Forgets every member. */
  public clear(): void {
    this.#observed.clear();
  }
}
