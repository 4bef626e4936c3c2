import type { Clock, TimerHandle } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { WireCandidate } from "./CandidateBatcher.js";

/** Options of {@link TcpCandidateHold}. */
export interface TcpCandidateHoldOptions {
  clock: Clock;
  logger: Logger;
  /** How long ICE may try UDP alone after our description went out (`CallTimeouts.tcpCandidateDelayMs`); 0: no holding. */
  delayMs: number;
  /** Whether ICE is `connected` or `completed` now. */
  iceConnected: () => boolean;
  /** Sends the held candidates (one batch). */
  release: (candidates: WireCandidate[]) => void;
}

/** Where the policy stands for the current gathering generation. */
type Phase = "holding" | "released" | "dropped";

/** Whether `line` (`candidate:<foundation> <component> <transport> …`) is an ICE-TCP candidate. */
export function isTcpCandidate(line: string): boolean {
  return line.split(" ", 3)[2]?.toLowerCase() === "tcp";
}

/**
 * @internal Our ICE-TCP candidates (transport `tcp`, any tcptype; libwebrtc gathers host ones only) are held back
 * while ICE may still connect over UDP (PROTOCOL D7 note): each is a TCP connection the peer opens, and many calls
 * in one process gather many of them (libwebrtc regathers TCP whenever another connection is created while it
 * gathers), which exhausted file descriptors in an 8-way mesh. They are released in one batch when ICE has not
 * connected `delayMs` after our description went out, or at once when ICE fails or disconnects first; later TCP
 * candidates of that generation then go out as usual. When ICE connects first they are dropped, with the later
 * ones of that generation. A new gathering generation (ICE restart) starts over.
 */
export class TcpCandidateHold {
  readonly #opts: TcpCandidateHoldOptions;
  #phase: Phase;
  #held: WireCandidate[] = [];
  #timer: TimerHandle | undefined;
  /** Our description of this generation is out: the delay runs (or ran). */
  #started = false;

  public constructor(opts: TcpCandidateHoldOptions) {
    this.#opts = opts;
    this.#phase = opts.delayMs > 0 ? "holding" : "released";
  }

  /** Whether the policy takes `wire` (held or dropped); `false`: it goes out as usual. */
  public take(wire: WireCandidate): boolean {
    if (this.#phase === "released" || !isTcpCandidate(wire.candidate)) {
      return false;
    }
    if (this.#phase === "holding") {
      this.#held.push(wire);
    }
    return true;
  }

  /** Our description went out: the delay starts (once per generation). */
  public descriptionSent(): void {
    if (this.#phase !== "holding" || this.#started) {
      return;
    }
    this.#started = true;
    this.#timer = this.#opts.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#opts.iceConnected()) {
        this.#drop();
      } else {
        this.#release("not connected in time");
      }
    }, this.#opts.delayMs);
  }

  /**
   * A new gathering generation started (ICE restart): hold its TCP candidates again. `sending`: our description
   * of it is out already, so the delay starts now.
   */
  public newGeneration(sending: boolean): void {
    if (this.#opts.delayMs <= 0) {
      return;
    }
    this.#clearTimer();
    if (this.#held.length > 0) {
      this.#opts.logger.debug("dropping held TCP candidates of an old ICE generation", {
        count: this.#held.length,
      });
    }
    this.#held = [];
    this.#phase = "holding";
    this.#started = false;
    if (sending) {
      this.descriptionSent();
    }
  }

  /** An ICE connection state: connected drops the held candidates, failed or disconnected releases them. */
  public onIceState(ice: RTCIceConnectionState): void {
    if (this.#phase !== "holding") {
      return;
    }
    if (ice === "connected" || ice === "completed") {
      this.#drop();
    } else if (ice === "failed" || ice === "disconnected") {
      this.#release(`ICE ${ice}`);
    }
  }

  /** The call ended: clears the timer and forgets the held candidates. */
  public dispose(): void {
    this.#clearTimer();
    this.#held = [];
    this.#phase = "dropped";
  }

  #release(why: string): void {
    this.#clearTimer();
    this.#phase = "released";
    const held = this.#held.splice(0);
    this.#opts.logger.debug("releasing held TCP candidates", { count: held.length, why });
    if (held.length > 0) {
      this.#opts.release(held);
    }
  }

  #drop(): void {
    this.#clearTimer();
    this.#phase = "dropped";
    this.#opts.logger.debug("ICE connected: dropping held TCP candidates", { count: this.#held.length });
    this.#held = [];
  }

  #clearTimer(): void {
    this.#opts.clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }
}
