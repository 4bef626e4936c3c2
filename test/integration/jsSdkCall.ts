// matrix-js-sdk's own 1:1 calls (MatrixCall) in Node: the browser globals it needs, and test helpers for its side.
// js-sdk checks for these globals (`supportsMatrixCall()`) in the MatrixClient constructor: install them before the js-sdk client that should
// run MatrixCall is created.
import { createRequire } from "node:module";
import { CallEvent, type MatrixClient } from "matrix-js-sdk";
import type { CallState as JsCallState, MatrixCall } from "matrix-js-sdk/lib/webrtc/call.js";
import { CallEventHandlerEvent } from "matrix-js-sdk/lib/webrtc/callEventHandler.js";
import type { DelegateMediaDevices, RoomEvent } from "../../src/index.js";
import { probeRemoteMedia } from "../../src/node/index.js";
import { until } from "../helpers/calls.js";
import { timelineOf, type TestClient } from "./clients.js";

/** The part of `@roamhq/wrtc` that js-sdk reaches through globals. */
interface WrtcGlobals {
  RTCPeerConnection: unknown;
  RTCSessionDescription: unknown;
  RTCIceCandidate: unknown;
  RTCRtpSender: unknown;
  RTCRtpReceiver: unknown;
  MediaStream: unknown;
  MediaStreamTrack: unknown;
}

/** `CallFeed` runs speaking detection through an `AnalyserNode`; a silent stub is enough. */
class StubAudioContext {
  public createAnalyser(): object {
    const analyser = {
      fftSize: 2048,
      smoothingTimeConstant: 0.8,
      get frequencyBinCount(): number {
        return analyser.fftSize / 2;
      },
      getFloatFrequencyData: (data: Float32Array): void => {
        data.fill(-Infinity);
      },
    };
    return analyser;
  }
  public createMediaStreamSource(): object {
    return { connect: (): void => undefined, disconnect: (): void => undefined };
  }
  public close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Installs what matrix-js-sdk 37.5's `MatrixCall` needs in Node: `window` (with the wrtc RTC classes), `document`,
 * `navigator.mediaDevices` (the given synthetic devices: `getUserMedia` + `enumerateDevices`), `AudioContext`,
 * and the bare `RTCRtpSender` / `RTCRtpReceiver` used by `getRidOfRTXCodecs`. Safe to call more than once.
 */
export function installJsSdkCallGlobals(mediaDevices: DelegateMediaDevices): void {
  const wrtc = createRequire(import.meta.url)("@roamhq/wrtc") as WrtcGlobals;
  const g = globalThis as Record<string, unknown>;
  g.window = {
    RTCPeerConnection: wrtc.RTCPeerConnection,
    RTCSessionDescription: wrtc.RTCSessionDescription,
    RTCIceCandidate: wrtc.RTCIceCandidate,
  };
  g.document = {};
  Object.defineProperty(globalThis, "navigator", { configurable: true, value: { mediaDevices } });
  g.AudioContext = StubAudioContext;
  for (const name of ["RTCRtpSender", "RTCRtpReceiver", "MediaStream", "MediaStreamTrack"] as const) {
    g[name] = wrtc[name];
  }
}

/** Resolves with the next `Call.incoming` of `client` (its `CallEventHandler` must exist). */
export function nextJsSdkIncomingCall(client: MatrixClient, timeoutMs = 20_000): Promise<MatrixCall> {
  return new Promise((resolve, reject) => {
    const onIncoming = (call: MatrixCall): void => {
      clearTimeout(timer);
      resolve(call);
    };
    const timer = setTimeout(() => {
      client.off(CallEventHandlerEvent.Incoming, onIncoming);
      reject(new Error(`${client.getUserId() ?? "?"}: no Call.incoming within ${timeoutMs} ms`));
    }, timeoutMs);
    client.once(CallEventHandlerEvent.Incoming, onIncoming);
  });
}

/** Resolves with `getRemoteAssertedIdentity()` at the js-sdk call's next `CallEvent.AssertedIdentityChanged`. */
export function nextJsSdkAssertedIdentity(call: MatrixCall, timeoutMs = 20_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onChanged = (): void => {
      clearTimeout(timer);
      resolve(call.getRemoteAssertedIdentity());
    };
    const timer = setTimeout(() => {
      call.off(CallEvent.AssertedIdentityChanged, onChanged);
      reject(new Error(`js-sdk call ${call.callId}: no AssertedIdentityChanged within ${timeoutMs} ms`));
    }, timeoutMs);
    call.once(CallEvent.AssertedIdentityChanged, onChanged);
  });
}

