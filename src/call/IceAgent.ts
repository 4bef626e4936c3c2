import type { Clock, TimerHandle } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import { CandidateBatcher, type WireCandidate } from "./CandidateBatcher.js";
import { TcpCandidateHold } from "./TcpCandidateHold.js";

/** ICE restarts in a row before a failed or disconnected call is given up (`ice_failed`). */
export const MAX_ICE_RESTARTS = 3;

/**
 * The longest the invite and the answer wait for the first local candidate (a host candidate: it comes within a
 * millisecond or two of `setLocalDescription`, unless the machine has no network interface at all).
 */
export const FIRST_CANDIDATE_CAP_MS = 50;

/**
 * After the first local candidate, how long the invite and the answer wait for the rest of its burst (less when
 * gathering completes first): the host candidates of all interfaces come within about a millisecond of each
 * other, and inside the description they need no `m.call.candidates` of their own (at N = 2 in the mesh
 * benchmark: 1.5 to-device messages per join instead of 2.5). Server-reflexive and relay candidates take a round
 * trip to their server and trickle.
 */
export const CANDIDATE_BURST_MS = 1;

/** How long a `disconnected` connection may recover by itself before ICE is restarted (`failed` restarts at once). */
export const ICE_DISCONNECTED_GRACE_MS = 2_000;

/**
 * How long an ICE restart may take to connect before it counts as failed too (the next restart, or giving up).
 * Needed because a peer connection whose new ICE generation fails the way the old one did may report no new state
 * at all: measured with `@roamhq/wrtc` on a path that drops every packet, it stays `disconnected` (or `failed`)
 * without another `iceconnectionstatechange`, so waiting for one would leave the call `connected` forever.
 */
export const ICE_RESTART_TIMEOUT_MS = 10_000;

/** An inbound candidate after validation. */
export interface InboundCandidate {
  /** The candidate line (`candidate:…`), as in `RTCIceCandidateInit.candidate`. */
  candidate: string;
  /** The `a=mid` of the media section the candidate belongs to, when given. */
  sdpMid?: string | null | undefined;
  /** The index of the media section (m-line) the candidate belongs to, when given. */
  sdpMLineIndex?: number | null | undefined;
}

/**
 * What the call should do after an ICE connection state change: `connected` (ICE is up), `restart` (restart
 * ICE), `give-up` (end the call, `ice_failed`), or `undefined` (nothing).
 */
export type IceConnectionAction = "connected" | "restart" | "give-up" | undefined;

/** Options of {@link IceAgent}. */
export interface IceAgentOptions {
  clock: Clock;
  logger: Logger;
  /** Delay between the first queued local candidate and its batch (it differs for caller and callee). */
  batchDelayMs: number;
  /** After gathering starts, send what is queued after this long even if gathering is not complete. */
  candidateFlushMs: number;
  /** How long our TCP candidates wait for UDP to connect ({@link TcpCandidateHold}); 0: they are not held. */
  tcpCandidateDelayMs: number;
  /** Wait the full gathering delays before the invite and answer as the reference does (benchmarks only). */
  fixedWaits: boolean;
  /** The call's peer connection, once created. */
  peerConnection: () => RTCPeerConnection | undefined;
  /** Sends one batch of local candidates; rejects on failure. */
  sendCandidates: (candidates: WireCandidate[]) => Promise<void>;
  /** Called once when local candidates could not be sent after every retry. */
  onGiveUp: () => void;
  /** Called when a disconnection outlasted its grace or a restart its timeout: look at the connection state again. */
  onRecheck: () => void;
}

interface Waiter {
  resolve: () => void;
  timer: TimerHandle;
  /** Ends early: `candidate` when a local candidate is held, `complete` when gathering completes after one was. */
  until: "candidate" | "complete" | undefined;
}

/**
 * @internal Everything about ICE in one call. Local candidates are held while our description is not out yet: those
 * held when it goes (the invite and the answer wait for the first one, at most {@link FIRST_CANDIDATE_CAP_MS}) go
 * inside it, the others trickle as `m.call.candidates` (PROTOCOL D7): the first of a gathering at once, later
 * ones in batches (`batchDelayMs`), and at once when gathering completes or has run for `candidateFlushMs`.
 * Nothing waits for gathering to complete (a TURN server that does not answer never lets it). Remote candidates that
 * arrive before the remote description (or before the answering party is known) wait in a buffer per party id;
 * failed or disconnected connections are restarted up to {@link MAX_ICE_RESTARTS} times, each restart given
 * {@link ICE_RESTART_TIMEOUT_MS} to connect. Our TCP candidates are held back while UDP may still connect
 * ({@link TcpCandidateHold}).
 */
