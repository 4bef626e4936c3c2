import { BaseKeyProvider, createKeyMaterialFromBuffer, ratchet } from "livekit-client";
import type { CallParticipant } from "../call/CallParticipant.js";
import type { EncryptionKeyProvider } from "../group/EncryptionKeyProvider.js";
import { DEFAULT_KEY_RING_SIZE, KeyStore, LIVEKIT_RATCHET_SALT } from "./keyStore.js";

/** Options of {@link LiveKitKeyBridge}. */
export interface LiveKitKeyBridgeOptions {
  /**
   * Our key index ring (`VoipOptions.keyRingSize`, 16 by default). LiveKit's keyring gets the same size, so every
   * index the key manager hands out has a slot.
   */
  keyRingSize?: number;
  /**
   * How many times a receiver ratchets a key forward when a frame does not decrypt. 0 (the default) makes a wrong
   * or missing key show at once; use a small window (e.g. 8) with `enableSFUE2EEKeyRatcheting`, where members learn
   * a sender's ratcheted key only by ratcheting themselves.
   */
  ratchetWindowSize?: number;
  /** Decryption failures tolerated before a key counts as invalid (LiveKit's default when absent). */
  failureTolerance?: number;
  /** The ratchet salt; LiveKit's `LKFrameEncryptionKey` by default (all participants must agree). */
  ratchetSalt?: string;
}

/** livekit-client's key provider with a public way in for our keys. */
class BridgeKeyProvider extends BaseKeyProvider {
  public install(material: CryptoKey, participantIdentity: string, keyIndex: number): void {
    this.onSetEncryptionKey(material, participantIdentity, keyIndex);
  }
}

/**
 * Feeds the media keys of a LiveKit group call into livekit-client: an {@link EncryptionKeyProvider} (give it to the
 * `WebRTCDelegate` as `keyProvider`) whose keys land in {@link LiveKitKeyBridge.keyProvider}, a per-participant
 * livekit-client key provider (give it to `new Room({ e2ee: { keyProvider, worker } })`). LiveKit participant
 * identities are our participant ids, `${userId}:${deviceId}`: mint the LiveKit token with that identity.
 *
 * ```ts
 * const bridge = new LiveKitKeyBridge();
 * const voip = new VoIP(client, { ...createBrowserDelegate(), keyProvider: bridge });
 * const room = new Room({ e2ee: { keyProvider: bridge.keyProvider, worker: new Worker(workerUrl) } });
 * ```
 */
export class LiveKitKeyBridge implements EncryptionKeyProvider {
  /** The livekit-client key provider (per participant, keyring of `keyRingSize`) that receives our keys. */
  public readonly keyProvider: BaseKeyProvider;
  private readonly provider: BridgeKeyProvider;
  private readonly store: KeyStore;
  private readonly salt: string;
  private readonly latestIndex = new Map<string, number>();

  public constructor(options: LiveKitKeyBridgeOptions = {}) {
    this.store = new KeyStore(options.keyRingSize ?? DEFAULT_KEY_RING_SIZE);
    this.salt = options.ratchetSalt ?? LIVEKIT_RATCHET_SALT;
    this.provider = new BridgeKeyProvider({
      sharedKey: false,
      keyringSize: this.store.ringSize,
      ratchetWindowSize: options.ratchetWindowSize ?? 0,
      ratchetSalt: this.salt,
      ...(options.failureTolerance === undefined ? {} : { failureTolerance: options.failureTolerance }),
    });
    this.keyProvider = this.provider;
  }

  /** The index of the latest key set for `participantIdentity` (for our own device: the index we encrypt with). */
  public keyIndex(participantIdentity: string): number | undefined {
    return this.latestIndex.get(participantIdentity);
  }

  /** Installs `key` for `participant` at `index`; for our own device this also makes it the key we encrypt with. */
  public async onSetEncryptionKey(
    participant: CallParticipant,
    key: Uint8Array,
    index: number,
  ): Promise<void> {
    this.store.check(participant, index, key);
    const material = await createKeyMaterialFromBuffer(toArrayBuffer(key));
    this.store.set(participant, index, key);
    this.latestIndex.set(participant.id, index);
    this.provider.install(material, participant.id, index);
  }

  /**
   * Ratchets the key at `index` the way livekit-client's worker does (HKDF with the ratchet salt), installs the
   * result at the same index and returns it. Receivers that hold the old key catch up by ratcheting it themselves.
   */
  public async onRatchetKey(participant: CallParticipant, index: number): Promise<Uint8Array> {
    const current = this.store.get(participant, index);
    const material = await createKeyMaterialFromBuffer(toArrayBuffer(current));
    const next = new Uint8Array(await ratchet(material, this.salt));
    await this.onSetEncryptionKey(participant, next, index);
    return next;
  }

  /** The key installed for `participant` at `index`; rejects when there is none. */
  public onExportKey(participant: CallParticipant, index: number): Promise<Uint8Array> {
    return Promise.resolve().then(() => this.store.get(participant, index));
  }
}

/** A fresh ArrayBuffer holding exactly the bytes of `bytes`. */
function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return copy;
}
