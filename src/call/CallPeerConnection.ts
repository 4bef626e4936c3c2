import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { CallCore } from "./CallContext.js";
import type { CallMedia } from "./CallMedia.js";
import { isLive } from "./callState.js";
import type { IceAgent } from "./IceAgent.js";
import { listenToPeerConnection } from "./peerConnectionEvents.js";
import { CallErrorCode } from "./types.js";

/** @internal What a {@link CallPeerConnection} needs from its call. */
export interface CallPeerConnectionHost extends CallCore {
  readonly ice: IceAgent;
  readonly media: CallMedia;
  /** True when ICE trouble may be met with a restart (our invite or answer is out). */
  mayRestartIce(): boolean;
  /** The peer connection's `negotiationneeded`. */
  onNegotiationNeeded(): void;
  /** ICE connected (or reconnected). */
  onIceConnected(): void;
}

/**
 * @internal The `RTCPeerConnection` of one call: opened with the current ICE servers, its events routed to the
 * call's parts (candidates and gathering to the {@link IceAgent}, tracks to the {@link CallMedia}, negotiation to
 * the call), ICE restarted on trouble with fresh TURN credentials, closed once when the call ends.
 */
export class CallPeerConnection {
  readonly #host: CallPeerConnectionHost;
  #pc: RTCPeerConnection | undefined;
  #detach: (() => void) | undefined;

  public constructor(host: CallPeerConnectionHost) {
    this.#host = host;
  }

  /** The peer connection, once opened. */
  public get current(): RTCPeerConnection | undefined {
    return this.#pc;
  }

  /** Creates the peer connection; if the call ended meanwhile it is closed at once and not listened to. */
  public async open(): Promise<RTCPeerConnection> {
    const host = this.#host;
    let iceServers: RTCIceServer[] = [];
    try {
      iceServers = await host.ctx.getIceServers();
    } catch (error) {
      host.log.warn("no ICE servers", { error });
    }
    const pc = await host.ctx.delegate.createPeerConnection({ iceServers });
    this.#pc = pc;
    if (!isLive(host.state())) {
      pc.close();
      return pc;
    }
    this.#detach = listenToPeerConnection(
      pc,
      {
        onIceCandidate: (candidate) => {
          if (isLive(host.state())) {
            host.ice.onLocalCandidate(candidate);
          }
        },
        onIceGatheringStateChange: () => {
          host.ice.onGatheringStateChange();
        },
        onIceConnectionStateChange: () => {
          this.#onIceConnectionState();
        },
        onNegotiationNeeded: () => {
          host.onNegotiationNeeded();
        },
        onTrack: (event) => {
          host.media.onTrack(event);
        },
      },
      host.log,
    );
    return pc;
  }

  /**
   * Restarts ICE (a renegotiation follows), with fresh ICE servers when they can be fetched.
   * @throws {VoipError} `invalid_state` without a live peer connection.
   */
  public async restartIce(): Promise<void> {
    const host = this.#host;
    const pc = this.#pc;
    if (!pc || !isLive(host.state())) {
      throw new VoipError(VoipErrorCode.InvalidState, "no live peer connection");
    }
    try {
      const iceServers = await host.ctx.getIceServers();
      pc.setConfiguration({ ...pc.getConfiguration(), iceServers });
    } catch (error) {
      host.log.warn("could not refresh ICE servers for the restart", { error });
    }
    pc.restartIce();
  }

  /** Stops listening and closes the peer connection (the call ended). */
  public close(): void {
    const pc = this.#pc;
    if (!pc) {
      return;
    }
    this.#detach?.();
    this.#detach = undefined;
    try {
      pc.close();
    } catch (error) {
      this.#host.log.debug("closing the peer connection failed", { error });
    }
  }

  /** A disconnection outlasted its grace or a restart its timeout: act on the connection state as it is now. */
  public recheckIceConnection(): void {
    this.#onIceConnectionState(true);
  }

  #onIceConnectionState(recheck = false): void {
    const host = this.#host;
    const pc = this.#pc;
    if (!pc || !isLive(host.state())) {
      return;
    }
    const ice = pc.iceConnectionState;
    host.log.debug("ICE connection state", { ice });
    const action = host.ice.onConnectionState(ice, host.mayRestartIce(), recheck);
    if (action === "connected") {
      host.onIceConnected();
    } else if (action === "restart") {
      this.restartIce().catch((error: unknown) => {
        host.log.warn("ICE restart failed", { error });
      });
    } else if (action === "give-up") {
      void host.hangup(CallErrorCode.IceFailed);
    }
  }
}
