/**
 * The web demo's mesh page: alice, bob and carol in one page, each with its own VoIP and browser delegate over one
 * in-page LocalHomeserver, enter one mesh group call in an encrypted room (Olm-encrypted to-device signalling, as
 * the in-page homeserver simulates it) with the browser's real WebRTC between every pair. Each participant sees a
 * tile per other member and its own; the tile of the participant its group call names as active speaker is
 * highlighted. Buttons drive it; `window.mesh` drives it for tests. Remote tiles play their audio (only the local
 * tile is muted): Chromium measures a received stream's audio level after the element's volume, so a muted tile
 * would never become the active speaker.
 */
import { iceServerUrls } from "./iceRecorder.js"; // first: records every RTCPeerConnection's ICE servers
import { GroupCallState } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import { element, PageTimeline, showStream } from "./dom.js";
import {
  MESH_WHO,
  type MeshApi,
  type MeshParticipantState,
  type MeshTileState,
  type MeshWho,
} from "./meshApi.js";
import { MeshMember } from "./meshMember.js";

const timeline = new PageTimeline<MeshWho>();
const USERS: Record<MeshWho, string> = { alice: "@alice:local", bob: "@bob:local", carol: "@carol:local" };

function whoIs(userId: string | undefined): MeshWho | undefined {
  return MESH_WHO.find((who) => USERS[who] === userId);
}

/** One tile: a member's video and name, highlighted while it is the active speaker. */
class Tile {
  public readonly root = document.createElement("div");
  public readonly video = document.createElement("video");
  readonly #label = document.createElement("span");

  public constructor(
    public readonly who: MeshWho,
    private readonly name: string,
    local: boolean,
  ) {
    this.root.className = "tile";
    this.root.dataset.who = who;
    this.video.autoplay = true;
    this.video.playsInline = true;
    this.video.muted = local;
    this.#label.className = "label";
    this.root.append(this.video, this.#label);
  }

  public render(stream: MediaStream | undefined, speaking: boolean, detail: string): void {
    showStream(this.video, stream);
    this.root.dataset.speaking = String(speaking);
    this.#label.textContent = `${this.name}${speaking ? " · speaking" : ""}${detail ? ` · ${detail}` : ""}`;
  }

  public get framesRendered(): number {
    return this.video.getVideoPlaybackQuality().totalVideoFrames;
  }
}

/** The panel of one participant: its tiles, buttons and status line. */
class Panel {
  readonly #root: HTMLElement;
  readonly #remote: Tile[];
  readonly #local: Tile;
  readonly #buttons = new Map<string, HTMLButtonElement>();

