/**
 * The test API of the web demo's mesh page (`mesh.html`), exposed as `window.mesh` (types only, shared by the page
 * and the browser test).
 */
import type { CallStats } from "../../src/index.js";

/** The three participants of the mesh page. */
export const MESH_WHO = ["alice", "bob", "carol"] as const;

/** One of the three participants of the mesh page. */
export type MeshWho = (typeof MESH_WHO)[number];

/** What one participant sees of its leg to another member, and of that member's tile. */
export interface MeshTileState {
  /** The leg's call state (`connected`, …), or `none` without a leg to that member. */
  callState: string;
  /** Frames the tile's `<video>` has rendered (`getVideoPlaybackQuality().totalVideoFrames`). */
  framesRendered: number;
  /** The tile is highlighted as the active speaker (its `data-speaking` attribute). */
  highlighted: boolean;
}

/** What one participant of the mesh page sees. */
export interface MeshParticipantState {
  /** The group call's state (`entered`, …), or `none` before the first enter. */
  groupState: string;
  /** Whether our microphone is muted in the group call. */
  micMuted: boolean;
  /** Who the group call's `activeSpeakerChanged` event last named (ourselves included), or null. */
  activeSpeaker: MeshWho | null;
  /** Our own tile is highlighted as the active speaker. */
  localHighlighted: boolean;
  /** One entry per other participant. */
  tiles: Partial<Record<MeshWho, MeshTileState>>;
}

/** `window.mesh`: drives the page the way its buttons do, and reads back what a user would see. */
export interface MeshApi {
  /** `who` enters the mesh group call (camera and microphone, 320×180 at 15 fps). */
  enter(who: MeshWho): Promise<void>;
  /** `who` leaves the group call. */
  leave(who: MeshWho): Promise<void>;
  /** Only `who` talks: its microphone is unmuted, every other participant's is muted (group mute). */
  talk(who: MeshWho): Promise<void>;
  state(): Record<MeshWho, MeshParticipantState>;
  /** `CallSession.getStats()` of each participant's leg to each other participant. */
  stats(): Promise<Record<MeshWho, Partial<Record<MeshWho, CallStats>>>>;
  /** The ICE server URLs of every RTCPeerConnection the page created. */
  iceServerUrls(): string[];
}

declare global {
  interface Window {
    /** Set once the mesh page is ready (homeserver, room, three clients). */
    mesh?: MeshApi;
  }
}
