/**
 * `famedly-calls/livekit`: end-to-end encrypted media for LiveKit group calls in the browser. Bridges the media keys
 * our key manager distributes over Matrix into `livekit-client` (an optional peer dependency).
 *
 * @packageDocumentation
 */
export { LiveKitKeyBridge, type LiveKitKeyBridgeOptions } from "./LiveKitKeyBridge.js";
