/**
 * Internal: the seam between a {@link GroupCallSession} and its backend's behaviour (mesh legs, SFU keys). The
 * session owns membership, participants, reactions and the state machine; a backend runtime reacts to them.
 *
 * Lifecycle, in order: the runtime is created with the session (so `preShareKey` can run before `enter`);
 * `enter()` calls `initLocalMedia` (if any; the delayed leave is scheduled meanwhile), publishes our membership,
 * sets `Entered`, then `onEnter`; every change of the call's members calls `onParticipantsChanged`; `leave()` calls
 * `onLeave` before our membership is removed; `dispose` runs once when the session ends (left, ended, or
 * `VoIP.dispose()`). To-device events addressed to the call (`room_id` + `conf_id`) reach `onToDevice` through
 * `VoIP`'s one dispatch point, entered or not.
 */
import type { CallParticipant } from "../call/CallParticipant.js";
import type { CallSession } from "../call/CallSession.js";
import type { WrappedMediaStream } from "../call/WrappedMediaStream.js";
import type { Clock } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { RandomSource } from "../core/random.js";
import type { MatrixClientPort, RoomEvent, RoomInfo, ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import type { ParsedMembership } from "../matrix/schemas/membership.js";
import type { CallTimeouts } from "../call/timeouts.js";
import type { WebRTCPlatform } from "../webrtc/WebRTCDelegate.js";
import type { EncryptionKeyProvider } from "./EncryptionKeyProvider.js";
import type { CallBackend } from "./CallBackend.js";
import type { GroupCallEvent, GroupCallState } from "./events.js";
import type { ElementKeyTransport } from "./elementKeyTransport.js";

/** @internal A change of the call's (non-expired) members. */
export interface ParticipantsChange {
  /** Devices that joined (ours included when it appears in room state). */
  joined: readonly ParsedMembership[];
  /** Devices that left or expired (the membership as it was last seen). */
  left: readonly ParsedMembership[];
  /** Devices whose membership was re-published (new `membershipId`, feeds, expiry or event id). */
  updated: readonly ParsedMembership[];
  /** Every current member (computed when read). */
  readonly current: readonly ParsedMembership[];
}

/**
 * @internal What group calls and their backends use of the app's `WebRTCDelegate`: the platform and the SFU key
 * provider. (The delegate's group callbacks are called by `VoIP`, which owns the full delegate type.)
 */
export type GroupCallPlatform = WebRTCPlatform & { keyProvider?: EncryptionKeyProvider };

/** @internal What a backend runtime gets from its session. */
export interface GroupCallBackendContext {
  readonly client: MatrixClientPort;
  readonly delegate: GroupCallPlatform;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly timeouts: Readonly<CallTimeouts>;
  /** Our session id (`membershipID`, mesh `sender_session_id`). */
  readonly sessionId: string;
  readonly groupCallId: string;
  readonly roomId: string;
  readonly application: string;
  readonly scope: string;
  readonly backend: CallBackend;
  readonly localParticipant: CallParticipant;
  /** `fetchOrCreateGroupCall(…, { elementKeyTransport })` as first given (LiveKit; default `"auto"`). */
  readonly elementKeyTransport: ElementKeyTransport;
  /** VoipOptions the backends read (`keyRingSize`, `enableSFUE2EEKeyRatcheting`, `allowPlaintextKeys`, `dialect`). */
  readonly options: {
    readonly keyRingSize: number;
    readonly enableSFUE2EEKeyRatcheting: boolean;
    readonly allowPlaintextKeys: boolean;
    readonly dialect: "famedly-v2" | "famedly-v1";
  };
  /** The room as the client knows it now. */
  room(): RoomInfo | undefined;
  /** The session's state now. */
  state(): GroupCallState;
  /** The call's current non-expired members (ours included once published). */
  memberships(): readonly ParsedMembership[];
  /** The current membership of one device in this call, if any. */
  membershipOf(userId: string, deviceId: string): ParsedMembership | undefined;
  /** Emits a group event (named and on the aggregated `event` stream). */
  emit(event: GroupCallEvent): void;
  /** Re-publishes our membership now (feeds changed); no-op when not entered. */
  republishMembership(): Promise<void>;
}

/** @internal What a backend implements. Every member is optional except `dispose`. */
export interface GroupCallBackendRuntime {
  /** `fetchOrCreateGroupCall(…, { preShareKey: true })`: prepare before entering (LiveKit shares a key). */
  preShareKey?(): Promise<void>;
  /**
   * Acquire local media during `enter()` (mesh). When present, the session goes through
   * `InitializingLocalCallFeed` → `LocalCallFeedInitialized`; a rejection returns it to
   * `LocalCallFeedUninitialized` and rejects `enter()`.
   */
  initLocalMedia?(stream?: WrappedMediaStream): Promise<void>;
  /** Our membership is published and the state is `Entered`. */
  onEnter?(): Promise<void>;
  /** `leave()` started (state `Leaving`), before our membership is removed. */
  onLeave?(): Promise<void>;
  /** The call's members changed (called in every state). */
  onParticipantsChanged?(change: ParticipantsChange): void;
  /** A to-device event whose `room_id`/`conf_id` name this call (not yet validated beyond that). */
  onToDevice?(event: ToDeviceEvent): void | Promise<void>;
  /** A key room event of the call's room naming this call (`io.element.call.encryption_keys`, not yet validated). */
  onRoomEvent?(event: RoomEvent): void;
  /** `fetchOrCreateGroupCall` was called again with `elementKeyTransport` (LiveKit). */
  setElementKeyTransport?(mode: ElementKeyTransport): void;
  /** Feeds for our membership entry (`[{purpose: "m.usermedia"}, …]`); `undefined` omits the field. */
  currentFeeds?(): { purpose: string }[] | undefined;
  /** `GroupCallSession.setMicrophoneMuted`. */
  setMicrophoneMuted?(muted: boolean): Promise<void>;
  /** `GroupCallSession.setLocalVideoMuted`. */
  setLocalVideoMuted?(muted: boolean): Promise<void>;
  /** `GroupCallSession.setScreensharingEnabled`; resolves with whether sharing is on. */
  setScreensharingEnabled?(enabled: boolean): Promise<boolean>;
  /** `GroupCallSession.requestEncryptionKey` (LiveKit). */
  requestEncryptionKey?(participants: readonly CallParticipant[]): Promise<void>;
  /** Mesh legs. */
  readonly calls?: readonly CallSession[];
  /** The loudest participant (mesh). */
  readonly activeSpeaker?: CallParticipant | undefined;
  /** Stops every timer and releases everything; called once. */
  dispose(): void | Promise<void>;
}

/** @internal Creates the runtime of a session's backend. */
export type GroupCallBackendFactory = (ctx: GroupCallBackendContext) => GroupCallBackendRuntime;
