import { parse } from "sdp-transform";
import type { StreamMetadata } from "./signalling.js";
import { CallType } from "./types.js";

/** `Video` when the SDP has a video m-line, else `Voice` (also for SDP that does not parse). */
export function callTypeFromSdp(sdp: string): CallType {
  try {
    return parse(sdp).media.some((m) => m.type === "video") ? CallType.Video : CallType.Voice;
  } catch {
    // Unparseable SDP: treat as voice, the safe default; setRemoteDescription will reject it properly.
    return CallType.Voice;
  }
}

/**
 * The type of an incoming call: from `sdp_stream_metadata` when present (video iff a stream is not video-muted,
 * reference §5.3), else from the SDP.
 */
export function callTypeOfInvite(sdp: string, metadata: StreamMetadata | undefined): CallType {
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    return Object.values(metadata).some((s) => !s.video_muted) ? CallType.Video : CallType.Voice;
  }
  return callTypeFromSdp(sdp);
}

/** A gathered local candidate, as the peer connection reported it. */
export interface SdpCandidate {
  candidate: string;
  sdpMid: string | null;
  sdpMLineIndex: number | null;
}

/**
 * `sdp` with `candidates` as `a=candidate` lines at the end of their media sections (by `sdpMid`, else by
 * `sdpMLineIndex`), as a browser's `localDescription` carries the candidates gathered so far. A candidate whose
 * section is not found is left out; the result ends with CRLF like the input.
 */
export function withCandidates(sdp: string, candidates: readonly SdpCandidate[]): string {
  if (candidates.length === 0) {
    return sdp;
  }
  const lines = sdp.split("\r\n");
  if (lines[lines.length - 1] === "") {
    lines.pop();
  }
  const sections: { start: number; mid: string | undefined }[] = [];
  lines.forEach((line, i) => {
    const current = sections[sections.length - 1];
    if (line.startsWith("m=")) {
      sections.push({ start: i, mid: undefined });
    } else if (line.startsWith("a=mid:") && current !== undefined) {
      current.mid = line.slice("a=mid:".length);
    }
  });
  const extra = new Map<number, string[]>();
  for (const c of candidates) {
    let index = c.sdpMid !== null ? sections.findIndex((s) => s.mid === c.sdpMid) : -1;
    if (index < 0 && c.sdpMLineIndex !== null && c.sdpMLineIndex < sections.length) {
      index = c.sdpMLineIndex;
    }
    if (index >= 0) {
      const line = `a=${c.candidate.startsWith("candidate:") ? c.candidate : `candidate:${c.candidate}`}`;
      extra.set(index, [...(extra.get(index) ?? []), line]);
    }
  }
  const out: string[] = [];
  lines.forEach((line, i) => {
    const next = sections.findIndex((s) => s.start === i);
    if (next > 0) {
      out.push(...(extra.get(next - 1) ?? []));
    }
    out.push(line);
  });
  out.push(...(extra.get(sections.length - 1) ?? []));
  return `${out.join("\r\n")}\r\n`;
}
