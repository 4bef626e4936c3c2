/**
 * The 1:1 call state machine. Every transition goes through {@link assertTransition}; anything not in the table
 * is a bug and throws.
 *
 * ```
 * Outgoing: Fledgling ─initOutbound→ CreateOffer ─invite sent→ InviteSent ─answer→ Connecting ─ICE→ Connected
 * Incoming: Fledgling ─invite→ Ringing ─answer()→ CreateAnswer ─answer sent→ Connecting ─ICE→ Connected
 * Any live state ─hangup()/reject()→ Ending → Ended;   remote end, timeouts, failures → Ended
 * ```
 */
import { VoipError, VoipErrorCode } from "../core/errors.js";
import { CallState } from "./types.js";

/** The legal next states of each state. */
export const CALL_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  [CallState.Fledgling]: [CallState.CreateOffer, CallState.Ringing, CallState.Ending, CallState.Ended],
  [CallState.CreateOffer]: [CallState.InviteSent, CallState.Ending, CallState.Ended],
  [CallState.InviteSent]: [CallState.Connecting, CallState.Ending, CallState.Ended],
  [CallState.Ringing]: [CallState.CreateAnswer, CallState.Ending, CallState.Ended],
  [CallState.CreateAnswer]: [CallState.Connecting, CallState.Ending, CallState.Ended],
  [CallState.Connecting]: [CallState.Connected, CallState.Ending, CallState.Ended],
  [CallState.Connected]: [CallState.Ending, CallState.Ended],
  [CallState.Ending]: [CallState.Ended],
  [CallState.Ended]: [],
};

/** True when `to` may follow `from`. */
export function canTransition(from: CallState, to: CallState): boolean {
  return CALL_TRANSITIONS[from].includes(to);
}

/** Throws a {@link VoipError} (`invalid_state`) unless `to` may follow `from`. */
export function assertTransition(from: CallState, to: CallState): void {
  if (!canTransition(from, to)) {
    throw new VoipError(VoipErrorCode.InvalidState, `illegal call state transition ${from} -> ${to}`);
  }
}

/** States in which the call has not ended and is not ending. */
export function isLive(state: CallState): boolean {
  return state !== CallState.Ending && state !== CallState.Ended;
}
