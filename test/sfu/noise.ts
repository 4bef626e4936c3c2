// What "receives only noise" means for a participant without the key: no picture, and no more tonal audio frames
// than noise produces by chance (NOISE_TONAL_FRACTION), while decrypted audio is almost all tonal.
import { expect } from "vitest";
import { NOISE_TONAL_FRACTION } from "../../demo/livekit/mediaCheck.js";
import type { ReceivedMedia } from "../../demo/livekit/nodeParticipant.js";

/** Asserts that `media` came in (audio frames) but none of it decrypted: no colour frame, tone only by chance. */
export function expectOnlyNoise(media: ReceivedMedia): void {
  expect(media.audioFrames).toBeGreaterThan(0);
  expect(media.colourFrames).toBe(0);
  expect(media.tonalFrames).toBeLessThanOrEqual(Math.floor(media.audioFrames * NOISE_TONAL_FRACTION));
}
