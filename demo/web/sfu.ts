/**
 * The web demo's SFU page: alice and bob, each with its own VoIP over one in-page LocalHomeserver, enter a LiveKit
 * group call; our key manager distributes their media keys over (simulated) Olm to-device messages, a LiveKitKeyBridge
 * hands them to livekit-client, and both join a real LiveKit server with end-to-end encryption. Each renders the
 * other's video. `window.sfu` drives it for tests. Needs the server's `/livekit/config` and `/livekit/token` routes
 * (`npm run demo:web -- --livekit`).
 */
import { iceServerUrls } from "./iceRecorder.js"; // first: before livekit-client sees RTCPeerConnection
import { Room, RoomEvent, Track, type RemoteTrack } from "livekit-client";
import { createBrowserDelegate, LiveKitBackend, VoIP, type GroupCallSession } from "../../src/index.js";
import { LiveKitKeyBridge } from "../../src/livekit/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import type { SfuApi, SfuParticipantState, SfuWho } from "./sfuApi.js";

const hs = new LocalHomeserver();
hs.setTurnServers(undefined);
const USERS: Record<SfuWho, string> = { alice: "@alice:local", bob: "@bob:local" };
const roomId = await hs.createRoom({
  creator: USERS.alice,
  members: [USERS.bob],
  encrypted: true,
  powerLevels: { events: { "com.famedly.call.member": 0 } },
});
const config = (await (await fetch("/livekit/config")).json()) as { wsUrl: string };

/** Counts the key manager's calls on the way to the bridge. */
class CountingBridge extends LiveKitKeyBridge {
  public keysSet = 0;
  public override async onSetEncryptionKey(
    ...args: Parameters<LiveKitKeyBridge["onSetEncryptionKey"]>
  ): Promise<void> {
    this.keysSet += 1;
    await super.onSetEncryptionKey(...args);
  }
}

class SfuParticipant {
  public readonly identity: string;
  public readonly bridge = new CountingBridge();
  public readonly voip: VoIP;
  public group: GroupCallSession | undefined;
  public room: Room | undefined;
  public framesRendered = 0;
  public readonly e2eeErrors: string[] = [];
  private readonly video: HTMLVideoElement;
  private readonly canvas = document.createElement("canvas");

  public constructor(public readonly who: SfuWho) {
    const deviceId = who.toUpperCase();
    this.identity = `${USERS[who]}:${deviceId}`;
    this.voip = new VoIP(
      hs.createClient(USERS[who], deviceId),
      createBrowserDelegate({ keyProvider: this.bridge }),
    );
    this.video = document.querySelector(`#${who} video.remote`)!;
    this.canvas.width = 32;
    this.canvas.height = 24;
  }

  public async join(): Promise<void> {
    const backend = new LiveKitBackend({ livekitServiceUrl: "/livekit", livekitAlias: "sfu-demo" });
    this.group = await this.voip.fetchOrCreateGroupCall("sfu-demo-call", roomId, backend);
    await this.group.enter();
    const worker = new Worker("./e2ee-worker.js");
    const room = new Room({ e2ee: { keyProvider: this.bridge.keyProvider, worker } });
    this.room = room;
    room.on(RoomEvent.TrackSubscribed, (track) => {
      this.show(track);
    });
    room.on(RoomEvent.EncryptionError, (error) => {
      this.e2eeErrors.push(error.message);
    });
    await room.setE2EEEnabled(true);
    const token = await (await fetch(`/livekit/token?identity=${encodeURIComponent(this.identity)}`)).text();
    await room.connect(config.wsUrl, token);
    await room.localParticipant.enableCameraAndMicrophone();
    const local = room.localParticipant
      .getTrackPublications()
      .find((p) => p.kind === Track.Kind.Video)?.track;
    if (local !== undefined) {
      local.attach(document.querySelector<HTMLVideoElement>(`#${this.who} video.local`)!);
    }
  }

  public async leave(): Promise<void> {
    await this.room?.disconnect();
    await this.group?.leave();
  }

  public state(): SfuParticipantState {
    return {
      identity: this.identity,
      groupState: this.group?.state ?? "none",
      connection: this.room?.state ?? "disconnected",
      ...(this.bridge.keyIndex(this.identity) === undefined
        ? {}
        : { keyIndex: this.bridge.keyIndex(this.identity) }),
      keysSet: this.bridge.keysSet,
      remoteVideoWidth: this.video.videoWidth,
      remoteFramesRendered: this.framesRendered,
      remoteFrameHash: this.frameHash(),
      e2eeErrors: [...this.e2eeErrors],
    };
  }

  private show(track: RemoteTrack): void {
    if (track.kind !== Track.Kind.Video) {
      return;
    }
    track.attach(this.video);
    const onFrame = (): void => {
      this.framesRendered += 1;
      this.video.requestVideoFrameCallback(onFrame);
    };
    this.video.requestVideoFrameCallback(onFrame);
  }

  private frameHash(): string {
    if (this.video.videoWidth === 0) {
      return "";
    }
    const context = this.canvas.getContext("2d", { willReadFrequently: true })!;
    context.drawImage(this.video, 0, 0, this.canvas.width, this.canvas.height);
    let hash = 0;
    for (const byte of context.getImageData(0, 0, this.canvas.width, this.canvas.height).data) {
      hash = (hash * 31 + byte) >>> 0;
    }
    return hash.toString(16);
  }
}

const participants: Record<SfuWho, SfuParticipant> = {
  alice: new SfuParticipant("alice"),
  bob: new SfuParticipant("bob"),
};

function render(): void {
  for (const p of Object.values(participants)) {
    const s = p.state();
    document.querySelector(`#${p.who} .status`)!.textContent =
      `${s.groupState} · ${s.connection} · key index ${s.keyIndex ?? "–"} · ${s.keysSet} keys from the key manager · ` +
      `${s.remoteFramesRendered} remote frames decrypted`;
  }
}
setInterval(render, 250);

for (const who of ["alice", "bob"] as const) {
  document.querySelector(`#${who} button.join`)!.addEventListener("click", () => {
    void participants[who].join();
  });
}

const api: SfuApi = {
  join: (who) => participants[who].join(),
  leave: (who) => participants[who].leave(),
  state: () => ({ alice: participants.alice.state(), bob: participants.bob.state() }),
  iceServerUrls,
};
window.sfu = api;
