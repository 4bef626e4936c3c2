// The one-to-one scenario: a video call between two participants, walked through every feature and verified.
import {
  CallErrorCode,
  CallState,
  CallType,
  type MatrixClientPort,
  type VoipOptions,
} from "../../src/index.js";
import { probeRemoteMedia } from "../../src/node/index.js";
import type { DemoSummary, ParticipantSummary, ScenarioOutcome, StepFailure } from "../summary.js";
import type { Timeline } from "../timeline.js";
import { DemoParticipant } from "./participant.js";
import { StepError, waitFor, withTimeout } from "./wait.js";

/** Where the call happens: two logged-in clients sharing a room. */
export interface OneToOneEnv {
  caller: MatrixClientPort;
  callee: MatrixClientPort;
  roomId: string;
}

/** Options of {@link OneToOneScenario}. */
export interface OneToOneOptions {
  timeline: Timeline;
  /** The longest any one step may take; default 8000 ms. */
  stepTimeoutMs?: number;
  /** Options of both participants' `VoIP`s. */
  voip?: VoipOptions;
}

type Probe = ReturnType<typeof probeRemoteMedia>;

/**
 * invite → ringing → answer → connected → media → mute → hold → unhold → screen share on/off → stats → hangup,
 * each step verified on the other side. {@link OneToOneScenario.run} never throws: a failed step ends the run
 * with `ok: false` and names the step; {@link OneToOneScenario.snapshot} reports a run that is still going (for an
 * overall timeout).
 */
export class OneToOneScenario {
  readonly #env: OneToOneEnv;
  readonly #timeline: Timeline;
  readonly #stepTimeoutMs: number;
  readonly #caller: DemoParticipant;
  readonly #callee: DemoParticipant;
  readonly #probes: { caller?: Probe; callee?: Probe } = {};
  readonly #frames = { caller: 0, callee: 0 };
  readonly #audioBytes = { caller: 0, callee: 0 };
  #step = "setup";
  #inviteAt: number | undefined;

  public constructor(env: OneToOneEnv, opts: OneToOneOptions) {
    this.#env = env;
    this.#timeline = opts.timeline;
    this.#stepTimeoutMs = opts.stepTimeoutMs ?? 8000;
    const participantOpts = opts.voip !== undefined ? { voip: opts.voip } : {};
    this.#caller = new DemoParticipant(env.caller, opts.timeline, participantOpts);
    this.#callee = new DemoParticipant(env.callee, opts.timeline, participantOpts);
  }

  /** The step running now (or the last one). */
  public get currentStep(): string {
    return this.#step;
  }

  /** Runs every step, then releases both participants. */
  public async run(): Promise<ScenarioOutcome> {
    let failure: StepFailure | undefined;
    try {
      await this.#run();
    } catch (error) {
      const step = error instanceof StepError ? error.step : this.#step;
      failure = { step, message: error instanceof Error ? error.message : String(error) };
      this.#timeline.add("demo", `✗ step "${step}" failed: ${failure.message}`);
    }
    await this.dispose();
    return this.snapshot(failure);
  }

