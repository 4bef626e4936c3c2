import type { Clock } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { RandomSource } from "../core/random.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";
import type { CallEventType } from "../matrix/eventTypes.js";
import type { CallTimeouts } from "./timeouts.js";
import type { WebRTCPlatform } from "../webrtc/WebRTCDelegate.js";
import type { CallEvents } from "./events.js";
import type { LegMediaSource } from "./LocalMedia.js";
import type { CallDirection, CallErrorCode, CallState, CallType } from "./types.js";

/** How a `CallSession` is created (by `VoIP`). */
export interface CallSessionInit {
  /** The `call_id` of the call on the wire. */
  callId: string;
  /** The room the call belongs to. */
  roomId: string;
  /** Voice or video, as the call starts. */
  type: CallType;
  /** Whether we place the call or the peer does. */
  direction: CallDirection;
  /** The peer's user id. */
  remoteUserId?: string;
  /** The peer's device id, when known (an invite's `device_id`, or the device we invite). */
  remoteDeviceId?: string;
  /** The peer's `party_id`, when known (from an incoming invite). */
  remotePartyId?: string;
  /** The group call this call is a mesh leg of; absent for a 1:1 call. */
  groupCallId?: string;
  /** A mesh leg: the peer's session id (`dest_session_id`), known before the call binds. */
  remoteSessionId?: string;
  /** @internal A mesh leg: the group's local media, sent as clones instead of asking the devices. */
  media?: LegMediaSource;
}

/** How a call's signalling leaves: room events for 1:1 calls, to-device messages for mesh legs. */
export interface SignallingTransport {
  /**
   * Sends one signalling event (the transport adds routing fields); rejects when it could not be sent. An abort of
   * `signal` cancels the send while it waits (a rate limit, encryption keys): it rejects with the signal's reason.
   */
  send(
    type: CallEventType,
    content: object,
    opts?: {
      /** Cancels the send (the call ended). */
      signal?: AbortSignal;
    },
  ): Promise<void>;
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
