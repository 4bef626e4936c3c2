/**
 * The test API of the web demo's SFU page (`sfu.html`), exposed as `window.sfu` (types only, shared by the page and
 * the browser test).
 */

/** One of the two participants of the SFU page. */
export type SfuWho = "alice" | "bob";

/** What one participant of the SFU page sees. */
export interface SfuParticipantState {
  /** `${userId}:${deviceId}`: the Matrix device and the LiveKit identity. */
  identity: string;
  /** The group call state (`entered`, …) and the LiveKit connection state. */
  groupState: string;
  connection: string;
  /** The index of the key we encrypt with, as set by our key manager (undefined before the first). */
  keyIndex?: number;
  /** Keys the key manager handed to the bridge (ours and the other participant's). */
  keysSet: number;
  /** The remote video: its size and how many frames were rendered (requestVideoFrameCallback). */
  remoteVideoWidth: number;
  remoteFramesRendered: number;
  /** A hash of the remote video's pixels right now (changes while decoded video plays). */
  remoteFrameHash: string;
  /** E2EE errors livekit-client reported (wrong or missing keys). */
  e2eeErrors: string[];
}

/** `window.sfu`. */
export interface SfuApi {
  /** Enters the Matrix group call and joins the LiveKit room with E2EE, publishing camera and microphone. */
  join(who: SfuWho): Promise<void>;
  /** Leaves LiveKit and the group call. */
  leave(who: SfuWho): Promise<void>;
  state(): Record<SfuWho, SfuParticipantState>;
  /** The ICE server URLs of every RTCPeerConnection the page created. */
  iceServerUrls(): string[];
}

declare global {
  interface Window {
    sfu?: SfuApi;
  }
}