  /** The result so far; `ok` only when no failure is given and both calls ended as expected. */
  public snapshot(failure?: StepFailure): ScenarioOutcome {
    const callee = this.#callee.call;
    const setupMs = this.#setupMs();
    const summary: DemoSummary = {
      scenario: "one-to-one",
      ok: failure === undefined && this.#step === "done",
      setupMs: Math.round(setupMs ?? 0),
      participants: [this.#participant("caller"), this.#participant("callee")],
      hangupReason: callee?.hangupReason ?? "",
      events: this.#timeline.events(),
    };
    return failure === undefined ? { summary } : { summary, failure };
  }

  /** Stops the probes and disposes both participants (hanging up a call still running). Idempotent. */
  public async dispose(): Promise<void> {
    this.#probes.caller?.stop();
    this.#probes.callee?.stop();
    await Promise.allSettled([this.#caller.dispose(), this.#callee.dispose()]);
  }

  async #run(): Promise<void> {
    const caller = this.#caller;
    const callee = this.#callee;
    await this.#doStep("invite, ring and answer", async () => {
      const ringing = new Promise<void>((resolve, reject) => {
        const off = callee.voip.on("incomingCall", (call) => {
          off();
          callee.log(`incoming call from ${call.remoteUserId ?? "?"}, answering`);
          call.answer().then(resolve, reject);
        });
      });
      this.#inviteAt = this.#timeline.elapsed();
      caller.log(`inviteToCall(${this.#env.roomId}, video, ${callee.userId})`);
      await caller.voip.inviteToCall(this.#env.roomId, CallType.Video, callee.userId);
      await ringing;
      return "callee rang and answered";
    });
    await this.#doStep("connect", async () => {
      await this.#until(
        () => caller.call?.state === CallState.Connected && callee.call?.state === CallState.Connected,
        "both sides connected",
      );
      return `both sides connected, setup ${Math.round(this.#setupMs() ?? 0)} ms`;
    });
    await this.#doStep("media", async () => {
      const incoming = this.#remoteUserMedia("callee");
      const outgoing = this.#remoteUserMedia("caller");
      this.#probes.callee = probeRemoteMedia(incoming);
      this.#probes.caller = probeRemoteMedia(outgoing);
      const flowing = (p: Probe | undefined): boolean =>
        p !== undefined && p.audioSamples() > 0 && p.videoFrames() > 0;
      await this.#until(
        () => flowing(this.#probes.callee) && flowing(this.#probes.caller),
        "audio and video both ways",
      );
      return `audio and video flow both ways (${describe(this.#probes.callee)} at the callee)`;
    });
    await this.#doStep("mute", async () => {
      await caller.call!.setMicrophoneMuted(true);
      await this.#until(
        () => callee.call?.remoteUserMediaStream?.audioMuted === true,
        "callee to see remote audio muted",
      );
      await caller.call!.setMicrophoneMuted(false);
      await this.#until(
        () => callee.call?.remoteUserMediaStream?.audioMuted === false,
        "callee to see remote audio unmuted",
      );
      return "callee saw the caller's audio muted, then unmuted";
    });
    await this.#doStep("hold", async () => {
      await caller.call!.setRemoteOnHold(true);
      await this.#until(() => callee.call?.isLocalOnHold() === true, "callee isLocalOnHold()");
      if (!caller.call!.isRemoteOnHold()) {
        throw new Error("caller's isRemoteOnHold() is false");
      }
      return "callee is on hold (isLocalOnHold)";
    });
    await this.#doStep("unhold", async () => {
      await caller.call!.setRemoteOnHold(false);
      await this.#until(() => callee.call?.isLocalOnHold() === false, "callee no longer on hold");
      const before = this.#probes.caller?.videoFrames() ?? 0;
      await this.#until(
        () => (this.#probes.caller?.videoFrames() ?? 0) > before,
        "caller to receive video again",
      );
      return "callee is off hold and media resumed";
    });
    await this.#doStep("screen share on", async () => {
      if (!(await caller.call!.setScreensharingEnabled(true))) {
        throw new Error("setScreensharingEnabled(true) returned false");
      }
      await this.#until(
        () => callee.call?.remoteScreenSharingStream !== undefined,
        "callee to get the screen share",
      );
      const probe = probeRemoteMedia(callee.call!.remoteScreenSharingStream!.mediaStream);
      try {
        await this.#until(() => probe.videoFrames() > 0, "screen-share frames at the callee");
        return `callee receives the screen share (${probe.videoFrames()} frames)`;
      } finally {
        probe.stop();
      }
    });
    await this.#doStep("screen share off", async () => {
      await caller.call!.setScreensharingEnabled(false);
      await this.#until(
        () => callee.call?.remoteScreenSharingStream === undefined,
        "the screen share to go away",
      );
      return "the callee's remote screen share is gone";
    });
    await this.#doStep("stats", async () => {
      for (const role of ["caller", "callee"] as const) {
        const stats = await (role === "caller" ? caller : callee).call!.getStats();
        this.#audioBytes[role] = stats.audio.bytesReceived;
        this.#frames[role] = stats.video.framesDecoded || (this.#probes[role]?.videoFrames() ?? 0);
        if (this.#audioBytes[role] <= 0 || this.#frames[role] <= 0) {
          throw new Error(
            `${role} received ${this.#audioBytes[role]} audio bytes, ${this.#frames[role]} video frames`,
          );
        }
      }
      const c = this.#audioBytes;
      const f = this.#frames;
      return `audio bytes received ${c.caller}/${c.callee}, video frames ${f.caller}/${f.callee} (caller/callee)`;
    });
    await this.#doStep("hangup", async () => {
      await caller.call!.hangup();
      await this.#until(
        () => caller.call?.state === CallState.Ended && callee.call?.state === CallState.Ended,
        "both calls ended",
      );
      for (const p of [caller, callee]) {
        if (p.call?.hangupReason !== CallErrorCode.UserHangup) {
          throw new Error(`${p.id} ended with ${p.call?.hangupReason ?? "no reason"}, expected user_hangup`);
        }
      }
      return "both sides ended with user_hangup";
    });
    this.#step = "done";
  }

  async #doStep(name: string, body: () => Promise<string>): Promise<void> {
    this.#step = name;
    try {
      const detail = await withTimeout(body(), `step "${name}"`, this.#stepTimeoutMs);
      this.#timeline.add("demo", `✓ ${name}: ${detail}`);
    } catch (error) {
      throw new StepError(name, error instanceof Error ? error.message : String(error), { cause: error });
    }
  }

  #until(predicate: () => boolean, what: string): Promise<void> {
    return waitFor(predicate, what, this.#stepTimeoutMs);
  }

  #remoteUserMedia(role: "caller" | "callee"): MediaStream {
    const stream = (role === "caller" ? this.#caller : this.#callee).call?.remoteUserMediaStream;
    if (stream === undefined) {
      throw new Error(`${role} has no remote user-media stream`);
    }
    return stream.mediaStream;
  }

  #setupMs(): number | undefined {
    const a = this.#caller.reachedAt(CallState.Connected);
    const b = this.#callee.reachedAt(CallState.Connected);
    if (this.#inviteAt === undefined || a === undefined || b === undefined) {
      return undefined;
    }
    return Math.max(a, b) - this.#inviteAt;
  }

  #participant(role: "caller" | "callee"): ParticipantSummary {
    const p = role === "caller" ? this.#caller : this.#callee;
    return {
      userId: p.userId,
      deviceId: p.deviceId,
      states: [...p.states],
      audioBytesReceived: this.#audioBytes[role],
      videoFramesReceived: this.#frames[role],
    };
  }
}

function describe(probe: Probe | undefined): string {
  return probe === undefined
    ? "no probe"
    : `${probe.audioSamples()} audio samples, ${probe.videoFrames()} video frames`;
}
