// The machine-readable result of a demo run: the `--json` line (DESIGN "Commands").
import type { TimelineEvent } from "./timeline.js";

/** The scenarios the CLI knows. */
export const SCENARIOS = ["one-to-one", "mesh", "sfu"] as const;

/** A scenario name. */
export type ScenarioName = (typeof SCENARIOS)[number];

/** One participant in the summary. */
export interface ParticipantSummary {
  userId: string;
  deviceId: string;
  /** The call's state sequence as this participant saw it, e.g. `["fledgling", "ringing", …, "ended"]`. */
  states: string[];
  /** `getStats()` audio `bytesReceived`, taken just before hangup. */
  audioBytesReceived: number;
  /** Video frames decoded (stats `framesDecoded`, or the probe's count where stats have none). */
  videoFramesReceived: number;
  /** sfu --livekit: audio frames decrypted and decoded (the others' tone). */
  audioFramesDecoded?: number;
  /** sfu --livekit: the index of the key this participant encrypts with. */
  keyIndex?: number;
}

/** mesh: one pair of participants (`a` < `b`). */
export interface PairSummary {
  a: string;
  b: string;
  /** When the pair was connected on both sides, ms after everyone called `enter()`. */
  connectedMs?: number;
  /** Audio bytes `b` received from `a` (its leg's `getStats()`). */
  bytesAtoB: number;
  /** Audio bytes `a` received from `b`. */
  bytesBtoA: number;
}

/** The `--json` summary of a one-to-one run (the shape is shared by every scenario). */
export interface DemoSummary {
  scenario: ScenarioName;
  /** True iff every step of the scenario succeeded. */
  ok: boolean;
  /** `inviteToCall` called → both sides connected, in milliseconds (0 if they never connected). */
  setupMs: number;
  participants: ParticipantSummary[];
  /** one-to-one: the reason the call ended, as the callee saw it. */
  hangupReason?: string;
  /** sfu: whether every member in the call holds every other member's current key. */
  keysConsistent?: boolean;
  /** sfu: per participant id, the `[participant id, index]` keys its key provider holds. */
  keys?: Record<string, [string, number][]>;
  /** mesh: how many pairs connected (N·(N−1)/2 when the mesh is full). */
  pairsConnected?: number;
  /** mesh: per pair, when it connected and the audio bytes each way. */
  pairs?: PairSummary[];
  events: TimelineEvent[];
}

/** A failed step: its name and what went wrong. */
export interface StepFailure {
  step: string;
  message: string;
}

/** What a scenario returns: the summary, and the failure when `ok` is false. */
export interface ScenarioOutcome {
  summary: DemoSummary;
  failure?: StepFailure;
}
