import { callDelegate } from "../webrtc/callDelegate.js";
import type { TimerHandle } from "../core/Clock.js";
import type { CallCore, CallParty } from "./CallContext.js";
import type { CallSignaller } from "./CallSignaller.js";
import { assertTransition, isLive } from "./callState.js";
import { CallDirection, CallErrorCode, CallState } from "./types.js";
import type { WrappedMediaStream } from "./WrappedMediaStream.js";

/** @internal What a {@link CallLifecycle} needs from its call. */
export interface CallLifecycleHost extends Pick<CallCore, "ctx" | "log" | "direction" | "emit"> {
  readonly signaller: Pick<CallSignaller, "hangup" | "reject">;
  /** True once our invite has started to go out (the peer then knows the call and must hear that it ended). */
  inviteOnTheWire(): boolean;
  /**
   * Stops ICE, closes the peer connection, cancels the sends still waiting and stops every stream; returns the
   * streams that were removed.
   */
  teardown(): readonly WrappedMediaStream[];
  /** Drops every listener of the call, after its last event. */
  removeAllListeners(): void;
}

/**
 * @internal The state machine of one call and the one way it ends (PROTOCOL D5). Every transition is checked
 * against the table of `callState.ts`; every end — our hangup or reject, the peer's, a timeout, a failure,
 * disposal — goes through {@link CallLifecycle.terminate}, which stops the invite timer, tears the call down,
 * fires `ended` and the registry's end callback exactly once and then drops the call's listeners.
 */
export class CallLifecycle {
  readonly #host: CallLifecycleHost;
  #state = CallState.Fledgling;
  #hangupReason: CallErrorCode | undefined;
  #connectedOnce = false;
  #inviteExpiry: TimerHandle | undefined;

  public constructor(host: CallLifecycleHost) {
    this.#host = host;
  }

  /** The current state. */
  public get state(): CallState {
    return this.#state;
  }

  /** Why the call ended, once it has. */
  public get hangupReason(): CallErrorCode | undefined {
    return this.#hangupReason;
  }

  /** True once ICE connected at least once. */
  public get wasConnected(): boolean {
    return this.#connectedOnce;
  }

  /** Moves to `to` (a no-op when already there) and emits `stateChanged`; throws on a transition not in the table. */
  public transition(to: CallState): void {
    const from = this.#state;
    if (from === to) {
      return;
    }
    assertTransition(from, to);
    this.#state = to;
    this.#host.log.info("state changed", { from, to });
    this.#host.emit("stateChanged", to, from);
  }

  /** ICE connected: a connecting call becomes connected (a reconnect of a connected call changes nothing). */
  public onIceConnected(): void {
    if (this.#state === CallState.Connecting) {
      this.#connectedOnce = true;
      this.transition(CallState.Connected);
    }
  }

  /** Hangs up with `invite_timeout` when the call is still in `state` once the invite's lifetime is over. */
  public expireInviteIn(state: CallState): void {
    const { ctx } = this.#host;
    this.#inviteExpiry = ctx.clock.setTimeout(() => {
      if (this.#state === state) {
        void this.hangup(CallErrorCode.InviteTimeout, true);
      }
    }, ctx.timeouts.callInviteLifetimeMs);
  }

  /** The invite was answered: its lifetime no longer matters. */
  public stopInviteExpiry(): void {
    this.#host.ctx.clock.clearTimer(this.#inviteExpiry);
  }

  /** Ends a live call and tells the peer when it knows the call (`m.call.hangup` with the reason). Idempotent. */
  public async hangup(reason: CallErrorCode, shouldEmit: boolean): Promise<void> {
    if (!isLive(this.#state)) {
      return;
    }
    const host = this.#host;
    const tellPeer = host.direction === CallDirection.Incoming || host.inviteOnTheWire();
    this.transition(CallState.Ending);
    this.terminate("local", reason, shouldEmit);
    if (tellPeer) {
      await host.signaller.hangup(reason);
    }
  }

  /** Rejects a ringing incoming call (`m.call.reject` unless `shouldEmit` is false); hangs up any other call. */
  public async reject(shouldEmit: boolean): Promise<void> {
    const ringing =
      this.#host.direction === CallDirection.Incoming &&
      (this.#state === CallState.Ringing || this.#state === CallState.Fledgling);
    if (!ringing) {
      await this.hangup(CallErrorCode.UserHangup, shouldEmit);
      return;
    }
    this.transition(CallState.Ending);
    this.terminate("local", CallErrorCode.UserHangup, shouldEmit);
    if (shouldEmit) {
      await this.#host.signaller.reject();
    }
  }

  /** The one way a call ends (PROTOCOL D5); a no-op once ended. */
  public terminate(party: CallParty, reason: CallErrorCode, shouldEmit: boolean): void {
    if (this.#state === CallState.Ended) {
      return;
    }
    const host = this.#host;
    this.#hangupReason = reason;
    this.stopInviteExpiry();
    const removed = host.teardown();
    const rang = this.#state !== CallState.Fledgling;
    this.transition(CallState.Ended);
    if (rang) {
      // A call that never left Fledgling (busy) never rang: no stopRingtone (reference §9).
      void callDelegate(host.log, () => host.ctx.delegate.stopRingtone?.());
    }
    for (const stream of removed) {
      host.emit("streamRemoved", stream);
    }
    host.emit("ended", reason);
    host.ctx.onTerminated(party, reason, shouldEmit);
    host.removeAllListeners();
  }
}
