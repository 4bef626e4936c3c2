/**
 * `famedly-calls/livekit-node`: end-to-end encrypted media for LiveKit group calls in Node (bots, tests, tools).
 * Bridges the media keys our key manager distributes over Matrix into `@livekit/rtc-node` 1.1.0 (an optional peer
 * dependency, pinned exactly because the bridge works around gaps in its E2EE API).
 *
 * @packageDocumentation
 */
export {
  LiveKitNodeKeyBridge,
  type LiveKitNodeKeyBridgeEvents,
  type LiveKitNodeKeyBridgeOptions,
} from "./LiveKitNodeKeyBridge.js";
