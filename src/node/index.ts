/**
 * `famedly-calls/node`: the Node platform for famedly-calls, on `@roamhq/wrtc` (an optional peer dependency).
 * Importing this module has no side effects; `@roamhq/wrtc` is loaded on first use.
 *
 * @packageDocumentation
 */
export { createNodeDelegate, type NodeDelegateOptions, type NodeMediaOptions } from "./createNodeDelegate.js";
export { installExitGuard } from "./exitGuard.js";
export type { VideoFormat } from "./frames.js";
export { probeRemoteMedia, type RemoteMediaProbe, type RemoteMediaProbeOptions } from "./mediaProbe.js";
export type { WrtcAudioData, WrtcVideoFrame } from "./wrtc.js";
