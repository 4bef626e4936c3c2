import { describe, expect, it } from "vitest";
import { CallDirection } from "../call/types.js";
import { CallEventType } from "../matrix/eventTypes.js";
import { checkSender, isAccepted, type CallBinding } from "./senderCheck.js";

const ME = { userId: "@alice:local", sessionId: "A" };
const incoming: CallBinding = {
  direction: CallDirection.Incoming,
  remoteUserId: "@bob:local",
  remotePartyId: "B",
};
const check = (sender: string, type: CallEventType, partyId: string | undefined, binding?: CallBinding) =>
  checkSender({ sender, type, partyId }, binding, ME);

describe("checkSender", () => {
  it("judges each sender and party the way the router does", () => {
    expect(check(ME.userId, CallEventType.Hangup, "A", incoming)).toBe("echo");
    expect(check("@bob:local", CallEventType.Invite, "B")).toBe("invite");
    expect(check("@bob:local", CallEventType.Hangup, "B")).toBe("unknown_call");
    expect(check(ME.userId, CallEventType.Answer, "A2", incoming)).toBe("answered_elsewhere");
    expect(check(ME.userId, CallEventType.Reject, "A2", incoming)).toBe("answered_elsewhere");
    expect(check(ME.userId, CallEventType.Hangup, "A2", incoming)).toBe("own_device_ignored");
    expect(check("@mallory:local", CallEventType.Hangup, "B", incoming)).toBe("wrong_sender");
    expect(check("@bob:local", CallEventType.Hangup, "B2", incoming)).toBe("other_party");
    expect(check("@bob:local", CallEventType.Hangup, "B", incoming)).toBe("peer");
  });

  it("accepts anyone (but ourselves) for an outgoing call to the whole room until a party is bound", () => {
    const open: CallBinding = {
      direction: CallDirection.Outgoing,
      remoteUserId: undefined,
      remotePartyId: undefined,
    };
    expect(check("@carol:local", CallEventType.Answer, "C", open)).toBe("peer");
    expect(check(ME.userId, CallEventType.Answer, "A2", open)).toBe("own_device_ignored");
  });

  it("a call between two devices of the same user: our other device is the peer", () => {
    const self: CallBinding = {
      direction: CallDirection.Incoming,
      remoteUserId: ME.userId,
      remotePartyId: "A2",
    };
    expect(check(ME.userId, CallEventType.Hangup, "A2", self)).toBe("peer");
  });

  it("only invite, answered_elsewhere and peer reach a call", () => {
    const all = [
      "echo",
      "invite",
      "unknown_call",
      "answered_elsewhere",
      "own_device_ignored",
      "wrong_sender",
      "other_party",
      "peer",
    ] as const;
    expect(all.filter(isAccepted)).toEqual(["invite", "answered_elsewhere", "peer"]);
  });
});
