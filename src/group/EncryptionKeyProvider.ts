import type { CallParticipant } from "../call/CallParticipant.js";

/** Receives SFU media keys (wire it to livekit-client's key provider; see `famedly-calls/livekit`). */
export interface EncryptionKeyProvider {
  /** Install `key` for `participant` at `index` (our own keys and received remote keys). */
  onSetEncryptionKey(participant: CallParticipant, key: Uint8Array, index: number): Promise<void>;
  /** Ratchet the key at `index` and return the new key bytes. */
  onRatchetKey(participant: CallParticipant, index: number): Promise<Uint8Array>;
  /** Export the key at `index`. */
  onExportKey(participant: CallParticipant, index: number): Promise<Uint8Array>;
}
