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
