import { describe, expect, it } from "vitest";
import { withCandidates } from "./sdp.js";

const SDP = [
  "v=0",
  "o=- 1 2 IN IP4 127.0.0.1",
  "s=-",
  "t=0 0",
  "a=group:BUNDLE 0 1",
  "m=audio 9 UDP/TLS/RTP/SAVPF 111",
  "c=IN IP4 0.0.0.0",
  "a=mid:0",
  "a=sendrecv",
  "m=video 9 UDP/TLS/RTP/SAVPF 96",
  "c=IN IP4 0.0.0.0",
  "a=mid:1",
  "a=sendrecv",
  "",
].join("\r\n");

const cand = (n: number, sdpMid: string | null, sdpMLineIndex: number | null) => ({
  candidate: `candidate:${n} 1 udp 2122260223 192.0.2.2 ${5000 + n} typ host generation 0`,
  sdpMid,
  sdpMLineIndex,
});

describe("withCandidates", () => {
  it("adds a=candidate lines at the end of their media section, by mid, else by m-line index", () => {
    const out = withCandidates(SDP, [cand(1, "0", 0), cand(2, "1", null), cand(3, null, 0), cand(4, "9", 7)]);
    expect(out.split("\r\n")).toEqual([
      "v=0",
      "o=- 1 2 IN IP4 127.0.0.1",
      "s=-",
      "t=0 0",
      "a=group:BUNDLE 0 1",
      "m=audio 9 UDP/TLS/RTP/SAVPF 111",
      "c=IN IP4 0.0.0.0",
      "a=mid:0",
      "a=sendrecv",
      `a=${cand(1, "0", 0).candidate}`,
      `a=${cand(3, null, 0).candidate}`,
      "m=video 9 UDP/TLS/RTP/SAVPF 96",
      "c=IN IP4 0.0.0.0",
      "a=mid:1",
      "a=sendrecv",
      `a=${cand(2, "1", null).candidate}`,
      "",
    ]);
  });

  it("returns the SDP unchanged without candidates", () => {
    expect(withCandidates(SDP, [])).toBe(SDP);
  });
});
