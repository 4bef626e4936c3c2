import type { CallParticipant } from "../call/CallParticipant.js";
import type { EncryptionKeyProvider } from "../group/EncryptionKeyProvider.js";

/** One `onSetEncryptionKey` call. */
export interface RecordedKey {
  /** `${userId}:${deviceId}` of the key's owner. */
  participant: string;
  /** Whether it is the local participant's key. */
  isLocal: boolean;
  /** The ring index. */
  index: number;
  /** The key bytes. */
  key: Uint8Array;
}

/**
 * An {@link EncryptionKeyProvider} that keeps every key it is given, as a LiveKit key provider would, and ratchets
 * deterministically (each byte + 1), for tests and the demo. `keys` is what a LiveKit client would decrypt with.
 */
export class RecordingKeyProvider implements EncryptionKeyProvider {
  /** Every `onSetEncryptionKey` call, in order. */
  public readonly log: RecordedKey[] = [];
  /** `participant id → index → key`: the keys held now. */
  public readonly keys = new Map<string, Map<number, Uint8Array>>();
  /** Every `onRatchetKey` call: `[participant id, index]`. */
  public readonly ratchets: [string, number][] = [];

  public onSetEncryptionKey(participant: CallParticipant, key: Uint8Array, index: number): Promise<void> {
    this.log.push({ participant: participant.id, isLocal: participant.isLocal, index, key });
    this.#store(participant.id, index, key);
    return Promise.resolve();
  }

  public onRatchetKey(participant: CallParticipant, index: number): Promise<Uint8Array> {
    this.ratchets.push([participant.id, index]);
    const current = this.keys.get(participant.id)?.get(index);
    if (current === undefined) {
      return Promise.resolve(new Uint8Array(0));
    }
    const next = current.map((byte) => (byte + 1) & 0xff);
    this.#store(participant.id, index, next);
    return Promise.resolve(next);
  }

  public onExportKey(participant: CallParticipant, index: number): Promise<Uint8Array> {
    return Promise.resolve(this.keys.get(participant.id)?.get(index) ?? new Uint8Array(0));
  }

  /** The key held for (participant, index). */
  public keyOf(participantId: string, index: number): Uint8Array | undefined {
    return this.keys.get(participantId)?.get(index);
  }

  /** The index of the local key set last (the one the local participant encrypts with). */
  public get currentLocalIndex(): number | undefined {
    return this.log.filter((entry) => entry.isLocal).at(-1)?.index;
  }

  /** Indices of the local keys set, in order. */
  public localIndices(): number[] {
    return this.log.filter((entry) => entry.isLocal).map((entry) => entry.index);
  }

  /** `[participant id, index]` of every key held, sorted. */
  public heldPairs(): [string, number][] {
    const out: [string, number][] = [];
    for (const [participant, keys] of this.keys) {
      for (const index of keys.keys()) {
        out.push([participant, index]);
      }
    }
    return out.sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] < b[0] ? -1 : 1));
  }

  #store(participant: string, index: number, key: Uint8Array): void {
    let byIndex = this.keys.get(participant);
    if (byIndex === undefined) {
      byIndex = new Map();
      this.keys.set(participant, byIndex);
    }
    byIndex.set(index, key);
  }
}
