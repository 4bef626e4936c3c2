import type { WrappedMediaStream } from "./WrappedMediaStream.js";

/** A call's media statistics (user media only; zeros where there is no such track). */
export interface CallStats {
  /** Audio RTP totals of the user-media tracks. */
  audio: {
    /** Bytes received (`inbound-rtp`). */
    bytesReceived: number;
    /** RTP packets received (`inbound-rtp`). */
    packetsReceived: number;
    /** RTP packets lost on the way to us, as the receiver counts them (`inbound-rtp`). */
    packetsLost: number;
    /** Bytes sent (`outbound-rtp`). */
    bytesSent: number;
  };
  /** Video RTP totals of the user-media tracks. */
  video: {
    /** Bytes received (`inbound-rtp`). */
    bytesReceived: number;
    /** Video frames decoded (`inbound-rtp`). */
    framesDecoded: number;
    /** Bytes sent (`outbound-rtp`). */
    bytesSent: number;
  };
  /** The current round-trip time of the nominated ICE candidate pair, in ms; absent when unknown. */
  roundTripTimeMs?: number;
}

type StatsEntry = Record<string, unknown> & { type?: unknown; kind?: unknown; mediaType?: unknown };

function num(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/**
 * Summarises an `RTCStatsReport` into {@link CallStats}. Only the tracks in `userMediaTrackIds` count when the
 * report names tracks; reports without track ids (some platforms) count every RTP stream of that kind.
 */
export function summarizeStats(
  report: RTCStatsReport,
  excludeTrackIds: ReadonlySet<string> = new Set(),
): CallStats {
  const stats: CallStats = {
    audio: { bytesReceived: 0, packetsReceived: 0, packetsLost: 0, bytesSent: 0 },
    video: { bytesReceived: 0, framesDecoded: 0, bytesSent: 0 },
  };
  const excludedTrackStats = new Set<string>();
  report.forEach((value: unknown) => {
    const entry = value as StatsEntry;
    if (
      entry.type === "track" &&
      typeof entry.trackIdentifier === "string" &&
      excludeTrackIds.has(entry.trackIdentifier)
    ) {
      excludedTrackStats.add(String(entry.id));
    }
  });
  let rtt: number | undefined;
  report.forEach((value: unknown) => {
    const entry = value as StatsEntry;
    const kind = entry.kind ?? entry.mediaType;
    const excluded =
      (typeof entry.trackIdentifier === "string" && excludeTrackIds.has(entry.trackIdentifier)) ||
      (typeof entry.trackId === "string" && excludedTrackStats.has(entry.trackId));
    if (excluded) {
      return;
    }
    if (entry.type === "inbound-rtp" && kind === "audio") {
      stats.audio.bytesReceived += num(entry.bytesReceived);
      stats.audio.packetsReceived += num(entry.packetsReceived);
      stats.audio.packetsLost += num(entry.packetsLost);
    } else if (entry.type === "inbound-rtp" && kind === "video") {
      stats.video.bytesReceived += num(entry.bytesReceived);
      stats.video.framesDecoded += num(entry.framesDecoded);
    } else if (entry.type === "outbound-rtp" && kind === "audio") {
      stats.audio.bytesSent += num(entry.bytesSent);
    } else if (entry.type === "outbound-rtp" && kind === "video") {
      stats.video.bytesSent += num(entry.bytesSent);
    } else if (
      entry.type === "candidate-pair" &&
      entry.nominated === true &&
      typeof entry.currentRoundTripTime === "number"
    ) {
      rtt = entry.currentRoundTripTime * 1000;
    }
  });
  if (rtt !== undefined) {
    stats.roundTripTimeMs = rtt;
  }
  return stats;
}

/**
 * The {@link CallStats} of `pc` (zeros without one); the tracks of `screenshares` (ours and the peer's) do not
 * count.
 */
export async function collectStats(
  pc: RTCPeerConnection | undefined,
  screenshares: readonly (WrappedMediaStream | undefined)[],
): Promise<CallStats> {
  if (!pc) {
    return summarizeStats(new Map());
  }
  const screenTracks = new Set<string>();
  for (const stream of screenshares) {
    for (const track of stream?.mediaStream.getTracks() ?? []) {
      screenTracks.add(track.id);
    }
  }
  return summarizeStats(await pc.getStats(), screenTracks);
}
