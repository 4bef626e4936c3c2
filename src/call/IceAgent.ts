import { sleep, type Clock, type TimerHandle } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import { CandidateBatcher, type WireCandidate } from "./CandidateBatcher.js";

/** ICE restarts in a row before a failed or disconnected call is given up (`ice_failed`). */
export const MAX_ICE_RESTARTS = 3;

/** An inbound candidate after validation. */
export interface InboundCandidate {
  candidate: string;
  sdpMid?: string | null | undefined;
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
  /** Wait the full gathering delays as the reference does, instead of returning once gathering completes. */
  fixedWaits: boolean;
  /** The call's peer connection, once created. */
  peerConnection: () => RTCPeerConnection | undefined;
  /** Sends one batch of local candidates; rejects on failure. */
  sendCandidates: (candidates: WireCandidate[]) => Promise<void>;
  /** Called once when local candidates could not be sent after every retry. */
  onGiveUp: () => void;
}

/**
 * @internal Everything about ICE in one call: local candidates go out in batches (PROTOCOL D7) once the invite or
 * answer is out, and early when gathering completes or has run for `candidateFlushMs`; remote candidates that
 * arrive before the remote description (or before the answering party is known) wait in a buffer per party id;
 * failed or disconnected connections are restarted up to {@link MAX_ICE_RESTARTS} times.
 */
export class IceAgent {
  readonly #opts: IceAgentOptions;
  readonly #batcher: CandidateBatcher;
  readonly #remoteCandidates = new Map<string, RTCIceCandidateInit[]>();
  #gatheringFlushTimer: TimerHandle | undefined;
  #gatheringWaiters: (() => void)[] = [];
  #restarts = 0;

  public constructor(opts: IceAgentOptions) {
    this.#opts = opts;
    this.#batcher = new CandidateBatcher({
      clock: opts.clock,
      logger: opts.logger,
      delayMs: opts.batchDelayMs,
      send: opts.sendCandidates,
      onGiveUp: opts.onGiveUp,
    });
  }

  // ── Local candidates ──────────────────────────────────────────────────────────────────────────────────────

  /** A local candidate from the peer connection; `null` (or an empty candidate) ends a generation: flush. */
  public onLocalCandidate(candidate: RTCIceCandidate | null): void {
    if (!candidate?.candidate) {
      this.#batcher.flushSoon();
      return;
    }
    this.#batcher.add({
      candidate: candidate.candidate,
      sdpMid: candidate.sdpMid,
      sdpMLineIndex: candidate.sdpMLineIndex,
    });
  }

  /** Drops queued local candidates: they leave inside the SDP of the invite, answer or offer. */
  public discardQueued(): void {
    this.#batcher.discardQueued();
  }

  /** The invite or answer is out: local candidates may leave from now on. */
  public startSending(): void {
    this.#batcher.enable();
  }

  // ── Gathering ─────────────────────────────────────────────────────────────────────────────────────────────

  /** The peer connection's `icegatheringstatechange`. */
  public onGatheringStateChange(): void {
    const state = this.#opts.peerConnection()?.iceGatheringState;
    if (state === "gathering" && this.#gatheringFlushTimer === undefined) {
      this.#gatheringFlushTimer = this.#opts.clock.setTimeout(() => {
        this.#gatheringFlushTimer = undefined;
        this.#batcher.flushSoon();
      }, this.#opts.candidateFlushMs);
    } else if (state === "complete") {
      this.#opts.clock.clearTimer(this.#gatheringFlushTimer);
      this.#gatheringFlushTimer = undefined;
      this.#batcher.flushSoon();
      const waiters = this.#gatheringWaiters;
      this.#gatheringWaiters = [];
      for (const resolve of waiters) {
        resolve();
      }
    }
  }

  /**
   * Waits for ICE gathering to complete, at most `capMs`. With `fixedWaits` it waits exactly `capMs` instead: when
   * `always` is set, or while gathering.
   */
  public async waitForGathering(capMs: number, always: boolean): Promise<void> {
    const pc = this.#opts.peerConnection();
    if (!pc) {
      return;
    }
    const clock = this.#opts.clock;
    if (this.#opts.fixedWaits) {
      if (always || pc.iceGatheringState === "gathering") {
        await sleep(clock, capMs);
      }
      return;
    }
    if (pc.iceGatheringState === "complete" || capMs <= 0) {
      return;
    }
    await new Promise<void>((resolve) => {
      const timer = clock.setTimeout(resolve, capMs);
      this.#gatheringWaiters.push(() => {
        clock.clearTimer(timer);
        resolve();
      });
    });
  }

  // ── Remote candidates ─────────────────────────────────────────────────────────────────────────────────────

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
    if (!this.#opts.peerConnection()?.remoteDescription || !partyBound) {
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
   * buffered remote candidates are dropped. A failed or disconnected connection is restarted when `mayRestart`
   * (our invite or answer is out), until {@link MAX_ICE_RESTARTS} restarts in a row have not helped.
   */
  public onConnectionState(ice: RTCIceConnectionState, mayRestart: boolean): IceConnectionAction {
    const log = this.#opts.logger;
    if (ice === "connected" || ice === "completed") {
      this.#restarts = 0;
      this.#remoteCandidates.clear();
      return "connected";
    }
    if ((ice === "failed" || ice === "disconnected") && mayRestart) {
      if (this.#restarts < MAX_ICE_RESTARTS) {
        this.#restarts++;
        log.warn("ICE trouble, restarting", { ice, attempt: this.#restarts });
        return "restart";
      }
      log.error("ICE failed after restarts", { restarts: this.#restarts });
      return "give-up";
    }
    return undefined;
  }

  /** The call ended: stops the batcher and the flush timer, and releases every gathering waiter. */
  public dispose(): void {
    this.#opts.clock.clearTimer(this.#gatheringFlushTimer);
    this.#batcher.dispose();
    for (const resolve of this.#gatheringWaiters) {
      resolve();
    }
    this.#gatheringWaiters = [];
  }
}
