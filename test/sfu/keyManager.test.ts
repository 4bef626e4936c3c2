/**
 * End to end with keys only from our key manager: Matrix members (VoIP over LocalHomeserver, LiveKit group call) each
 * feed a LiveKitNodeKeyBridge from the delegate's key provider, and their @livekit/rtc-node participants send
 * encrypted tone and video through a real LiveKit server. Nothing hands a key to LiveKit but the key manager.
 */
import { dispose, EncryptionState } from "@livekit/rtc-node";
import { afterAll, describe, expect, inject, it } from "vitest";
import { NodeSfuParticipant, type ReceivedMedia } from "../../demo/livekit/nodeParticipant.js";
import { livekitToken, SfuCall, type SfuMember } from "../../demo/livekit/sfuCall.js";
import { ManualClock } from "../../src/testing/index.js";
import { expectOnlyNoise } from "./noise.js";

const livekit = inject("livekit");

afterAll(async () => {
  await dispose();
});

const decodes = (m: ReceivedMedia): boolean => m.tonalFrames >= 20 && m.colourFrames >= 5;

/** Waits until every member in `receivers` decodes every member in `senders` (but itself). */
async function allDecode(receivers: SfuMember[], senders: SfuMember[]): Promise<void> {
  for (const receiver of receivers) {
    for (const sender of senders) {
      if (sender !== receiver) {
        await receiver.media.waitFor(sender.id, decodes, "decrypted tone and video");
      }
    }
  }
}

/** Waits until each receiver has decoded `frames` more colour frames and 100 more tonal frames from each sender. */
async function moreDecoded(receivers: SfuMember[], senders: SfuMember[], what: string): Promise<void> {
  for (const receiver of receivers) {
    for (const sender of senders) {
      if (sender !== receiver) {
        const now = receiver.media.from(sender.id);
        await receiver.media.waitFor(
          sender.id,
          (m) => m.colourFrames >= now.colourFrames + 10 && m.tonalFrames >= now.tonalFrames + 100,
          what,
        );
      }
    }
  }
}

describe("LiveKit group call with keys from our key manager, through a real LiveKit server", () => {
  it("three decode each other, a fourth joins, one leaves: the rest rotate and the leaver decodes nothing new", async () => {
    const call = new SfuCall(livekit, new ManualClock(), 4);
    let eve: NodeSfuParticipant | undefined;
    try {
      await call.setup();
      const [a, b, c] = [await call.join(0), await call.join(1), await call.join(2)];
      await call.advance(10_000); // the key manager's join delays
      await allDecode([a, b, c], [a, b, c]);
      for (const member of [a, b, c]) {
        expect(member.bridge.keyIndex(member.id), `${member.id} encrypts with a key`).toBeDefined();
      }

      // A fourth member joins and decodes everyone, and everyone decodes it.
      const d = await call.join(3);
      await call.advance(10_000);
      await allDecode([a, b, c, d], [a, b, c, d]);

      // Someone without E2EE in the LiveKit room receives the media, encrypted: noise, no picture.
      eve = await NodeSfuParticipant.join(livekit.wsUrl, await livekitToken(livekit, "eve"), "eve");
      await eve.waitFor(a.id, (m) => m.audioFrames >= 100, "audio frames (encrypted)");
      expectOnlyNoise(eve.from(a.id));

      // b leaves the group call but stays in the LiveKit room with the keys it had.
      const before = new Map([a, c, d].map((m) => [m.id, m.bridge.keyIndex(m.id)]));
      await call.leave(b);
      await call.advance(4_000); // leave debounce: new keys go to the remaining members
      await call.advance(4_000); // then each uses its new key
      for (const member of [a, c, d]) {
        const index = member.bridge.keyIndex(member.id);
        expect(index, `${member.id} rotated its key`).not.toBe(before.get(member.id));
        for (const other of [a, c, d].filter((m) => m !== member)) {
          // Everyone remaining holds it, the leaver does not.
          expect(other.bridge.keyIndex(member.id)).toBe(index);
        }
        expect(b.bridge.keyIndex(member.id)).toBe(before.get(member.id));
      }
      await moreDecoded([a, c, d], [a, c, d], "media with the new keys");
      for (const member of [a, c, d]) {
        await b.media.waitFor(
          member.id,
          () => b.bridge.encryptionState(member.id) === EncryptionState.MISSING_KEY,
          "MISSING_KEY",
        );
      }
      // Over the next stretch of media the others exchange, the leaver decodes nothing of theirs.
      const leaverSaw = new Map([a, c, d].map((m) => [m.id, b.media.from(m.id)]));
      await moreDecoded([a, c, d], [a, c, d], "more media with the new keys");
      for (const member of [a, c, d]) {
        const seen = b.media.from(member.id);
        expect(seen.colourFrames, `leaver's frames from ${member.id}`).toBe(
          leaverSaw.get(member.id)!.colourFrames,
        );
        expect(seen.tonalFrames, `leaver's tone from ${member.id}`).toBe(
          leaverSaw.get(member.id)!.tonalFrames,
        );
      }
    } finally {
      await eve?.leave();
      await call.dispose();
    }
  });
});