/** Waits for a js-sdk call to reach `state`. */
export function untilJsSdkState(call: MatrixCall, state: JsCallState, timeoutMs = 20_000): Promise<void> {
  return until(
    () => call.state === state,
    `js-sdk call ${call.callId} ${state} (is ${call.state})`,
    timeoutMs,
  );
}

/** Decoded media that reached the js-sdk call's remote stream, and the RTP bytes its peer connection received. */
export interface JsSdkReceived {
  audioSamples: number;
  videoFrames: number;
  audioBytes: number;
  videoBytes: number;
}

/**
 * Listens to the js-sdk call's remote stream (user media by default) for `ms` after the first audio sample /
 * video frame, then reads `inbound-rtp` byte counts from `getCurrentCallStats()`.
 */
export async function receivedByJsSdk(
  call: MatrixCall,
  {
    purpose = "usermedia",
    audio = true,
    video = true,
    ms = 600,
  }: { purpose?: "usermedia" | "screenshare"; audio?: boolean; video?: boolean; ms?: number } = {},
): Promise<JsSdkReceived> {
  const stream = await waitForRemoteStream(call, purpose, { audio, video });
  const probe = probeRemoteMedia(stream);
  try {
    await until(
      () => (!audio || probe.audioSamples() > 0) && (!video || probe.videoFrames() > 0),
      `media to reach js-sdk's remote ${purpose} stream`,
      ms + 8000,
    );
    await new Promise((r) => setTimeout(r, ms));
    const bytes = { audio: 0, video: 0 };
    for (const s of (await call.getCurrentCallStats()) ?? []) {
      const stat = s as { type?: string; kind?: string; bytesReceived?: number };
      if (stat.type === "inbound-rtp" && (stat.kind === "audio" || stat.kind === "video")) {
        bytes[stat.kind] += stat.bytesReceived ?? 0;
      }
    }
    return {
      audioSamples: probe.audioSamples(),
      videoFrames: probe.videoFrames(),
      audioBytes: bytes.audio,
      videoBytes: bytes.video,
    };
  } finally {
    probe.stop();
  }
}

/** Waits for the js-sdk call's remote stream of `purpose` to hold the wanted kinds of track (a renegotiation adds them). */
async function waitForRemoteStream(
  call: MatrixCall,
  purpose: "usermedia" | "screenshare",
  want: { audio: boolean; video: boolean },
): Promise<MediaStream> {
  const get = (): MediaStream | undefined =>
    purpose === "usermedia" ? call.remoteUsermediaStream : call.remoteScreensharingStream;
  await until(
    () => {
      const stream = get();
      return (
        stream !== undefined &&
        (!want.audio || stream.getAudioTracks().length > 0) &&
        (!want.video || stream.getVideoTracks().length > 0)
      );
    },
    `js-sdk's remote ${purpose} stream with ${want.audio ? "audio " : ""}${want.video ? "video" : ""}`,
    10_000,
  );
  return get()!;
}

/**
 * The wire events of `callId` in `roomId` as `tc`'s port delivered them (decrypted), in order: both sides' events,
 * read from the recorded sync batches. Use our side's client: the js-sdk side's MatrixCall mutates the contents of
 * the events it handled (it merges later stream metadata into the object it got from the invite).
 */
export function callWireEvents(tc: TestClient, roomId: string, callId: string): RoomEvent[] {
  return timelineOf(tc, roomId).filter((e) => e.content.call_id === callId);
}

/** One line per event (`sender type content`), SDPs shortened to their m-lines and directions, for failure messages. */
export function describeWire(events: RoomEvent[]): string {
  return events
    .map((e) => {
      const content: Record<string, unknown> = { ...e.content };
      for (const key of ["offer", "answer", "description"]) {
        const d = content[key] as { type?: string; sdp?: string } | undefined;
        if (typeof d?.sdp === "string") {
          const lines = d.sdp
            .split(/\r?\n/)
            .filter((l) => /^m=|^a=(sendrecv|sendonly|recvonly|inactive|msid:)/.test(l));
          content[key] = { type: d.type, sdp: lines };
        }
      }
      if (Array.isArray(content.candidates)) {
        content.candidates = `${content.candidates.length} candidates`;
      }
      return `${e.sender} ${e.type} ${JSON.stringify(content)}`;
    })
    .join("\n");
}

/** The stream ids in the latest `sdp_stream_metadata` (either key) that `sender` put on the wire. */
export function lastMetadataStreamIds(events: RoomEvent[], sender: string): string[] {
  for (const e of [...events].reverse()) {
    const metadata = (e.content.sdp_stream_metadata ??
      e.content["org.matrix.msc3077.sdp_stream_metadata"]) as Record<string, unknown> | undefined;
    if (e.sender === sender && metadata !== undefined) {
      return Object.keys(metadata);
    }
  }
  return [];
}
