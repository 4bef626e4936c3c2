/**
 * Every timing of the protocol, in milliseconds (PROTOCOL D9). Names follow the reference's constants (§4) and
 * its hard-coded values.
 */
export interface CallTimeouts {
  /** `lifetime` of our invites; the caller's invite timeout and the callee's ringing timeout. */
  callInviteLifetimeMs: number;
  /** `lifetime` of `m.call.negotiate`. */
  defaultCallEventLifetimeMs: number;
  /** With `fixedWaits` (the reference's behaviour, for benchmarks): the wait for ICE gathering before the invite. */
  iceGatheringDelayMs: number;
  /** Wait on `negotiationneeded` before creating an offer (an iOS m-line workaround in the reference). */
  delayBeforeOfferMs: number;
  /** With `fixedWaits` (the reference's behaviour, for benchmarks): the wait for ICE gathering before the answer. */
  answerDelayMs: number;
  /** Batching delay for our ICE candidates when we are the callee. */
  candidateBatchIncomingMs: number;
  /** Batching delay for our ICE candidates when we are the caller. */
  candidateBatchOutgoingMs: number;
  /** Force-flush of queued candidates this long after gathering started, complete or not. */
  candidateFlushMs: number;
  /**
   * How long our ICE-TCP candidates are held back after our invite, answer or offer went out, while ICE may still
   * connect over UDP (PROTOCOL D7 note): they go out when ICE has not connected by then (or at once when it fails
   * or disconnects first) and are dropped when it connects. `0` disables the holding back: every candidate is
   * sent as it is gathered (the reference's behaviour).
   */
  tcpCandidateDelayMs: number;
  /** Group calls: how often our membership is re-published. */
  updateExpireTsIntervalMs: number;
  /** Group calls: `expires_ts = now + this`, and the grace after `expires_ts` before a membership counts as expired. */
  expireTsBumpMs: number;
  /** SFU: debounce before a new key after someone leaves. */
  makeKeyOnLeaveDelayMs: number;
  /** SFU: a key younger than this is re-sent instead of making a new one on join. */
  makeKeyOnJoinDelayMs: number;
  /** SFU: delay before we use a new key of our own. */
  useKeyDelayMs: number;
  /** MSC4140 delay of our "leave" membership event. */
  delayedLeaveMs: number;
  /** Heartbeat period restarting the delayed leave. */
  delayedLeaveRestartMs: number;
  /** How long signalling and keys from a not-yet-known member are held (PROTOCOL G6/K5). */
  earlyEventHoldMs: number;
}

/** The reference implementation's values (reference §4), for interop tests and benchmarks. */
export const REFERENCE_TIMEOUTS: Readonly<CallTimeouts> = Object.freeze({
  callInviteLifetimeMs: 60_000,
  defaultCallEventLifetimeMs: 10_000,
  iceGatheringDelayMs: 200,
  delayBeforeOfferMs: 100,
  answerDelayMs: 200,
  candidateBatchIncomingMs: 500,
  candidateBatchOutgoingMs: 2_000,
  candidateFlushMs: 3_000,
  tcpCandidateDelayMs: 0,
  updateExpireTsIntervalMs: 120_000,
  expireTsBumpMs: 360_000,
  makeKeyOnLeaveDelayMs: 4_000,
  makeKeyOnJoinDelayMs: 8_000,
  useKeyDelayMs: 4_000,
  delayedLeaveMs: 18_000,
  delayedLeaveRestartMs: 4_000,
  earlyEventHoldMs: 5_000,
});

/**
 * Our defaults: the reference's wire-visible values (lifetimes, expiry, key delays) and faster local waits. The
 * gathering waits are not used: the invite and the answer leave with the first host candidate, the others trickle
 * (TCP ones only when UDP has not connected within `tcpCandidateDelayMs`).
 */
export const DEFAULT_TIMEOUTS: Readonly<CallTimeouts> = Object.freeze({
  ...REFERENCE_TIMEOUTS,
  delayBeforeOfferMs: 0,
  candidateBatchIncomingMs: 200,
  candidateBatchOutgoingMs: 200,
  tcpCandidateDelayMs: 2_000,
});

/** Merges user overrides onto {@link DEFAULT_TIMEOUTS}; rejects negative or non-finite values. */
export function resolveTimeouts(overrides: Partial<CallTimeouts> = {}): Readonly<CallTimeouts> {
  const merged: CallTimeouts = { ...DEFAULT_TIMEOUTS };
  for (const [key, value] of Object.entries(overrides) as [keyof CallTimeouts, number | undefined][]) {
    if (value === undefined) {
      continue;
    }
    if (!Number.isFinite(value) || value < 0) {
      throw new TypeError(`timeouts.${key} must be a finite number >= 0, got ${String(value)}`);
    }
    merged[key] = value;
  }
  return Object.freeze(merged);
}
