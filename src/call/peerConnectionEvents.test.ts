import { describe, expect, it } from "vitest";
import { silentLogger, type LogContext, type Logger } from "../core/Logger.js";
import { listenToPeerConnection, type PeerConnectionHandlers } from "./peerConnectionEvents.js";

/** An event of a peer connection, with the fields the handlers read. */
function pcEvent(type: string, fields: Record<string, unknown> = {}): Event {
  return Object.assign(new Event(type), fields);
}

function recorder(): { calls: [string, unknown][]; handlers: PeerConnectionHandlers } {
  const calls: [string, unknown][] = [];
  return {
    calls,
    handlers: {
      onIceCandidate: (candidate) => calls.push(["icecandidate", candidate]),
      onIceGatheringStateChange: () => calls.push(["icegatheringstatechange", undefined]),
      onIceConnectionStateChange: () => calls.push(["iceconnectionstatechange", undefined]),
      onNegotiationNeeded: () => calls.push(["negotiationneeded", undefined]),
      onTrack: (event) => calls.push(["track", event.streams]),
    },
  };
}

describe("listenToPeerConnection", () => {
  it("routes each peer connection event to its handler", () => {
    const pc = new EventTarget();
    const { calls, handlers } = recorder();
    listenToPeerConnection(pc as RTCPeerConnection, handlers, silentLogger);
    const candidate = { candidate: "candidate:1 1 udp 1 10.0.0.1 5000 typ host" };
    pc.dispatchEvent(pcEvent("icecandidate", { candidate }));
    pc.dispatchEvent(pcEvent("icecandidate", { candidate: null }));
    pc.dispatchEvent(pcEvent("icegatheringstatechange"));
    pc.dispatchEvent(pcEvent("iceconnectionstatechange"));
    pc.dispatchEvent(pcEvent("negotiationneeded"));
    pc.dispatchEvent(pcEvent("track", { streams: ["s"] }));
    expect(calls).toEqual([
      ["icecandidate", candidate],
      ["icecandidate", null],
      ["icegatheringstatechange", undefined],
      ["iceconnectionstatechange", undefined],
      ["negotiationneeded", undefined],
      ["track", ["s"]],
    ]);
  });

  it("logs a throwing handler instead of letting the error reach the peer connection", () => {
    const pc = new EventTarget();
    const errors: [string, LogContext | undefined][] = [];
    const log: Logger = { ...silentLogger, error: (message, context) => errors.push([message, context]) };
    const { calls, handlers } = recorder();
    const failure = new Error("boom");
    listenToPeerConnection(
      pc as RTCPeerConnection,
      {
        ...handlers,
        onNegotiationNeeded: () => {
          throw failure;
        },
      },
      log,
    );
    expect(() => pc.dispatchEvent(pcEvent("negotiationneeded"))).not.toThrow();
    pc.dispatchEvent(pcEvent("icegatheringstatechange"));
    expect(errors).toEqual([
      ["peer connection handler failed", { type: "negotiationneeded", error: failure }],
    ]);
    expect(calls).toEqual([["icegatheringstatechange", undefined]]);
  });

  it("stops every handler once detached", () => {
    const pc = new EventTarget();
    const { calls, handlers } = recorder();
    const detach = listenToPeerConnection(pc as RTCPeerConnection, handlers, silentLogger);
    detach();
    detach();
    for (const type of [
      "icecandidate",
      "icegatheringstatechange",
      "iceconnectionstatechange",
      "negotiationneeded",
    ]) {
      pc.dispatchEvent(pcEvent(type, { candidate: null }));
    }
    pc.dispatchEvent(pcEvent("track", { streams: [] }));
    expect(calls).toEqual([]);
  });
});
