/**
 * One participant of the web demo's mesh page: a Matrix client on the in-page homeserver, a browser delegate whose
 * camera is small (320×180 at 15 fps, to fit three participants' six video legs on two cores), a VoIP instance and
 * its mesh group call. Knows nothing about the DOM; the page renders it.
 */
import {
  CallState,
  createBrowserDelegate,
  MeshBackend,
  VoIP,
  type CallSession,
  type GroupCallSession,
  type MatrixClientPort,
  type WrappedMediaStream,
} from "../../src/index.js";
import type { MeshWho } from "./meshApi.js";

/** The group call every participant of the page enters. */
export const MESH_CALL_ID = "web-demo-mesh";

/** The camera every participant asks for (whatever the library's own constraints say). */
const SMALL_VIDEO: MediaTrackConstraints = { width: 320, height: 180, frameRate: 15 };

/** Legs that carry media (or are about to). */
const LIVE = new Set<string>([CallState.Connecting, CallState.Connected]);

/** Where a member reports what happens to it. */
export interface MeshMemberHooks {
  log: (what: string) => void;
  /** Something visible changed (legs, streams, speaker, mute). */
  changed: () => void;
}

/** A participant of the mesh page. */
export class MeshMember {
  public readonly voip: VoIP;
  public group: GroupCallSession | undefined;
  /** Who the group call's `activeSpeakerChanged` event last named. */
  public activeSpeaker: MeshWho | null = null;
  /** Our camera and microphone while in the call. */
  public localStream: WrappedMediaStream | undefined;

  public constructor(
    public readonly who: MeshWho,
    client: MatrixClientPort,
    private readonly roomId: string,
    private readonly whoIs: (userId: string | undefined) => MeshWho | undefined,
    private readonly hooks: MeshMemberHooks,
  ) {
    const devices = navigator.mediaDevices;
    this.voip = new VoIP(
      client,
      createBrowserDelegate({
        mediaDevices: {
          getUserMedia: (constraints) =>
            devices.getUserMedia({ ...constraints, video: constraints?.video ? SMALL_VIDEO : false }),
          getDisplayMedia: (options) => devices.getDisplayMedia(options),
        },
      }),
    );
  }

  /** Enters the group call (camera and microphone). */
  public async enter(): Promise<void> {
    const group = await this.voip.fetchOrCreateGroupCall(MESH_CALL_ID, this.roomId, new MeshBackend());
    if (this.group !== group) {
      this.group = group;
      this.#adopt(group);
    }
    await group.enter();
  }

  /** Leaves the group call. */
  public async leave(): Promise<void> {
    await this.group?.leave();
  }

  /** Mutes or unmutes our microphone on every leg. */
  public async setMicrophoneMuted(muted: boolean): Promise<void> {
    await this.requireGroup().setMicrophoneMuted(muted);
  }

  /** Whether our microphone is muted (false outside a call). */
  public get micMuted(): boolean {
    return this.localStream?.audioMuted ?? false;
  }

  /** The group call, or an error naming the participant. */
  public requireGroup(): GroupCallSession {
    if (!this.group) {
      throw new Error(`${this.who} has not entered`);
    }
    return this.group;
  }

  /** Our leg to `other` (the live one when a replaced leg is still winding down). */
  public legTo(other: MeshWho): CallSession | undefined {
    const legs = this.group?.calls.filter((leg) => this.whoIs(leg.remoteUserId) === other) ?? [];
    return legs.find((leg) => LIVE.has(leg.state)) ?? legs[0];
  }

  /** The video `other` sends us, while our leg to it is live. */
  public remoteStream(other: MeshWho): MediaStream | undefined {
    const leg = this.legTo(other);
    return leg && LIVE.has(leg.state) ? leg.remoteUserMediaStream?.mediaStream : undefined;
  }

  #adopt(group: GroupCallSession): void {
    const { log, changed } = this.hooks;
    group.on("stateChanged", (state, previous) => {
      log(`group ${previous} → ${state}`);
      changed();
    });
    group.on("callAdded", (leg) => {
      const peer = this.whoIs(leg.remoteUserId) ?? leg.remoteUserId ?? "?";
      log(`leg ${leg.direction} ${peer}`);
      leg.on("stateChanged", (state) => {
        if (state === CallState.Connected || state === CallState.Ended) {
          log(`${state} with ${peer}`);
        }
        changed();
      });
      leg.on("feedsChanged", changed);
      changed();
    });
    group.on("callRemoved", changed);
    group.on("callReplaced", changed);
    group.on("streamAdded", (stream) => {
      if (stream.isLocal && stream.purpose === "m.usermedia") {
        this.localStream = stream;
      }
      changed();
    });
    group.on("streamRemoved", (stream) => {
      if (stream === this.localStream) {
        this.localStream = undefined;
      }
      changed();
    });
    group.on("localMuteChanged", ({ kind, muted }) => {
      log(`${kind} ${muted ? "muted" : "unmuted"}`);
      changed();
    });
    group.on("activeSpeakerChanged", (participant) => {
      this.activeSpeaker = this.whoIs(participant?.userId) ?? null;
      log(`active speaker: ${this.activeSpeaker ?? "nobody"}`);
      changed();
    });
  }
}
