/**
 * Records the ICE servers of every RTCPeerConnection the page creates or reconfigures, so the browser test can check
 * that no public STUN/TURN server is among them. Imported before livekit-client, which keeps a reference to the class.
 */
const urls: string[] = [];

function record(config: RTCConfiguration | undefined): void {
  for (const server of config?.iceServers ?? []) {
    urls.push(...(Array.isArray(server.urls) ? server.urls : [server.urls]));
  }
}

const Native = window.RTCPeerConnection;
window.RTCPeerConnection = class extends Native {
  public constructor(config?: RTCConfiguration) {
    record(config);
    super(config);
  }

  public override setConfiguration(config?: RTCConfiguration): void {
    record(config);
    super.setConfiguration(config);
  }
};

/** Every ICE server URL configured so far. */
export function iceServerUrls(): string[] {
  return [...urls];
}
