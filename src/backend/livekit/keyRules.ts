/**
 * Pure rules of the key manager for inbound key events: PROTOCOL G5 (who may send us keys) and decoding of the
 * wire keys (padded or unpadded, standard or URL-safe base64).
 * Internal to the library.
 */
import { decodeBase64 } from "../../core/random.js";
import { deviceKey, type Arrival } from "./keyTypes.js";

/**
 * Why a key event or request must be ignored before membership is even considered, or `undefined` to accept it:
 * end-to-end encryption off, our own device, plaintext in an encrypted room, or a claimed `device_id` that the
 * Olm-verified sending device contradicts (PROTOCOL G5).
 * @internal
 */
export function rejectArrival(arrival: Arrival, localId: string, e2eeEnabled: boolean): string | undefined {
  if (!e2eeEnabled) {
    return "end-to-end encryption is off";
  }
  if (deviceKey(arrival.from) === localId) {
    return "our own device";
  }
  if (arrival.roomEncrypted && !arrival.encrypted) {
    return "plaintext in an encrypted room";
  }
  if (arrival.senderDevice !== undefined && arrival.senderDevice !== arrival.from.deviceId) {
    return "device_id is not the Olm-verified sending device";
  }
  return undefined;
}

/** Base64 → key bytes; `undefined` for invalid base64 or an empty key. Accepts URL-safe and unpadded input. */
export function decodeKey(text: string): Uint8Array | undefined {
  try {
    const standard = text.replace(/-/g, "+").replace(/_/g, "/").replace(/=+$/, "");
    const bytes = decodeBase64(standard + "=".repeat((4 - (standard.length % 4)) % 4));
    return bytes.length === 0 ? undefined : bytes;
  } catch {
    return undefined;
  }
}

/** Byte equality. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) {
    return false;
  }
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      return false;
    }
  }
  return true;
}