  public constructor(
    private readonly me: MeshMember,
    actions: Record<string, () => Promise<unknown>>,
  ) {
    this.#root = element(document, `#${me.who}`);
    this.#remote = MESH_WHO.filter((w) => w !== me.who).map((w) => new Tile(w, w, false));
    this.#local = new Tile(me.who, `${me.who} (you)`, true);
    element(this.#root, ".tiles").append(...this.#remote.map((t) => t.root), this.#local.root);
    const controls = element(this.#root, ".controls");
    for (const [label, action] of Object.entries(actions)) {
      const button = document.createElement("button");
      button.textContent = label;
      button.addEventListener("click", () => {
        action().catch((error: unknown) => {
          timeline.add(me.who, `${label} failed: ${error instanceof Error ? error.message : String(error)}`);
        });
      });
      controls.append(button);
      this.#buttons.set(label, button);
    }
  }

  /** Redraws tiles, status and buttons from the member's group call. */
  public render(): void {
    const me = this.me;
    const entered = me.group?.state === GroupCallState.Entered;
    for (const tile of this.#remote) {
      const leg = me.legTo(tile.who);
      tile.render(me.remoteStream(tile.who), entered && me.activeSpeaker === tile.who, leg?.state ?? "");
    }
    this.#local.render(
      entered ? me.localStream?.mediaStream : undefined,
      entered && me.activeSpeaker === me.who,
      me.micMuted ? "mic muted" : "",
    );
    element(this.#root, ".status").textContent =
      `${me.group?.state ?? "not entered"} · active speaker: ${entered ? (me.activeSpeaker ?? "–") : "–"}`;
    this.#enable("Enter", !entered);
    for (const label of ["Talk", "Mute", "Leave"]) {
      this.#enable(label, entered);
    }
    const mute = this.#buttons.get("Mute");
    if (mute) {
      mute.textContent = me.micMuted ? "Unmute" : "Mute";
    }
  }

  /** What the participant sees, for the test API. */
  public state(): MeshParticipantState {
    const me = this.me;
    const tiles: Partial<Record<MeshWho, MeshTileState>> = {};
    for (const tile of this.#remote) {
      tiles[tile.who] = {
        callState: me.legTo(tile.who)?.state ?? "none",
        framesRendered: tile.framesRendered,
        highlighted: tile.root.dataset.speaking === "true",
      };
    }
    return {
      groupState: me.group?.state ?? "none",
      micMuted: me.micMuted,
      activeSpeaker: me.activeSpeaker,
      localHighlighted: this.#local.root.dataset.speaking === "true",
      tiles,
    };
  }

  #enable(label: string, enabled: boolean): void {
    const button = this.#buttons.get(label);
    if (button) {
      button.disabled = !enabled;
    }
  }
}

async function start(): Promise<void> {
  const hs = new LocalHomeserver({ serverName: "local" });
  hs.setTurnServers(undefined); // loopback only: no TURN, no STUN
  const roomId = await hs.createRoom({
    creator: USERS.alice,
    members: [USERS.bob, USERS.carol],
    encrypted: true,
    powerLevels: { events: { "com.famedly.call.member": 0 } },
  });
  const panels = new Map<MeshWho, Panel>();
  const rerender = (): void => {
    for (const panel of panels.values()) {
      panel.render();
    }
  };
  const members = {} as Record<MeshWho, MeshMember>;
  for (const who of MESH_WHO) {
    const client = hs.createClient(USERS[who], `${who.toUpperCase()}WEB`);
    members[who] = new MeshMember(who, client, roomId, whoIs, {
      log: (what) => {
        timeline.add(who, what);
      },
      changed: rerender,
    });
  }

  const api: MeshApi = {
    enter: (who) => members[who].enter(),
    leave: (who) => members[who].leave(),
    talk: async (who) => {
      const entered = MESH_WHO.filter((w) => members[w].group?.state === GroupCallState.Entered);
      await Promise.all(entered.map((w) => members[w].setMicrophoneMuted(w !== who)));
    },
    state: () => {
      const state = {} as Record<MeshWho, MeshParticipantState>;
      for (const [who, panel] of panels) {
        state[who] = panel.state();
      }
      return state;
    },
    stats: async () => {
      const stats = {} as Awaited<ReturnType<MeshApi["stats"]>>;
      for (const who of MESH_WHO) {
        stats[who] = {};
        for (const other of MESH_WHO.filter((w) => w !== who)) {
          const leg = members[who].legTo(other);
          if (leg) {
            stats[who][other] = await leg.getStats();
          }
        }
      }
      return stats;
    },
    iceServerUrls,
  };

  for (const who of MESH_WHO) {
    const me = members[who];
    panels.set(
      who,
      new Panel(me, {
        Enter: () => api.enter(who),
        Talk: () => api.talk(who),
        Mute: () => me.setMicrophoneMuted(!me.micMuted),
        Leave: () => api.leave(who),
      }),
    );
  }
  // Leg states and remote streams also change without an event of the group call: refresh now and then too.
  setInterval(rerender, 500);
  rerender();
  timeline.add("alice", `ready in encrypted room ${roomId}`);
  window.mesh = api;
}

start().catch((error: unknown) => {
  timeline.add("alice", `start failed: ${error instanceof Error ? error.message : String(error)}`);
});
