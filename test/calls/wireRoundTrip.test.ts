// Reference §10.1 item 1 ("call methods"), over LocalHomeserver: every one of the ten 1:1 signalling events we
// build crosses the homeserver (in an encrypted room) and comes out of the parse step exactly as sent.
import { describe, expect, it } from "vitest";
import {
  buildAnswerContent,
  buildAssertedIdentityContent,
  buildCandidatesContent,
  buildHangupContent,
  buildInviteContent,
  buildMetadataChangedContent,
  buildNegotiateAnswerContent,
  buildNegotiateOfferContent,
  buildRejectContent,
  buildReplacesContent,
  buildSelectAnswerContent,
} from "../../src/call/signalling.js";
import { CallErrorCode, parseContent, silentLogger, type SyncBatch } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import { until } from "../helpers/calls.js";

describe("every signalling event we build survives the homeserver and the parse step", () => {
  it("sends all ten m.call.* events and reads them back unchanged", async () => {
    const hs = new LocalHomeserver();
    const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], encrypted: true });
    const alice = hs.createClient("@alice:local", "ALICE");
    const bob = hs.createClient("@bob:local", "BOB");
    const received: SyncBatch["rooms"][number]["timeline"] = [];
    bob.onSync((batch) => {
      for (const room of batch.rooms) {
        if (!room.initial) {
          received.push(...room.timeline);
        }
      }
    });
    const base = { callId: "1234", partyId: "4567" };
    const metadata = { streamA: { purpose: "m.usermedia" as const, audio_muted: false, video_muted: true } };
    const sent: [string, object][] = [
      [
        "m.call.invite",
        buildInviteContent({ ...base, lifetimeMs: 1234, offerSdp: "sdp", metadata, invitee: "@bob:local" }),
      ],
      ["m.call.answer", buildAnswerContent({ ...base, answerSdp: "sdp", metadata })],
      ["m.call.candidates", buildCandidatesContent({ ...base, candidates: [] })],
      ["m.call.select_answer", buildSelectAnswerContent({ ...base, selectedPartyId: "6789" })],
      ["m.call.reject", buildRejectContent(base)],
      [
        "m.call.negotiate",
        buildNegotiateOfferContent({ ...base, lifetimeMs: 10_000, offerSdp: "sdp", metadata }),
      ],
      ["m.call.negotiate", buildNegotiateAnswerContent({ ...base, lifetimeMs: 10_000, answerSdp: "sdp" })],
      ["m.call.hangup", buildHangupContent({ ...base, reason: CallErrorCode.UserHangup })],
      [
        "m.call.asserted_identity",
        buildAssertedIdentityContent({ ...base, identity: { displayName: "name", id: "some_id" } }),
      ],
      ["m.call.replaces", buildReplacesContent(base)],
      ["m.call.sdp_stream_metadata_changed", buildMetadataChangedContent({ ...base, metadata: {} })],
    ];
    for (const [type, content] of sent) {
      await alice.sendRoomEvent(roomId, type, content);
    }
    await until(() => received.length === sent.length, "all events at bob");
    expect(received.map((e) => e.type)).toEqual(sent.map(([type]) => type));
    for (const [i, event] of received.entries()) {
      const parsed = parseContent(event.type, event.content, silentLogger, { transport: "room" });
      expect(parsed.ok, event.type).toBe(true);
      expect(event.content).toEqual(sent[i]![1]);
      expect(parsed.ok && parsed.content, `${event.type} after the parse step`).toEqual(sent[i]![1]);
    }
    // On the wire the room is encrypted: the server saw only ciphertext.
    const wire = hs.transcript().filter((e) => e.kind === "room" && e.type.startsWith("m.call."));
    expect(wire).toHaveLength(sent.length);
    expect(wire.every((e) => e.encrypted && !JSON.stringify(e.content).includes("4567"))).toBe(true);
    await hs.close();
  });
});
