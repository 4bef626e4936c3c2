import type { RandomSource } from "../core/random.js";
import { randomBase64 } from "./prng.js";

/**
 * Simulated encryption. The server stores what a real one would see: random bytes of about the right size that
 * cannot be decoded back. Only cleartext metadata a real client leaves readable (`m.relates_to`) is kept.
 */

/** Bytes of ciphertext for `content`: its JSON size plus a MAC-sized tail. */
function cipherLength(content: object): number {
  return JSON.stringify(content).length + 16;
}

/** An `m.megolm.v1.aes-sha2` room-event body for `content`. */
export function megolmCiphertext(
  random: RandomSource,
  content: Record<string, unknown>,
  sender: { curveKey: string; deviceId: string | undefined; sessionId: string },
): Record<string, unknown> {
  const encrypted: Record<string, unknown> = {
    algorithm: "m.megolm.v1.aes-sha2",
    sender_key: sender.curveKey,
    session_id: sender.sessionId,
    ciphertext: randomBase64(random, cipherLength(content)),
  };
  if (sender.deviceId !== undefined) {
    encrypted.device_id = sender.deviceId;
  }
  const relation = content["m.relates_to"];
  if (relation !== undefined) {
    encrypted["m.relates_to"] = structuredClone(relation);
  }
  return encrypted;
}

/** An `m.olm.v1.curve25519-aes-sha2` to-device body for `content`, addressed to one device key. */
export function olmCiphertext(
  random: RandomSource,
  content: Record<string, unknown>,
  senderKey: string,
  recipientKey: string,
): Record<string, unknown> {
  return {
    algorithm: "m.olm.v1.curve25519-aes-sha2",
    sender_key: senderKey,
    ciphertext: { [recipientKey]: { type: 1, body: randomBase64(random, cipherLength(content)) } },
  };
}
