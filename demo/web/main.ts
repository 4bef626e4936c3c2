/**
 * The web demo: alice and bob in one page, each with its own VoIP and browser delegate, over an in-page
 * LocalHomeserver, with real browser WebRTC. Buttons drive the calls; `window.demo` drives them for tests.
 * Remote videos are muted: both participants share the page's speakers.
 */
import { CallState } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import type { DemoApi, Who } from "./api.js";
import { element, PageTimeline, showStream, video } from "./dom.js";
import { Participant } from "./participant.js";

const timeline = new PageTimeline<Who>();
const LIVE = new Set<string>([CallState.Connecting, CallState.Connected]);

function log(who: Who, what: string): void {
  timeline.add(who, what);
}

/** The panel of one participant: videos, status line and buttons. */
class Panel {
  readonly #root: HTMLElement;
  readonly #buttons = new Map<string, HTMLButtonElement>();

  public constructor(
    private readonly me: Participant,
    actions: Record<string, () => Promise<unknown>>,
  ) {
    this.#root = element(document, `#${me.who}`);
    const controls = element(this.#root, ".controls");
    for (const [label, action] of Object.entries(actions)) {
      const button = document.createElement("button");
      button.textContent = label;
      button.className = label.toLowerCase().replace(/[^a-z]+/g, "-");
      button.addEventListener("click", () => {
        action().catch((error: unknown) => {
          log(me.who, `${label} failed: ${error instanceof Error ? error.message : String(error)}`);
        });
      });
      controls.append(button);
      this.#buttons.set(label, button);
    }
  }

  /** Redraws videos, status and button states from the participant's call. */
  public render(): void {
    const call = this.me.call;
    const s = this.me.snapshot();
    const live = LIVE.has(s.state);
    showStream(video(this.#root, "video.local"), live ? call?.localUserMediaStream?.mediaStream : undefined);
    showStream(
      video(this.#root, "video.remote"),
      live ? call?.remoteUserMediaStream?.mediaStream : undefined,
    );
    const screen = video(this.#root, "video.screen");
    showStream(screen, live ? call?.remoteScreenSharingStream?.mediaStream : undefined);
    screen.hidden = screen.srcObject === null;
    const flags = [
      s.micMuted ? "mic muted" : "",
      s.remoteAudioMuted ? "peer mic muted" : "",
      s.remoteVideoMuted ? "peer camera off" : "",
      s.localOnHold ? "held by peer" : "",
      s.remoteOnHold ? "peer on hold" : "",
      s.screensharing ? "sharing screen" : "",
      s.remoteScreensharing ? "peer shares screen" : "",
    ].filter(Boolean);
    const reason = s.hangupReason ? ` (${s.hangupReason})` : "";
    element(this.#root, ".status").textContent =
      `— ${s.state}${reason}${flags.length ? ` · ${flags.join(" · ")}` : ""}`;
    const idle = !call || s.state === CallState.Ended;
    this.#enable("Call", idle);
    this.#enable("Answer", s.state === CallState.Ringing);
    for (const label of ["Mute", "Hold", "Share screen", "DTMF 123#"]) {
      this.#enable(label, s.state === CallState.Connected);
    }
    this.#enable("Hang up", !idle);
    this.#label("Mute", s.micMuted ? "Unmute" : "Mute");
    this.#label("Hold", s.remoteOnHold ? "Resume" : "Hold");
    this.#label("Share screen", s.screensharing ? "Stop sharing" : "Share screen");
  }

  #enable(label: string, enabled: boolean): void {
    const button = this.#buttons.get(label);
    if (button) {
      button.disabled = !enabled;
    }
  }

  #label(label: string, text: string): void {
    const button = this.#buttons.get(label);
    if (button) {
      button.textContent = text;
    }
  }
}

async function start(): Promise<void> {
  const hs = new LocalHomeserver({ serverName: "local" });
  hs.setTurnServers(undefined); // loopback only: no TURN to wait for
  const ids: Record<Who, string> = { alice: "@alice:local", bob: "@bob:local" };
  const roomId = await hs.createRoom({ creator: ids.alice, members: [ids.bob], isDirect: true });
  const panels: Panel[] = [];
  const rerender = (): void => {
    for (const panel of panels) {
      panel.render();
    }
  };
  const make = (who: Who, deviceId: string): Participant =>
    new Participant(who, ids[who], hs.createClient(ids[who], deviceId), {
      log: (what) => {
        log(who, what);
      },
      changed: rerender,
    });
  const people: Record<Who, Participant> = { alice: make("alice", "ALICEWEB"), bob: make("bob", "BOBWEB") };
  const other = (who: Who): Who => (who === "alice" ? "bob" : "alice");

  const api: DemoApi = {
    call: (from = "alice") => people[from].invite(roomId, ids[other(from)]),
    answer: (who = "bob") => people[who].answer(),
    setMicrophoneMuted: (who, muted) => people[who].requireCall().setMicrophoneMuted(muted),
    setLocalVideoMuted: (who, muted) => people[who].requireCall().setLocalVideoMuted(muted),
    setRemoteOnHold: (who, onHold) => people[who].requireCall().setRemoteOnHold(onHold),
    setScreensharing: (who, enabled) => people[who].requireCall().setScreensharingEnabled(enabled),
    sendDTMF: (tones, who = "alice") => {
      people[who].sendDTMF(tones);
    },
    dtmfToneChanges: (who = "alice") => people[who].toneChanges,
    hangup: (who = "alice") => people[who].requireCall().hangup(),
    state: () => ({ alice: people.alice.snapshot(), bob: people.bob.snapshot() }),
    stats: async () => {
      const [alice, bob] = await Promise.all([people.alice.call?.getStats(), people.bob.call?.getStats()]);
      return { alice: alice ?? null, bob: bob ?? null };
    },
    renderedFrames: () => {
      const frames = (who: Who): number =>
        video(document, `#${who} video.remote`).getVideoPlaybackQuality().totalVideoFrames;
      return { alice: frames("alice"), bob: frames("bob") };
    },
    timeline: () => timeline.entries(),
  };

  for (const who of ["alice", "bob"] as const) {
    const me = people[who];
    panels.push(
      new Panel(me, {
        Call: () => api.call(who),
        Answer: () => api.answer(who),
        Mute: () => api.setMicrophoneMuted(who, !me.snapshot().micMuted),
        Hold: () => api.setRemoteOnHold(who, !me.snapshot().remoteOnHold),
        "Share screen": () => api.setScreensharing(who, !me.snapshot().screensharing),
        "DTMF 123#": () => {
          api.sendDTMF("123#", who);
          return Promise.resolve();
        },
        "Hang up": () => api.hangup(who),
      }),
    );
  }
  // Hold and remote mute also change through renegotiation on the other side: refresh now and then too.
  setInterval(rerender, 500);
  rerender();
  log("alice", `ready in room ${roomId}`);
  window.demo = api;
}

start().catch((error: unknown) => {
  log("alice", `start failed: ${error instanceof Error ? error.message : String(error)}`);
});
