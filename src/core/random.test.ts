import { describe, expect, it } from "vitest";
import { decodeBase64, encodeBase64 } from "./random.js";

describe("base64", () => {
  it("encodes like standard base64 with padding, across the 8 KiB chunks, and decodes back", () => {
    for (const length of [0, 1, 2, 3, 32, 8191, 8192, 8193, 20_000]) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 7919 + 13) % 256);
      const encoded = encodeBase64(bytes);
      expect(encoded).toBe(Buffer.from(bytes).toString("base64"));
      expect(decodeBase64(encoded)).toEqual(bytes);
    }
  });
});