export class IceAgent {
  readonly #opts: IceAgentOptions;
  readonly #batcher: CandidateBatcher;
  readonly #tcp: TcpCandidateHold;
  readonly #remoteCandidates = new Map<string, RTCIceCandidateInit[]>();
  #gatheringFlushTimer: TimerHandle | undefined;
  #waiters = new Set<Waiter>();
  #disconnectTimer: TimerHandle | undefined;
  /** Runs while a restart has not connected yet ({@link ICE_RESTART_TIMEOUT_MS}). */
  #restartTimer: TimerHandle | undefined;
  /** Our invite, answer or offer is out: local candidates may leave (else they are held). */
  #sending = false;
  #held: WireCandidate[] = [];
  /** No batch of the current gathering went out yet: the next one leaves at once. */
  #eager = true;
  #restarts = 0;
  #disposed = false;
  /** Whether a remote description has been applied (tracked here: reading `pc.remoteDescription` in
   * `@roamhq/wrtc` serialises the SDP natively and blocks the JS thread until the signalling thread is free). */
  #remoteDescriptionSet = false;
  /** A local candidate was held for the first description. */
  #firstHeld = false;
  /** Gathering reported `complete` after a candidate was held (`@roamhq/wrtc` may report it before any). */
  #completeAfterHeld = false;

