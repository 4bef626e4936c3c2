import { describe, expect, it } from "vitest";
import { resolveGlare } from "./glare.js";

describe("resolveGlare", () => {
  it("rings when we have no competing call", () => {
    expect(resolveGlare(undefined, "123abc")).toBe("no_glare");
  });

  it("keeps the smaller call id when both invites are on the wire, in both arrival orders", () => {
    // Side A holds "1000a" and receives "1000b"; side B holds "1000b" and receives "1000a".
    expect(resolveGlare({ callId: "1000a", inviteSent: true }, "1000b")).toBe("keep_existing");
    expect(resolveGlare({ callId: "1000b", inviteSent: true }, "1000a")).toBe("keep_incoming");
  });

  it("compares UTF-16 code units, not locale order", () => {
    // "Z" (0x5a) < "a" (0x61) in code units, although localeCompare puts "a" first.
    expect(resolveGlare({ callId: "1a", inviteSent: true }, "1Z")).toBe("keep_incoming");
    expect(resolveGlare({ callId: "zzzz_glare_2nd_call", inviteSent: true }, "1732492800000abc")).toBe(
      "keep_incoming",
    );
  });

  it("lets the incoming call win while our invite is still being prepared, whatever the ids", () => {
    expect(resolveGlare({ callId: "0000", inviteSent: false }, "zzzz")).toBe("keep_incoming");
  });

  it("treats the same call id as no glare (our own echo or a duplicate)", () => {
    expect(resolveGlare({ callId: "same", inviteSent: true }, "same")).toBe("no_glare");
  });
});
