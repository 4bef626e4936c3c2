import { CallParticipant } from "../../call/CallParticipant.js";
import type { CallSession } from "../../call/CallSession.js";
import { CallErrorCode, CallState } from "../../call/types.js";
import type { WrappedMediaStream } from "../../call/WrappedMediaStream.js";
import type { TimerHandle } from "../../core/Clock.js";
import type { Logger } from "../../core/Logger.js";
import { retryDelayMs, type RetryPolicy } from "../../core/retry.js";
import type { ToDeviceEvent } from "../../matrix/MatrixClientPort.js";
import type { ParsedMembership } from "../../matrix/schemas/membership.js";
import type {
  GroupCallBackendContext,
  GroupCallBackendRuntime,
  ParticipantsChange,
} from "../../group/backendRuntime.js";
import { GroupCallState } from "../../group/events.js";
import { ActiveSpeakerCore, receivedEnergy, sentEnergy, type EnergySample } from "./activeSpeaker.js";
import { acceptLeg, placeLeg, type LegOptions, type MeshLegFactory } from "./legs.js";
import { MeshInbound, type InboundInvite } from "./MeshInbound.js";
import { MeshMedia } from "./MeshMedia.js";

/** How often the active speaker is re-evaluated (the reference: every 5 s). */
export const ACTIVE_SPEAKER_INTERVAL_MS = 1_000;
/**
 * When a failed leg (ICE failed after its restarts, invite timed out, …) is placed again: after the shared backoff
 * of `src/core/retry.ts` (about 0.5 s, 1 s, 2 s … up to 8 s, jittered) per failure in a row, for as long as the
 * member is there (no limit on attempts); a leg that connects starts the count over.
 */
export const LEG_REPLACE_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: Number.POSITIVE_INFINITY,
  baseDelayMs: 500,
  maxDelayMs: 8_000,
};
/** Hangup reasons that mean the peer left or was replaced, not that the leg failed. */
const NOT_A_FAILURE: ReadonlySet<CallErrorCode> = new Set([
  CallErrorCode.UserHangup,
  CallErrorCode.Replaced,
  CallErrorCode.AnsweredElsewhere,
  CallErrorCode.UserBusy,
]);

/**
 * @internal The mesh backend's behaviour (reference §6.7; PROTOCOL G2, G3, G5–G7): one leg per other member,
 * placed by the device whose `"${userId}:${deviceId}"` is smaller (G2) and answered automatically by the other;
 * a member whose `membershipID` changed gets a new leg; a failed leg is placed again while the member is there;
 * mute and screen share apply to every leg; the active speaker follows the received audio.
 */
export class MeshRuntime implements GroupCallBackendRuntime {
  readonly #ctx: GroupCallBackendContext;
  readonly #log: Logger;
  readonly #media: MeshMedia;
  readonly #inbound: MeshInbound;
  readonly #legOptions: LegOptions;
  /** Participant id → its current leg. */
  readonly #legs = new Map<string, CallSession>();
  readonly #failures = new Map<string, number>();
  readonly #replaceTimers = new Map<string, TimerHandle>();
  readonly #speaker = new ActiveSpeakerCore();
  readonly #pcs = new WeakMap<CallSession, RTCPeerConnection>();
  #speakerTimer: TimerHandle | undefined;
  #leaving = false;

