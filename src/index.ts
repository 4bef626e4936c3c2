/**
 * famedly-calls: Matrix calls that interoperate with Famedly's apps.
 *
 * @packageDocumentation
 */
export { VoIP } from "./voip/VoIP.js";
export type { VoipEvents, VoipOptions } from "./voip/VoipOptions.js";
export { REFERENCE_TIMEOUTS, DEFAULT_TIMEOUTS, type CallTimeouts } from "./call/timeouts.js";
export {
  CallSession,
  type CallSessionEvents,
  type CallSessionInit,
  type InboundCandidate,
} from "./call/CallSession.js";
export type { CallEvents } from "./call/events.js";
export { CallParticipant } from "./call/CallParticipant.js";
export { WrappedMediaStream, type StreamPurpose } from "./call/WrappedMediaStream.js";
export { CallType, CallDirection, CallState, CallErrorCode, callErrorCodeFromWire } from "./call/types.js";
export { CALL_TRANSITIONS, canTransition } from "./call/callState.js";
export type { CallStats } from "./call/stats.js";
export type { StreamMetadata, StreamMetadataEntry, ReplacesFields, WireIdentity } from "./call/signalling.js";
export type { AssertedIdentity } from "./call/events.js";
export { GroupCallSession } from "./group/GroupCallSession.js";
export {
  GroupCallState,
  type GroupCallEvents,
  type GroupCallEvent,
  type GroupCallReaction,
  type GroupCallReactionRemoved,
  type LocalMuteChange,
  type KeysChange,
} from "./group/events.js";
export {
  MeshBackend,
  LiveKitBackend,
  type CallBackend,
  type LiveKitBackendOptions,
  type MeshBackendJson,
  type LiveKitBackendJson,
} from "./group/CallBackend.js";
export type { EncryptionKeyProvider } from "./group/EncryptionKeyProvider.js";
export type { WebRTCDelegate } from "./voip/WebRTCDelegate.js";
export type { WebRTCPlatform, DelegateMediaDevices } from "./webrtc/WebRTCDelegate.js";
export { createBrowserDelegate } from "./webrtc/adapters/browser.js";
export type {
  MatrixClientPort,
  SyncBatch,
  SyncRoom,
  RoomEvent,
  StateEvent,
  ToDeviceEvent,
  RoomInfo,
  DelayedEvent,
  TurnServers,
  SendBudget,
} from "./matrix/MatrixClientPort.js";
export {
  CallEventType,
  MeshEventType,
  GroupEventType,
  KeyEventType,
  type Dialect,
} from "./matrix/eventTypes.js";
export { parseContent, type ParseResult, type ParsedContent } from "./matrix/parse.js";
export { VoipError, VoipErrorCode, MatrixPortError, isVoipError } from "./core/errors.js";
export { systemClock, type Clock, type TimerHandle } from "./core/Clock.js";
export { silentLogger, consoleLogger, type Logger, type LogContext, type LogLevel } from "./core/Logger.js";
export { cryptoRandom, type RandomSource } from "./core/random.js";
export type { Unsubscribe } from "./core/TypedEventEmitter.js";
