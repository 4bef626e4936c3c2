import { describe, expect, it } from "vitest";
import { silentLogger, type LogContext, type Logger } from "../core/Logger.js";
import type { CallContext } from "./CallContext.js";
import { CallSignaller } from "./CallSignaller.js";
import { CallErrorCode } from "./types.js";

interface Sent {
  type: string;
  content: Record<string, unknown>;
}

function setup(opts: { groupCallId?: string; fail?: boolean; log?: Logger } = {}) {
  const sent: Sent[] = [];
  const ctx = {
    sessionId: "OURPARTY",
    client: { userId: "@alice:test", deviceId: "ALICEDEVICE" },
    timeouts: { callInviteLifetimeMs: 60_000, defaultCallEventLifetimeMs: 10_000 },
    transport: {
      send: (type: string, content: object) => {
        if (opts.fail === true) {
          return Promise.reject(new Error("offline"));
        }
        sent.push({ type, content: content as Record<string, unknown> });
        return Promise.resolve();
      },
    },
  } as unknown as CallContext;
  return { sent, signaller: new CallSignaller(ctx, "call1", opts.groupCallId, opts.log ?? silentLogger) };
}

const metadata = { s1: { purpose: "m.usermedia" as const, audio_muted: false, video_muted: true } };

describe("CallSignaller", () => {
  it("sends the invite with the call fields, lifetime, offer and metadata; invitee and devices when known", async () => {
    const { sent, signaller } = setup();
    await signaller.sendInvite("OFFER", metadata, {});
    await signaller.sendInvite("OFFER", metadata, { userId: "@bob:test", deviceId: "BOBDEVICE" });
    expect(sent.map((s) => s.type)).toEqual(["m.call.invite", "m.call.invite"]);
    expect(sent[0]?.content).toMatchObject({
      call_id: "call1",
      party_id: "OURPARTY",
      version: "1",
      lifetime: 60_000,
      offer: { type: "offer", sdp: "OFFER" },
      "org.matrix.msc3077.sdp_stream_metadata": metadata,
    });
    expect(sent[0]?.content).not.toHaveProperty("invitee");
    expect(sent[0]?.content).not.toHaveProperty("invitee_device_id");
    expect(sent[0]?.content).not.toHaveProperty("conf_id");
    expect(sent[1]?.content).toMatchObject({
      invitee: "@bob:test",
      invitee_device_id: "BOBDEVICE",
      device_id: "ALICEDEVICE",
    });
  });

  it("sends answers, negotiation, candidates and select_answer with the group call id of a mesh leg", async () => {
    const { sent, signaller } = setup({ groupCallId: "conf1" });
    await signaller.sendAnswer("ANSWER", metadata);
    await signaller.sendNegotiateOffer("OFFER2", metadata);
    await signaller.sendNegotiateAnswer("ANSWER2");
    await signaller.sendCandidates([{ candidate: "candidate:1", sdpMid: "0", sdpMLineIndex: 0 }]);
    await signaller.selectAnswer("THEIRPARTY");
    await signaller.metadataChanged(metadata);
    expect(sent.map((s) => [s.type, s.content.conf_id])).toEqual([
      ["m.call.answer", "conf1"],
      ["m.call.negotiate", "conf1"],
      ["m.call.negotiate", "conf1"],
      ["m.call.candidates", "conf1"],
      ["m.call.select_answer", "conf1"],
      ["m.call.sdp_stream_metadata_changed", "conf1"],
    ]);
    expect(sent[0]?.content).toMatchObject({ answer: { type: "answer", sdp: "ANSWER" } });
    expect(sent[1]?.content).toMatchObject({
      lifetime: 10_000,
      description: { type: "offer", sdp: "OFFER2" },
    });
    expect(sent[2]?.content).toMatchObject({
      lifetime: 10_000,
      description: { type: "answer", sdp: "ANSWER2" },
    });
    expect(sent[3]?.content).toMatchObject({
      candidates: [{ candidate: "candidate:1", sdpMid: "0", sdpMLineIndex: 0 }],
    });
    expect(sent[4]?.content).toMatchObject({ selected_party_id: "THEIRPARTY" });
  });

  it("sends hangup with the reason, and reject", async () => {
    const { sent, signaller } = setup();
    await signaller.hangup(CallErrorCode.IceFailed);
    await signaller.reject();
    expect(sent.map((s) => s.type)).toEqual(["m.call.hangup", "m.call.reject"]);
    expect(sent[0]?.content.reason).toBe("ice_failed");
  });

  it("sends the asserted identity under the wire names (MSC3086)", async () => {
    const { sent, signaller } = setup();
    await signaller.sendAssertedIdentity({ id: "@carol:x", displayName: "Carol", avatarUrl: "mxc://x/a" });
    expect(sent).toStrictEqual([
      {
        type: "m.call.asserted_identity",
        content: {
          call_id: "call1",
          party_id: "OURPARTY",
          version: "1",
          asserted_identity: { id: "@carol:x", display_name: "Carol", avatar_url: "mxc://x/a" },
        },
      },
    ]);
  });

  it("rejects when an offer, answer, candidates or asserted identity cannot be sent; best-effort events only log", async () => {
    const warnings: [string, LogContext | undefined][] = [];
    const log: Logger = { ...silentLogger, warn: (message, context) => warnings.push([message, context]) };
    const { signaller } = setup({ fail: true, log });
    await expect(signaller.sendInvite("OFFER", metadata, {})).rejects.toThrow("offline");
    await expect(signaller.sendAnswer("ANSWER", metadata)).rejects.toThrow("offline");
    await expect(signaller.sendCandidates([])).rejects.toThrow("offline");
    await expect(signaller.sendAssertedIdentity({ id: "@carol:x" })).rejects.toThrow("offline");
    await signaller.hangup(CallErrorCode.UserHangup);
    await signaller.reject();
    await signaller.selectAnswer("THEIRPARTY");
    await signaller.metadataChanged(metadata);
    expect(warnings.map(([message, context]) => [message, context?.type])).toEqual([
      ["could not send call event", "m.call.hangup"],
      ["could not send call event", "m.call.reject"],
      ["could not send call event", "m.call.select_answer"],
      ["could not send call event", "m.call.sdp_stream_metadata_changed"],
    ]);
  });
});
