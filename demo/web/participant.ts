/**
 * One participant of the web demo: a Matrix client on the in-page homeserver, a browser delegate, a VoIP
 * instance, and its current call. Knows nothing about the DOM; the page renders it.
 */
import {
  CallState,
  CallType,
  createBrowserDelegate,
  VoIP,
  type CallSession,
  type MatrixClientPort,
  type WebRTCDelegate,
} from "../../src/index.js";
import type { ParticipantState, Who } from "./api.js";

/** Where a participant reports what happens to it. */
export interface ParticipantHooks {
  log: (what: string) => void;
  /** Something visible changed (state, streams, mute, hold). */
  changed: () => void;
}

/** A participant of the page: `alice` or `bob`. */
export class Participant {
  public readonly voip: VoIP;
  /** The current call, or the last one once it ended. */
  public call: CallSession | undefined;
  readonly #peerConnections: RTCPeerConnection[] = [];
  readonly #tones: string[] = [];
  readonly #observedDtmf = new WeakSet<RTCDTMFSender>();

  public constructor(
    public readonly who: Who,
    public readonly userId: string,
    client: MatrixClientPort,
    private readonly hooks: ParticipantHooks,
  ) {
    const base = createBrowserDelegate({
      playRingtone: () => {
        hooks.log("ringtone on");
      },
      stopRingtone: () => {
        hooks.log("ringtone off");
      },
      registerListeners: (call) => {
        this.#adopt(call);
      },
      handleNewCall: (call) => {
        hooks.log(`new ${call.direction} ${call.type} call`);
      },
      handleCallEnded: (call) => {
        hooks.log(`call ended (${call.hangupReason ?? "?"})`);
      },
      handleMissedCall: () => {
        hooks.log("missed call");
      },
    });
    // Keep every peer connection the library creates, to watch its DTMF sender.
    const delegate: WebRTCDelegate = {
      ...base,
      createPeerConnection: async (config) => {
        const pc = await base.createPeerConnection(config);
        this.#peerConnections.push(pc);
        return pc;
      },
    };
    this.voip = new VoIP(client, delegate);
  }

  /** Calls `userId` (video) in `roomId`. */
  public async invite(roomId: string, userId: string): Promise<void> {
    this.call = await this.voip.inviteToCall(roomId, CallType.Video, userId);
  }

  /** Answers the ringing call, waiting up to `timeoutMs` for it to ring. */
  public async answer(timeoutMs = 5000): Promise<void> {
    const end = performance.now() + timeoutMs;
    while (this.call?.state !== CallState.Ringing) {
      if (performance.now() > end) {
        throw new Error(`${this.who}: no ringing call to answer`);
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.call.answer();
  }

  /** The current call, or an error naming the participant. */
  public requireCall(): CallSession {
    if (!this.call) {
      throw new Error(`${this.who} has no call`);
    }
    return this.call;
  }

  /** Sends DTMF on the current call, recording the `tonechange` events of the sender the library uses. */
  public sendDTMF(tones: string): void {
    const call = this.requireCall();
    const pc = this.#peerConnections.at(-1);
    const dtmf = pc?.getSenders().find((s) => s.track?.kind === "audio")?.dtmf;
    if (dtmf && !this.#observedDtmf.has(dtmf)) {
      this.#observedDtmf.add(dtmf);
      dtmf.addEventListener("tonechange", (event) => {
        this.#tones.push(event.tone);
        this.hooks.log(event.tone === "" ? "DTMF done" : `DTMF tone ${event.tone}`);
      });
    }
    call.sendDTMF(tones);
    this.hooks.log(`DTMF "${tones}" queued`);
  }

  /** The `tone` of every `tonechange` event so far (`""` ends a run). */
  public get toneChanges(): string[] {
    return [...this.#tones];
  }

  /** What a user of this side sees. */
  public snapshot(): ParticipantState {
    const call = this.call;
    if (!call) {
      return {
        state: "idle",
        micMuted: false,
        videoMuted: false,
        localOnHold: false,
        remoteOnHold: false,
        screensharing: false,
        remoteScreensharing: false,
      };
    }
    const remote = call.remoteUserMediaStream;
    return {
      state: call.state,
      ...(call.hangupReason === undefined ? {} : { hangupReason: call.hangupReason }),
      micMuted: call.isMicrophoneMuted(),
      videoMuted: call.isLocalVideoMuted(),
      ...(remote ? { remoteAudioMuted: remote.audioMuted, remoteVideoMuted: remote.videoMuted } : {}),
      localOnHold: call.isLocalOnHold(),
      remoteOnHold: call.isRemoteOnHold(),
      screensharing: call.localScreenSharingStream !== undefined,
      remoteScreensharing: call.remoteScreenSharingStream !== undefined,
    };
  }

  #adopt(call: CallSession): void {
    this.call = call;
    const { log, changed } = this.hooks;
    call.on("stateChanged", (state, previous) => {
      log(`${previous} → ${state}`);
      changed();
    });
    call.on("feedsChanged", changed);
    call.on("streamAdded", (stream) => {
      log(`${stream.isLocal ? "local" : "remote"} ${stream.purpose} stream added`);
    });
    call.on("streamRemoved", (stream) => {
      log(`${stream.isLocal ? "local" : "remote"} ${stream.purpose} stream removed`);
    });
    call.on("holdChanged", ({ localOnHold, remoteOnHold }) => {
      log(`hold: we are ${localOnHold ? "" : "not "}held, peer is ${remoteOnHold ? "" : "not "}held`);
      changed();
    });
    call.on("ended", (reason) => {
      log(`ended: ${reason}`);
      changed();
    });
    call.on("error", (error) => {
      log(`error ${error.code}: ${error.message}`);
    });
    changed();
  }
}
