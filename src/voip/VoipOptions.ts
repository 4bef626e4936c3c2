import type { CallSession } from "../call/CallSession.js";
import type { Clock } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { RandomSource } from "../core/random.js";
import type { GroupCallSession } from "../group/GroupCallSession.js";
import type { CallTimeouts } from "../call/timeouts.js";

/** Options of `new VoIP(client, delegate, options)`. */
export interface VoipOptions {
  /** Time and timers; default the system clock. */
  clock?: Clock;
  /** Randomness (session id, call ids, keys); default `crypto.getRandomValues`. */
  random?: RandomSource;
  /** Where the library logs; default silent. */
  logger?: Logger;
  /** Timing overrides on top of our defaults; pass `REFERENCE_TIMEOUTS` for the reference's values. */
  timeouts?: Partial<CallTimeouts>;
  /** SFU key index modulus; default 16. */
  keyRingSize?: number;
  /** SFU: ratchet our key on join instead of making a new one; default false. */
  enableSFUE2EEKeyRatcheting?: boolean;
  /** Membership state key `${deviceId}_${userId}`; default false. */
  useUnprotectedPerDeviceStateKeys?: boolean;
  /** Allow SFU keys over plaintext to-device (PROTOCOL K3); default false. */
  allowPlaintextKeys?: boolean;
  /** The dialect we write when a peer's is unknown; default `famedly-v2`. */
  dialect?: "famedly-v2" | "famedly-v1";
  /**
   * Wait the full ICE-gathering and answer delays before sending, as the reference does (for comparisons).
   * Default false: the invite or answer leaves with the first host candidate and later candidates trickle.
   */
  fixedWaits?: boolean;
}

/** Events of `VoIP`. */
export interface VoipEvents {
  /** An incoming 1:1 call started ringing (never for mesh legs or outgoing calls). */
  incomingCall: (call: CallSession) => void;
  /** `inviteToCall` registered a call. */
  outgoingCall: (call: CallSession) => void;
  /** A 1:1 call ended (exactly once per call). */
  callEnded: (call: CallSession) => void;
  /** An incoming call ended before we answered it (remote hangup, ringing timeout, or we were busy). */
  missedCall: (call: CallSession) => void;
  /** A group call was discovered from room state. */
  incomingGroupCall: (group: GroupCallSession) => void;
  /** We left, or the group call ended. */
  groupCallEnded: (group: GroupCallSession) => void;
}
