import type { RandomFn } from "./prng.js";
import type { Faults } from "./types.js";

/** What happens to one request attempt. */
export type RequestFate =
  | "ok"
  | "rateLimited"
  /** Lost on the way in: the server never saw it. */
  | "lostRequest"
  /** Applied by the server, then the response was lost. */
  | "lostResponse"
  /** 500 before the server applied it. */
  | "errorBefore"
  /** Applied by the server, then answered with 500. */
  | "errorAfter";

/** The decision for one to-device message. */
export interface ToDeviceFate {
  /** How many copies to deliver (1, or 2 when duplicated). */
  copies: number;
  /** Extra real-time delay (ms) per copy; non-zero only when reordering. */
  extraDelayMs: number[];
}

/** Window (ms) over which reordered to-device messages are scattered. */
export const REORDER_WINDOW_MS = 30;

function clampRate(rate: number | undefined): number {
  return rate === undefined || !Number.isFinite(rate) ? 0 : Math.min(1, Math.max(0, rate));
}

/** Holds the current {@link Faults} and draws every fault decision from one seeded PRNG. */
export class FaultInjector {
  #faults: Faults = {};
  #requestCount = 0;
  #dropNextResponses = 0;

  public constructor(private readonly random: RandomFn) {}

  /** Replaces the faults (unset fields mean "no fault"). */
  public set(faults: Faults): void {
    this.#faults = { ...faults };
    this.#dropNextResponses = Math.max(0, Math.floor(faults.dropNextResponses ?? 0));
  }

  /** The current faults. */
  public get(): Faults {
    return { ...this.#faults, dropNextResponses: this.#dropNextResponses };
  }

  /** Real-time delivery delay in ms. */
  public get latencyMs(): number {
    const latency = this.#faults.latencyMs ?? 0;
    return Number.isFinite(latency) && latency > 0 ? latency : 0;
  }

  /** `retry_after_ms` of injected 429 answers. */
  public get retryAfterMs(): number {
    return Math.max(0, this.#faults.retryAfterMs ?? 100);
  }

  /** Decides the fate of the next request attempt. */
  public nextRequest(): RequestFate {
    this.#requestCount++;
    const every = this.#faults.rateLimitEvery ?? 0;
    if (every >= 1 && this.#requestCount % Math.floor(every) === 0) {
      return "rateLimited";
    }
    if (this.#dropNextResponses > 0) {
      this.#dropNextResponses--;
      return "lostResponse";
    }
    const loss = clampRate(this.#faults.lossRate);
    if (loss > 0 && this.random() < loss) {
      return this.random() < 0.5 ? "lostRequest" : "lostResponse";
    }
    const errors = clampRate(this.#faults.serverErrorRate);
    if (errors > 0 && this.random() < errors) {
      return this.random() < 0.5 ? "errorBefore" : "errorAfter";
    }
    return "ok";
  }

  /** Decides duplication and reordering of one to-device message. */
  public nextToDevice(): ToDeviceFate {
    const duplicate = clampRate(this.#faults.duplicateRate);
    const copies = duplicate > 0 && this.random() < duplicate ? 2 : 1;
    const extraDelayMs: number[] = [];
    for (let i = 0; i < copies; i++) {
      extraDelayMs.push(this.#faults.reorder === true ? Math.floor(this.random() * REORDER_WINDOW_MS) : 0);
    }
    return { copies, extraDelayMs };
  }
}
