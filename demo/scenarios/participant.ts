// One demo participant: a VoIP over a Matrix client with real (synthetic) media, narrating into the timeline.
import {
  VoIP,
  type CallSession,
  type CallState,
  type MatrixClientPort,
  type VoipOptions,
} from "../../src/index.js";
import { createNodeDelegate, type NodeDelegateOptions } from "../../src/node/index.js";
import type { Timeline } from "../timeline.js";

/** Options of a {@link DemoParticipant}. */
export interface DemoParticipantOptions {
  /** Options of its `VoIP` (timeouts, logger). */
  voip?: VoipOptions;
  /** Options of its Node delegate (synthetic media). Default: a tone and 320×240 video at 15 fps. */
  media?: Pick<NodeDelegateOptions, "audio" | "video">;
}

/**
 * A participant of a demo scenario. Its delegate records the app callbacks and, through `registerListeners`,
 * every state and stream change of its call into the timeline, from the call's first state on.
 */
export class DemoParticipant {
  /** `${userId}:${deviceId}`, the `who` of its timeline lines. */
  public readonly id: string;
  public readonly userId: string;
  public readonly deviceId: string;
  public readonly voip: VoIP;
  /** The state sequence of its (first) call, starting with the state it had when registered. */
  public readonly states: CallState[] = [];
  #call: CallSession | undefined;
  #remoteMute = "";
  readonly #reachedAt = new Map<CallState, number>();
  readonly #timeline: Timeline;

  public constructor(client: MatrixClientPort, timeline: Timeline, opts: DemoParticipantOptions = {}) {
    this.userId = client.userId;
    this.deviceId = client.deviceId;
    this.id = `${client.userId}:${client.deviceId}`;
    this.#timeline = timeline;
    const note = (name: string) => (): void => {
      this.log(`callback ${name}`);
    };
    const delegate = createNodeDelegate({
      ...opts.media,
      playRingtone: note("playRingtone"),
      stopRingtone: note("stopRingtone"),
      handleNewCall: note("handleNewCall"),
      handleCallEnded: note("handleCallEnded"),
      handleMissedCall: note("handleMissedCall"),
      registerListeners: (call) => {
        this.#attach(call);
      },
    });
    this.voip = new VoIP(client, delegate, opts.voip);
  }

  /** The participant's call, once there is one. */
  public get call(): CallSession | undefined {
    return this.#call;
  }

  /** When (timeline milliseconds) its call first reached `state`, if it has. */
  public reachedAt(state: CallState): number | undefined {
    return this.#reachedAt.get(state);
  }

  /** Adds a line for this participant to the timeline. */
  public log(what: string): void {
    this.#timeline.add(this.id, what);
  }

  /** Hangs up whatever is still running and releases the VoIP. */
  public async dispose(): Promise<void> {
    await this.voip.dispose();
  }

  #attach(call: CallSession): void {
    if (this.#call !== undefined) {
      this.log(`another call ${call.callId} (${call.direction}); not followed`);
      return;
    }
    this.#call = call;
    this.states.push(call.state);
    this.log(`${call.direction} ${call.type} call ${call.callId}, state ${call.state}`);
    call.on("stateChanged", (state) => {
      if (!this.#reachedAt.has(state)) {
        this.#reachedAt.set(state, this.#timeline.elapsed());
      }
      this.states.push(state);
      this.log(`state ${state}`);
    });
    call.on("streamAdded", (stream) => {
      this.log(`stream added: ${stream.isLocal ? "local" : "remote"} ${stream.purpose}`);
    });
    call.on("streamRemoved", (stream) => {
      this.log(`stream removed: ${stream.isLocal ? "local" : "remote"} ${stream.purpose}`);
    });
    call.on("holdChanged", ({ localOnHold, remoteOnHold }) => {
      this.log(
        `hold changed: we are ${localOnHold ? "" : "not "}on hold, peer ${remoteOnHold ? "" : "not "}on hold`,
      );
    });
    call.on("feedsChanged", () => {
      const remote = call.remoteUserMediaStream;
      if (remote === undefined) {
        return;
      }
      const mute = `remote audio ${remote.audioMuted ? "muted" : "unmuted"}, video ${remote.videoMuted ? "muted" : "unmuted"}`;
      if (mute !== this.#remoteMute) {
        this.#remoteMute = mute;
        this.log(mute);
      }
    });
    call.on("error", (error) => {
      this.log(`error ${error.code}: ${error.message}`);
    });
    call.on("ended", (reason) => {
      this.log(`ended: ${reason}`);
    });
  }
}
