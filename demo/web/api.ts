/**
 * The test API the web demo exposes as `window.demo` (types only, shared by the page and the browser test).
 */
import type { CallErrorCode, CallState, CallStats } from "../../src/index.js";

/** One of the two participants of the page. */
export type Who = "alice" | "bob";

/** What a participant's current (or last) call looks like. */
export interface ParticipantState {
  /** The call state (`ringing`, `connected`, `ended`, …), or `idle` before any call. */
  state: CallState | "idle";
  hangupReason?: CallErrorCode;
  micMuted: boolean;
  videoMuted: boolean;
  /** The peer's user-media stream as we see it. */
  remoteAudioMuted?: boolean;
  remoteVideoMuted?: boolean;
  /** We were put on hold by the peer. */
  localOnHold: boolean;
  /** We put the peer on hold. */
  remoteOnHold: boolean;
  screensharing: boolean;
  remoteScreensharing: boolean;
}

/** A line of the page's timeline. */
export interface TimelineEntry {
  /** Milliseconds since the page started. */
  t: number;
  who: Who;
  what: string;
}

/** `window.demo`: drives the page the way its buttons do, and reads back what a user would see. */
export interface DemoApi {
  /** `from` calls the other participant (video); resolves once the call is registered. Default alice. */
  call(from?: Who): Promise<void>;
  /** `who` answers its ringing call (waits up to 5 s for it to ring). Default bob. */
  answer(who?: Who): Promise<void>;
  setMicrophoneMuted(who: Who, muted: boolean): Promise<void>;
  setLocalVideoMuted(who: Who, muted: boolean): Promise<void>;
  setRemoteOnHold(who: Who, onHold: boolean): Promise<void>;
  /** Starts or stops screen sharing; resolves with whether it is now on. */
  setScreensharing(who: Who, enabled: boolean): Promise<boolean>;
  /** Sends DTMF from `who`'s call (default alice); throws what `CallSession.sendDTMF` throws. */
  sendDTMF(tones: string, who?: Who): void;
  /** The `tone` of every `tonechange` event of `who`'s DTMF sender, in order; `""` marks the end of a run. */
  dtmfToneChanges(who?: Who): string[];
  /** `who` hangs up (default alice). */
  hangup(who?: Who): Promise<void>;
  state(): Record<Who, ParticipantState>;
  /** `CallSession.getStats()` of each side's call (null without a call). */
  stats(): Promise<Record<Who, CallStats | null>>;
  /** Frames the remote `<video>` element of each side has rendered (0 without video). */
  renderedFrames(): Record<Who, number>;
  timeline(): TimelineEntry[];
}

declare global {
  interface Window {
    /** Set once the page is ready (homeserver, room, both participants). */
    demo?: DemoApi;
  }
}
