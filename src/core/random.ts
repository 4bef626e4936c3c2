/** A source of randomness, injected so that tests can be deterministic. */
export interface RandomSource {
  /** `n` random bytes (cryptographically secure in the default source). */
  bytes(n: number): Uint8Array;
}

/** The platform CSPRNG (`crypto.getRandomValues`), available in browsers and Node ≥ 20. */
export const cryptoRandom: RandomSource = {
  bytes: (n) => globalThis.crypto.getRandomValues(new Uint8Array(n)),
};

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** `length` characters of `[A-Za-z0-9]`, without modulo bias. */
export function randomAlphanumeric(random: RandomSource, length: number): string {
  let out = "";
  while (out.length < length) {
    for (const byte of random.bytes(length * 2)) {
      // 248 = 4 * 62: reject the tail to keep the distribution uniform.
      if (byte < 248 && out.length < length) {
        out += ALPHANUMERIC.charAt(byte % 62);
      }
    }
  }
  return out;
}

/** Standard base64 with `=` padding (the wire format of session ids and media keys). */
export function encodeBase64(bytes: Uint8Array): string {
  // A character per byte, 8 KiB at a time (far quicker than one concatenation per byte, and within the argument
  // limit of `fromCharCode`).
  let binary = "";
  for (let i = 0; i < bytes.length; i += BASE64_CHUNK) {
    binary += String.fromCharCode(...bytes.subarray(i, i + BASE64_CHUNK));
  }
  return btoa(binary);
}

const BASE64_CHUNK = 8192;

/** Decodes standard base64 (padding optional); throws on invalid input. */
export function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    out[i] = binary.charCodeAt(i);
  }
  return out;
}
