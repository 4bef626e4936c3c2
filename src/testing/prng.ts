import type { RandomSource } from "../core/random.js";
import { encodeBase64 } from "../core/random.js";

/** A function returning uniformly distributed numbers in `[0, 1)`, like `Math.random`. */
export type RandomFn = () => number;

/** The seed used when neither `seed` nor `random` is given: runs are reproducible by default. */
export const DEFAULT_SEED = 0x5eed;

/** mulberry32: a small, fast, seeded PRNG; good enough for simulations, not for secrets. */
export function seededRandom(seed: number): RandomFn {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A {@link RandomSource} backed by a {@link RandomFn}. */
export function randomSourceFrom(random: RandomFn): RandomSource {
  return {
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        out[i] = Math.floor(random() * 256) & 0xff;
      }
      return out;
    },
  };
}

/** Unpadded base64 of `n` random bytes, as Matrix uses for keys and ciphertext. */
export function randomBase64(random: RandomSource, n: number): string {
  return encodeBase64(random.bytes(n)).replace(/=+$/, "");
}

/** Unpadded URL-safe base64 of `n` random bytes, the shape of room-version-4+ event ids. */
export function randomBase64Url(random: RandomSource, n: number): string {
  return randomBase64(random, n).replace(/\+/g, "-").replace(/\//g, "_");
}

/** Fisher–Yates shuffle in place, driven by `random`. */
export function shuffle<T>(items: T[], random: RandomFn): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}
