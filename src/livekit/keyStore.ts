import type { CallParticipant } from "../call/CallParticipant.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";

/** The size of our key index ring (`VoipOptions.keyRingSize`) and of LiveKit's default keyring. */
export const DEFAULT_KEY_RING_SIZE = 16;

/** The salt LiveKit's SDKs ratchet and derive frame keys with (`LKFrameEncryptionKey`). */
export const LIVEKIT_RATCHET_SALT = "LKFrameEncryptionKey";

/**
 * The raw media keys a bridge has handed to a LiveKit SDK, per participant identity and key index, so that
 * `onExportKey` can return them. Validates what comes in: a bad index or an empty key is a clear error.
 *
 * @internal
 */
export class KeyStore {
  private readonly keys = new Map<string, Map<number, Uint8Array>>();

  public constructor(
    /** Indexes are 0 … ringSize − 1. */
    public readonly ringSize: number,
  ) {
    if (!Number.isInteger(ringSize) || ringSize < 1 || ringSize > 256) {
      throw new VoipError(VoipErrorCode.InvalidArgument, `key ring size must be 1 … 256, got ${ringSize}`);
    }
  }

  /** Throws unless `index` fits the ring and `key` has bytes. */
  public check(participant: CallParticipant, index: number, key?: Uint8Array): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.ringSize) {
      throw new VoipError(
        VoipErrorCode.InvalidArgument,
        `key index ${index} for ${participant.id} is outside the key ring (0 … ${this.ringSize - 1})`,
      );
    }
    if (key?.length === 0) {
      throw new VoipError(VoipErrorCode.InvalidArgument, `empty key for ${participant.id} at index ${index}`);
    }
  }

  /** Remembers a copy of `key`. */
  public set(participant: CallParticipant, index: number, key: Uint8Array): void {
    let ring = this.keys.get(participant.id);
    if (ring === undefined) {
      ring = new Map();
      this.keys.set(participant.id, ring);
    }
    ring.set(index, Uint8Array.from(key));
  }

  /** A copy of the key at `index`; throws when there is none. */
  public get(participant: CallParticipant, index: number): Uint8Array {
    this.check(participant, index);
    const key = this.keys.get(participant.id)?.get(index);
    if (key === undefined) {
      throw new VoipError(VoipErrorCode.InvalidState, `no key for ${participant.id} at index ${index}`);
    }
    return Uint8Array.from(key);
  }

  /** Every key held: `[participant id, index, copy of the key]`. */
  public entries(): [string, number, Uint8Array][] {
    return [...this.keys].flatMap(([id, ring]) =>
      [...ring].map(([index, key]): [string, number, Uint8Array] => [id, index, Uint8Array.from(key)]),
    );
  }

  /** Forgets every key of `participant`. */
  public delete(participant: CallParticipant): void {
    this.keys.delete(participant.id);
  }
}
