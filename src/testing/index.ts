/**
 * `famedly-calls/testing`: an in-memory homeserver, a manual clock and event-capture helpers, for the library's
 * tests, the demo and apps that test their call UI. No heavy dependency.
 *
 * @packageDocumentation
 */
export { LocalHomeserver } from "./LocalHomeserver.js";
export { ManualClock, MANUAL_CLOCK_START } from "./ManualClock.js";
export { waitFor, captureEvents } from "./helpers.js";
export type {
  WaitForOptions,
  Subscribable,
  EventArgs,
  EventsOf,
  CapturedEvent,
  EventCapture,
} from "./helpers.js";
export type {
  LocalHomeserverOptions,
  CreateRoomOptions,
  Faults,
  RoomStateEntry,
  DeviceAddress,
  TranscriptEntry,
  HomeserverStats,
} from "./types.js";
export { DEFAULT_SEED, seededRandom } from "./prng.js";
export type { RandomFn } from "./prng.js";
export { RecordingKeyProvider, type RecordedKey } from "./RecordingKeyProvider.js";
