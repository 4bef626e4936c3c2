import type { Logger } from "../core/Logger.js";

/** What a call does with the events of its peer connection. */
export interface PeerConnectionHandlers {
  /** `icecandidate`: a local candidate, or `null` at the end of a generation. */
  onIceCandidate: (candidate: RTCIceCandidate | null) => void;
  /** `icegatheringstatechange`. */
  onIceGatheringStateChange: () => void;
  /** `iceconnectionstatechange`. */
  onIceConnectionStateChange: () => void;
  /** `negotiationneeded`. */
  onNegotiationNeeded: () => void;
  /** `track`: a remote track arrived. */
  onTrack: (event: RTCTrackEvent) => void;
}

/**
 * @internal Subscribes `handlers` to the events of `pc`. A handler that throws is logged and never reaches the
 * peer connection. Returns a function that removes every listener again.
 */
export function listenToPeerConnection(
  pc: RTCPeerConnection,
  handlers: PeerConnectionHandlers,
  log: Logger,
): () => void {
  const listeners: [string, EventListener][] = [];
  const listen = (type: string, fn: (event: Event) => void): void => {
    const listener: EventListener = (event) => {
      try {
        fn(event);
      } catch (error) {
        log.error("peer connection handler failed", { type, error });
      }
    };
    pc.addEventListener(type, listener);
    listeners.push([type, listener]);
  };
  listen("icecandidate", (e) => {
    handlers.onIceCandidate((e as RTCPeerConnectionIceEvent).candidate);
  });
  listen("icegatheringstatechange", () => {
    handlers.onIceGatheringStateChange();
  });
  listen("iceconnectionstatechange", () => {
    handlers.onIceConnectionStateChange();
  });
  listen("negotiationneeded", () => {
    handlers.onNegotiationNeeded();
  });
  listen("track", (e) => {
    handlers.onTrack(e as RTCTrackEvent);
  });
  return () => {
    for (const [type, listener] of listeners) {
      pc.removeEventListener(type, listener);
    }
    listeners.length = 0;
  };
}