  public constructor(opts: IceAgentOptions) {
    this.#opts = opts;
    this.#batcher = new CandidateBatcher({
      clock: opts.clock,
      logger: opts.logger,
      delayMs: opts.batchDelayMs,
      send: (candidates) => {
        this.#eager = false;
        return opts.sendCandidates(candidates);
      },
      onGiveUp: opts.onGiveUp,
    });
    this.#tcp = new TcpCandidateHold({
      clock: opts.clock,
      logger: opts.logger,
      delayMs: opts.tcpCandidateDelayMs,
      iceConnected: () => {
        const ice = opts.peerConnection()?.iceConnectionState;
        return ice === "connected" || ice === "completed";
      },
      release: (candidates) => {
        this.#releaseTcp(candidates);
      },
    });
  }

  // ── Local candidates ──────────────────────────────────────────────────────────────────────────────────────

  /** A local candidate from the peer connection; `null` (or an empty candidate) ends a generation: flush. */
  public onLocalCandidate(candidate: RTCIceCandidate | null): void {
    if (this.#disposed) {
      return;
    }
    if (!candidate?.candidate) {
      this.#batcher.flushSoon();
      return;
    }
    const wire = {
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid,
      sdpMLineIndex: candidate.sdpMLineIndex,
    };
    if (this.#tcp.take(wire)) {
      return;
    }
    if (!this.#sending) {
      this.#held.push(wire);
      this.#firstHeld = true;
      this.#releaseWaiters("candidate");
      return;
    }
    this.#batcher.add(wire);
    if (this.#eager) {
      this.#batcher.flushSoon();
    }
  }

  /**
   * Our invite, answer or offer is out: held candidates and later ones may leave (what was gathered by now goes at
   * once).
   */
  public startSending(): void {
    if (this.#disposed) {
      return;
    }
    this.#sending = true;
    for (const wire of this.#held.splice(0)) {
      this.#batcher.add(wire);
    }
    this.#batcher.enable();
    if (this.#eager) {
      this.#batcher.flushSoon();
    }
    this.#tcp.descriptionSent();
  }

  /** Held TCP candidates are released: one batch now, or inside the next description while one is being made. */
  #releaseTcp(candidates: WireCandidate[]): void {
    if (this.#disposed) {
      return;
    }
    if (!this.#sending) {
      this.#held.push(...candidates);
      return;
    }
    for (const wire of candidates) {
      this.#batcher.add(wire);
    }
    this.#batcher.flushSoon();
  }

  /**
   * Hands over the candidates held while our description was not out (they go inside it, as `a=candidate` lines)
   * and forgets them.
   */
  public takeHeld(): WireCandidate[] {
    return this.#held.splice(0);
  }

  /**
   * Waits until a local candidate is held, at most `capMs`, then for the rest of its burst: until gathering
   * completes, at most {@link CANDIDATE_BURST_MS}; no wait for what happened already. The invite and the answer
   * then carry them: without a single candidate in the SDP, many calls set up at once in one process
   * (@roamhq/wrtc) sometimes took 10–40 s to connect instead of under 1 s. A `complete` gathering state before any
   * candidate is not trusted: `@roamhq/wrtc` reads the state when it dispatches the `gathering` event, and it may
   * be `complete` already, the candidates still queued behind it.
   */
  public async waitForCandidates(capMs: number): Promise<void> {
    if (!this.#firstHeld) {
      await this.#wait(capMs, "candidate");
    }
    if (!this.#completeAfterHeld) {
      await this.#wait(CANDIDATE_BURST_MS, "complete");
    }
  }

  /**
   * A renegotiation offer or answer is being made: new candidates (an ICE restart's) wait until it is out, so the
   * peer never gets candidates of a description it does not have yet.
   */
  public holdSending(): void {
    this.#sending = false;
  }

  // ── Gathering ─────────────────────────────────────────────────────────────────────────────────────────────

  /** The peer connection's `icegatheringstatechange`. */
  public onGatheringStateChange(): void {
    const state = this.#opts.peerConnection()?.iceGatheringState;
    if (state === "gathering") {
      // A new gathering (ICE restart): its first candidates go at once again, its TCP ones are held again.
      this.#eager = true;
      if (!this.#disposed) {
        this.#tcp.newGeneration(this.#sending);
      }
    }
    if (state === "gathering" && this.#gatheringFlushTimer === undefined && !this.#disposed) {
      this.#gatheringFlushTimer = this.#opts.clock.setTimeout(() => {
        this.#gatheringFlushTimer = undefined;
        this.#batcher.flushSoon();
      }, this.#opts.candidateFlushMs);
    } else if (state === "complete") {
      this.#opts.clock.clearTimer(this.#gatheringFlushTimer);
      this.#gatheringFlushTimer = undefined;
      this.#batcher.flushSoon();
      if (this.#firstHeld) {
        this.#completeAfterHeld = true;
        this.#releaseWaiters("complete");
      }
    }
  }

  /** Waits `ms` on the call's clock; ends early, its timer cleared, when the call ends. */
  public wait(ms: number): Promise<void> {
    return this.#wait(ms, undefined);
  }

  #wait(ms: number, until: Waiter["until"]): Promise<void> {
    if (this.#disposed || ms <= 0) {
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const waiter: Waiter = {
        resolve,
        until,
        timer: this.#opts.clock.setTimeout(() => {
          this.#release(waiter);
        }, ms),
      };
      this.#waiters.add(waiter);
    });
  }

  #releaseWaiters(until: "candidate" | "complete"): void {
    for (const waiter of this.#waiters) {
      if (waiter.until === until) {
        this.#release(waiter);
      }
    }
  }

  /**
   * The reference's wait for ICE gathering before its invite (`always` false: only while gathering) or answer
   * (`always` true): exactly `capMs`, with `fixedWaits` only. Otherwise it returns at once: nothing waits for
   * candidates that may never come (a TURN server that does not answer), they trickle.
   */
  public async referenceGatheringWait(capMs: number, always: boolean): Promise<void> {
    const pc = this.#opts.peerConnection();
    if (!this.#opts.fixedWaits || !pc) {
      return;
    }
    if (always || pc.iceGatheringState === "gathering") {
      await this.wait(capMs);
    }
  }

  #release(waiter: Waiter): void {
    this.#opts.clock.clearTimer(waiter.timer);
    this.#waiters.delete(waiter);
    waiter.resolve();
  }

  // ── Remote candidates ─────────────────────────────────────────────────────────────────────────────────────

  /** The peer's offer or answer has been applied to the peer connection: its candidates may be added from now. */
  public remoteDescriptionApplied(): void {
    this.#remoteDescriptionSet = true;
  }

  /**
   * Candidates from the peer (party `partyId`). Entries without a candidate string are dropped. They are added
   * now when the remote description is set and `partyBound` (we know which party we talk to), buffered otherwise.
   */
  public async handleRemoteCandidates(
    partyId: string | undefined,
    candidates: readonly InboundCandidate[],
    partyBound: boolean,
  ): Promise<void> {
    const valid: RTCIceCandidateInit[] = [];
    for (const c of candidates) {
      if (typeof c.candidate === "string" && c.candidate.length > 0) {
        valid.push({ candidate: c.candidate, sdpMid: c.sdpMid ?? "", sdpMLineIndex: c.sdpMLineIndex ?? 0 });
      }
    }
    if (valid.length === 0) {
      return;
    }
    if (!this.#remoteDescriptionSet || !partyBound) {
      const key = partyId ?? "";
      this.#remoteCandidates.set(key, [...(this.#remoteCandidates.get(key) ?? []), ...valid]);
      return;
    }
    await this.#addCandidates(valid);
  }

  /**
   * Adds the buffered candidates of `partyId`, and those that came without a party id (when `partyId` is
   * defined); the candidates of every other party are dropped.
   */
  public async applyBufferedCandidates(partyId: string | undefined): Promise<void> {
    const buffered = [
      ...(this.#remoteCandidates.get(partyId ?? "") ?? []),
      ...(partyId !== undefined ? (this.#remoteCandidates.get("") ?? []) : []),
    ];
    this.#remoteCandidates.clear();
    await this.#addCandidates(buffered);
  }

  async #addCandidates(candidates: RTCIceCandidateInit[]): Promise<void> {
    for (const candidate of candidates) {
      if (this.#disposed) {
        // The peer connection is closed: @roamhq/wrtc never settles addIceCandidate then, which would stall the
        // sync batch (and every later one) that brought these candidates.
        return;
      }
      try {
        await this.#opts.peerConnection()?.addIceCandidate(candidate);
      } catch (error) {
        this.#opts.logger.debug("could not add a remote candidate", { error });
      }
    }
  }

  // ── Connection ────────────────────────────────────────────────────────────────────────────────────────────

  /**
   * Decides what an ICE connection state means for the call. Once connected, the restart count starts over and
   * buffered remote candidates are dropped. When `mayRestart` (our invite or answer is out): a failed connection
   * is restarted at once, a disconnected one after {@link ICE_DISCONNECTED_GRACE_MS} if it has not recovered; a
   * restart that has not connected within {@link ICE_RESTART_TIMEOUT_MS} counts as failed too (a disconnection
   * meanwhile waits for that timeout, not for a grace of its own). The call then looks again with `recheck` set,
   * which counts any state short of connected as a failure. After {@link MAX_ICE_RESTARTS} restarts in a row
   * that have not helped: `give-up`.
   */
  public onConnectionState(
    ice: RTCIceConnectionState,
    mayRestart: boolean,
    recheck = false,
  ): IceConnectionAction {
    const log = this.#opts.logger;
    this.#tcp.onIceState(ice);
    if (ice === "connected" || ice === "completed") {
      this.#clearConnectionTimers();
      this.#restarts = 0;
      this.#remoteCandidates.clear();
      return "connected";
    }
    if (!mayRestart || this.#disposed || ice === "closed") {
      return undefined;
    }
    if (ice === "disconnected" && !recheck) {
      if (this.#restartTimer === undefined) {
        this.#disconnectTimer ??= this.#recheckAfter(ICE_DISCONNECTED_GRACE_MS, () => {
          this.#disconnectTimer = undefined;
        });
      }
      return undefined;
    }
    if (ice !== "failed" && ice !== "disconnected" && !recheck) {
      return undefined;
    }
    this.#clearConnectionTimers();
    if (this.#restarts < MAX_ICE_RESTARTS) {
      this.#restarts++;
      log.warn("ICE trouble, restarting", { ice, attempt: this.#restarts });
      this.#restartTimer = this.#recheckAfter(ICE_RESTART_TIMEOUT_MS, () => {
        this.#restartTimer = undefined;
      });
      return "restart";
    }
    log.error("ICE failed after restarts", { ice, restarts: this.#restarts });
    return "give-up";
  }

  /** A timer that asks the call to look at the connection state again after `ms` (`onFire` runs first). */
  #recheckAfter(ms: number, onFire: () => void): TimerHandle {
    return this.#opts.clock.setTimeout(() => {
      onFire();
      this.#opts.onRecheck();
    }, ms);
  }

  #clearConnectionTimers(): void {
    this.#opts.clock.clearTimer(this.#disconnectTimer);
    this.#disconnectTimer = undefined;
    this.#opts.clock.clearTimer(this.#restartTimer);
    this.#restartTimer = undefined;
  }

  /** The call ended: stops the batcher and every timer, and releases every waiter. */
  public dispose(): void {
    this.#disposed = true;
    this.#opts.clock.clearTimer(this.#gatheringFlushTimer);
    this.#clearConnectionTimers();
    this.#tcp.dispose();
    this.#held = [];
    this.#batcher.dispose();
    for (const waiter of [...this.#waiters]) {
      this.#release(waiter);
    }
  }
}