  public constructor(ctx: GroupCallBackendContext, factory: MeshLegFactory) {
    this.#ctx = ctx;
    this.#log = ctx.logger;
    this.#media = new MeshMedia(ctx.delegate, ctx.localParticipant, ctx.logger);
    this.#legOptions = {
      voip: factory,
      roomId: ctx.roomId,
      groupCallId: ctx.groupCallId,
      media: this.#media,
      membership: () => undefined,
      defaultDialect: ctx.options.dialect,
      onPeerConnection: (leg, pc) => {
        this.#pcs.set(leg, pc);
      },
    };
    this.#inbound = new MeshInbound({
      client: ctx.client,
      clock: ctx.clock,
      logger: ctx.logger,
      sessionId: ctx.sessionId,
      roomId: ctx.roomId,
      groupCallId: ctx.groupCallId,
      holdMs: ctx.timeouts.earlyEventHoldMs,
      gapTimeoutMs: ctx.timeouts.earlyEventHoldMs,
      roomEncrypted: () => ctx.room()?.encrypted ?? false,
      membershipOf: (userId, deviceId) => ctx.membershipOf(userId, deviceId),
      entered: () => ctx.state() === GroupCallState.Entered && !this.#leaving,
      leg: (callId) => this.calls.find((leg) => leg.callId === callId),
      onInvite: (invite) => this.#onInvite(invite),
    });
  }

  /** The live legs. */
  public get calls(): readonly CallSession[] {
    return [...this.#legs.values()];
  }

  /** The loudest participant. */
  public get activeSpeaker(): CallParticipant | undefined {
    const id = this.#speaker.speaker;
    if (id === undefined) {
      return undefined;
    }
    if (id === this.#ctx.localParticipant.id) {
      return this.#ctx.localParticipant;
    }
    const leg = [...this.#legs.entries()].find(([pid]) => pid === id)?.[1];
    return leg ? new CallParticipant(leg.remoteUserId ?? "", leg.remoteDeviceId ?? "") : undefined;
  }

  public async initLocalMedia(stream?: WrappedMediaStream): Promise<void> {
    const wrapped = await this.#media.init(stream);
    this.#ctx.emit({ kind: "streamAdded", stream: wrapped });
  }

  public async onEnter(): Promise<void> {
    this.#speakerTimer = this.#ctx.clock.setInterval(() => {
      void this.#measureSpeaker();
    }, ACTIVE_SPEAKER_INTERVAL_MS);
    for (const member of this.#ctx.memberships()) {
      this.#connect(member);
    }
    await this.#inbound.membershipsChanged();
  }

  public onParticipantsChanged(change: ParticipantsChange): void {
    if (this.#ctx.state() === GroupCallState.Entered && !this.#leaving) {
      for (const member of change.left) {
        const id = participantKey(member);
        this.#cancelReplace(id);
        const leg = this.#legs.get(id);
        if (leg?.remoteSessionId === member.membershipId) {
          void leg.hangup({ reason: CallErrorCode.UserHangup });
        }
      }
      for (const member of [...change.joined, ...change.updated]) {
        this.#connect(member);
      }
    }
    void this.#inbound.membershipsChanged();
  }

  /**
   * Hands the event to the inbound router and returns at once: each leg's signalling runs on its own queue there,
   * so the next event (another leg's) never waits for this one to be handled (e.g. an invite to be answered).
   */
  public onToDevice(event: ToDeviceEvent): void {
    void this.#inbound.handle(event);
  }

  /** Feeds of our membership: one per local stream (reference §2.5). */
  public currentFeeds(): { purpose: string }[] {
    return [this.#media.usermedia(), this.#media.screenshare()]
      .filter((stream) => stream !== undefined)
      .map((stream) => ({ purpose: stream.purpose }));
  }

  public async setMicrophoneMuted(muted: boolean): Promise<void> {
    await this.#setMuted("audio", muted);
  }

  public async setLocalVideoMuted(muted: boolean): Promise<void> {
    await this.#setMuted("video", muted);
  }

  public async setScreensharingEnabled(enabled: boolean): Promise<boolean> {
    const sharing = this.#media.screenshare() !== undefined;
    if (enabled === sharing) {
      return sharing;
    }
    if (enabled) {
      let stream: WrappedMediaStream;
      try {
        stream = await this.#media.startScreenshare(() => {
          void this.setScreensharingEnabled(false);
        });
      } catch (error) {
        this.#ctx.emit({ kind: "error", error: error as never });
        return false;
      }
      this.#ctx.emit({ kind: "streamAdded", stream });
      this.#ctx.emit({ kind: "localScreenshareChanged", enabled: true });
      await Promise.all(this.calls.map((leg) => leg.setScreensharingEnabled(true)));
    } else {
      await Promise.all(this.calls.map((leg) => leg.setScreensharingEnabled(false)));
      const stopped = this.#media.stopScreenshare();
      if (stopped) {
        this.#ctx.emit({ kind: "streamRemoved", stream: stopped });
      }
      this.#ctx.emit({ kind: "localScreenshareChanged", enabled: false });
    }
    await this.#ctx.republishMembership();
    return enabled;
  }

  public async onLeave(): Promise<void> {
    this.#leaving = true;
    await this.#endAll();
  }

  public async dispose(): Promise<void> {
    this.#leaving = true;
    this.#inbound.dispose();
    this.#ctx.clock.clearTimer(this.#speakerTimer);
    await this.#endAll();
    for (const stream of this.#media.stopAll()) {
      this.#ctx.emit({ kind: "streamRemoved", stream });
    }
  }

  async #endAll(): Promise<void> {
    for (const timer of this.#replaceTimers.values()) {
      this.#ctx.clock.clearTimer(timer);
    }
    this.#replaceTimers.clear();
    await Promise.all(this.calls.map((leg) => leg.hangup({ reason: CallErrorCode.UserHangup })));
  }

  async #setMuted(kind: "audio" | "video", muted: boolean): Promise<void> {
    if (!this.#media.usermedia()) {
      return;
    }
    this.#media.setMuted(kind, muted);
    await Promise.all(
      this.calls.map((leg) =>
        kind === "audio" ? leg.setMicrophoneMuted(muted) : leg.setLocalVideoMuted(muted),
      ),
    );
    this.#ctx.emit({ kind: "localMuteChanged", change: { kind, muted } });
  }

  /** Reference §6.7 "who calls whom". */
  #connect(member: ParsedMembership): void {
    const id = participantKey(member);
    if (id === this.#ctx.localParticipant.id || member.backend.type !== "mesh") {
      return;
    }
    const existing = this.#legs.get(id);
    if (existing) {
      if (existing.remoteSessionId === member.membershipId) {
        return;
      }
      this.#log.info("member restarted (new membershipID): replacing its leg", { participant: id });
      this.#legs.delete(id);
      void existing.hangup({ reason: CallErrorCode.UnknownError });
    }
    if (this.#ctx.localParticipant.id > id) {
      return; // G2: the smaller id places the call; we wait for theirs.
    }
    void this.#place(member);
  }

  async #place(member: ParsedMembership): Promise<void> {
    const id = participantKey(member);
    const opts = {
      ...this.#legOptions,
      membership: () => this.#ctx.membershipOf(member.userId, member.deviceId),
    };
    const leg = await placeLeg(opts, member, (created) => {
      this.#add(id, created);
    });
    if (leg.state === CallState.Ended) {
      this.#log.warn("placing a leg failed", { participant: id, reason: leg.hangupReason });
    }
  }

  async #onInvite(invite: InboundInvite): Promise<void> {
    const id = `${invite.sender}:${invite.deviceId}`;
    const existing = this.#legs.get(id);
    if (existing?.callId === invite.content.call_id) {
      return;
    }
    const leg = await acceptLeg(
      { ...this.#legOptions, membership: () => this.#ctx.membershipOf(invite.sender, invite.deviceId) },
      invite,
      (created) => {
        if (existing) {
          this.#log.info("a new leg from a member replaces its old one", { participant: id });
          this.#legs.delete(id);
          this.#ctx.emit({ kind: "callReplaced", existing, replacement: created });
          void existing.hangup({ reason: CallErrorCode.Replaced });
        }
        this.#add(id, created);
      },
    );
    if (leg.state !== CallState.Ringing) {
      return;
    }
    try {
      await leg.answer();
    } catch (error) {
      this.#log.warn("answering a leg failed", { participant: id, error });
    }
  }

  #add(id: string, leg: CallSession): void {
    this.#legs.set(id, leg);
    this.#ctx.clock.clearTimer(this.#replaceTimers.get(id));
    this.#replaceTimers.delete(id);
    leg.on("streamAdded", (stream) => {
      if (!stream.isLocal) {
        this.#ctx.emit({ kind: "streamAdded", stream });
      }
    });
    leg.on("streamRemoved", (stream) => {
      if (!stream.isLocal) {
        this.#ctx.emit({ kind: "streamRemoved", stream });
      }
    });
    leg.on("stateChanged", (state) => {
      if (state === CallState.Connected) {
        this.#failures.delete(id);
      }
    });
    leg.on("ended", (reason) => {
      this.#onLegEnded(id, leg, reason);
    });
    this.#ctx.emit({ kind: "callAdded", call: leg });
  }

  #onLegEnded(id: string, leg: CallSession, reason: CallErrorCode): void {
    if (this.#speaker.remove(id)) {
      this.#ctx.emit({ kind: "activeSpeakerChanged", participant: undefined });
    }
    if (reason === CallErrorCode.Replaced) {
      return; // callReplaced was emitted
    }
    if (this.#legs.get(id) === leg) {
      this.#legs.delete(id);
    }
    this.#ctx.emit({ kind: "callRemoved", call: leg });
    if (this.#leaving || NOT_A_FAILURE.has(reason) || this.#legs.has(id)) {
      return;
    }
    const member =
      leg.remoteUserId !== undefined && leg.remoteDeviceId !== undefined
        ? this.#ctx.membershipOf(leg.remoteUserId, leg.remoteDeviceId)
        : undefined;
    if (!member || this.#ctx.localParticipant.id > id) {
      return; // gone, or the peer places the call again
    }
    const failures = (this.#failures.get(id) ?? 0) + 1;
    this.#failures.set(id, failures);
    const delay = retryDelayMs(LEG_REPLACE_POLICY, failures, this.#ctx.random);
    this.#log.info("a leg failed; placing it again", { participant: id, reason, delay });
    this.#replaceTimers.set(
      id,
      this.#ctx.clock.setTimeout(() => {
        this.#replaceTimers.delete(id);
        const current = this.#ctx.membershipOf(member.userId, member.deviceId);
        if (current && !this.#leaving && !this.#legs.has(id)) {
          this.#connect(current);
        }
      }, delay),
    );
  }

  /** The member left: no leg is placed to it again, and its failures are forgotten. */
  #cancelReplace(id: string): void {
    this.#ctx.clock.clearTimer(this.#replaceTimers.get(id));
    this.#replaceTimers.delete(id);
    this.#failures.delete(id);
  }

  /**
   * One look at the audio energy: the stats of each connected leg (a leg still setting up has nothing to measure,
   * and `getStats` in `@roamhq/wrtc` waits for the signalling thread, which set-up keeps busy), received energy per
   * peer and our own sent energy from the first of those reports.
   */
  async #measureSpeaker(): Promise<void> {
    const connected = [...this.#legs.entries()].filter(([, leg]) => leg.state === CallState.Connected);
    if (connected.length === 0) {
      return;
    }
    const samples = new Map<string, EnergySample>();
    let sent: EnergySample | undefined;
    await Promise.all(
      connected.map(async ([id, leg], index) => {
        const report = await statsOf(this.#pcs.get(leg));
        if (!report) {
          return;
        }
        const sample = receivedEnergy(report);
        if (sample && leg.remoteUserMediaStream?.audioMuted !== true) {
          samples.set(id, sample);
        }
        if (index === 0) {
          sent = sentEnergy(report); // always the same leg's sender while it lasts: its counters are cumulative
        }
      }),
    );
    if (sent && !this.#media.isMuted("audio")) {
      samples.set(this.#ctx.localParticipant.id, sent);
    }
    const { changed } = this.#speaker.update(samples);
    if (changed) {
      this.#ctx.emit({ kind: "activeSpeakerChanged", participant: this.activeSpeaker });
    }
  }
}

/** The raw stats of a leg's peer connection, or `undefined` when it has none or it fails (closed meanwhile). */
async function statsOf(pc: RTCPeerConnection | undefined): Promise<RTCStatsReport | undefined> {
  try {
    return pc && pc.connectionState !== "closed" ? await pc.getStats() : undefined;
  } catch {
    return undefined;
  }
}

function participantKey(member: { userId: string; deviceId: string }): string {
  return `${member.userId}:${member.deviceId}`;
}
