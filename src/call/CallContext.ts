import type { Clock } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { RandomSource } from "../core/random.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";
import type { CallEventType } from "../matrix/eventTypes.js";
import type { CallTimeouts } from "./timeouts.js";
import type { WebRTCPlatform } from "../webrtc/WebRTCDelegate.js";
import type { CallEvents } from "./events.js";
import type { CallDirection, CallErrorCode, CallState } from "./types.js";

/** How a call's signalling leaves: room events for 1:1 calls, to-device messages for mesh legs. */
export interface SignallingTransport {
  /** Sends one signalling event (the transport adds routing fields); rejects when it could not be sent. */
  send(type: CallEventType, content: object): Promise<void>;
}

/** Which side ended a call. */
export type CallParty = "local" | "remote";

/** @internal What a `CallSession` needs from the VoIP instance that owns it. */
export interface CallContext {
  readonly client: MatrixClientPort;
  readonly delegate: WebRTCPlatform;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random: RandomSource;
  readonly timeouts: Readonly<CallTimeouts>;
  /** Our party id (the VoIP session id). */
  readonly sessionId: string;
  /** Wait the full gathering/answer delays as the reference does, instead of sending once gathering completes. */
  readonly fixedWaits: boolean;
  readonly transport: SignallingTransport;
  /** ICE servers for a new or restarting peer connection (TURN from the homeserver). */
  getIceServers(): Promise<RTCIceServer[]>;
  /** Called exactly once when the call has ended, after its own `ended` event. */
  onTerminated(party: CallParty, reason: CallErrorCode, shouldEmit: boolean): void;
}

/** @internal What the parts of one call (its media, its negotiation) share with their `CallSession`. */
export interface CallCore {
  readonly ctx: CallContext;
  /** The call's logger. */
  readonly log: Logger;
  readonly direction: CallDirection;
  /** The call's peer connection, once created. */
  peerConnection(): RTCPeerConnection | undefined;
  state(): CallState;
  /** Emits an event of the call. */
  emit<K extends keyof CallEvents>(event: K, ...args: Parameters<CallEvents[K]>): void;
  /** Ends the call and tells the peer (`CallSession.hangup`). */
  hangup(reason: CallErrorCode): Promise<void>;
}
