import {
  EncryptionType,
  RoomEvent,
  type E2EEOptions,
  type EncryptionState,
  type Room,
} from "@livekit/rtc-node";
import type { CallParticipant } from "../call/CallParticipant.js";
import { TypedEventEmitter } from "../core/TypedEventEmitter.js";
import type { EncryptionKeyProvider } from "../group/EncryptionKeyProvider.js";
import { DEFAULT_KEY_RING_SIZE, KeyStore, LIVEKIT_RATCHET_SALT } from "../livekit/keyStore.js";
import { ratchetKeyBytes } from "../livekit/ratchet.js";
import * as ffi from "./ffi.js";

/** Options of {@link LiveKitNodeKeyBridge}. */
export interface LiveKitNodeKeyBridgeOptions {
  /** Our key index ring (`VoipOptions.keyRingSize`, 16); rtc-node's keyring gets the same size. */
  keyRingSize?: number;
  /**
   * How often a receiver ratchets a key forward when a frame does not decrypt. 0 (default) reports a wrong key within
   * ~200 ms; rtc-node's own default (16, with unlimited failures) burns CPU and never reports DECRYPTION_FAILED.
   */
  ratchetWindowSize?: number;
  /** Decryption failures before a key counts as invalid; 3 by default. */
  failureTolerance?: number;
  /** The ratchet salt; LiveKit's `LKFrameEncryptionKey` by default. */
  ratchetSalt?: string;
}

/** Events of {@link LiveKitNodeKeyBridge}. */
export interface LiveKitNodeKeyBridgeEvents {
  /** rtc-node reported a new E2EE state for a participant's media (OK, MISSING_KEY, DECRYPTION_FAILED, …). */
  encryptionStateChanged: (participantIdentity: string, state: EncryptionState) => void;
}

/** rtc-node's HKDF key derivation (`KeyDerivationFunction.HKDF`; the enum is not exported by rtc-node). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the enum lives in rtc-node's internal package
const HKDF = 1 as NonNullable<E2EEOptions["keyProviderOptions"]["keyDerivationFunction"]>;

/**
 * Feeds the media keys of a LiveKit group call into `@livekit/rtc-node` (bots, tests and tools in Node): an
 * {@link EncryptionKeyProvider} for the `WebRTCDelegate`. Connect the room with {@link LiveKitNodeKeyBridge.e2eeOptions}
 * and the identity `${userId}:${deviceId}`, then {@link LiveKitNodeKeyBridge.attach} it; keys that arrive earlier
 * are installed on attach. Works around the E2EE gaps of rtc-node 1.1.0 (pinned exactly): keys are installed with
 * their bytes, our own tracks are switched to the index of our latest key, and per-participant E2EE states are
 * reported as {@link LiveKitNodeKeyBridgeEvents.encryptionStateChanged}.
 */
export class LiveKitNodeKeyBridge
  extends TypedEventEmitter<LiveKitNodeKeyBridgeEvents>
  implements EncryptionKeyProvider
{
  /** Pass as `room.connect(url, token, { encryption: bridge.e2eeOptions })`. */
  public readonly e2eeOptions: E2EEOptions;
  private readonly store: KeyStore;
  private readonly salt: string;
  private readonly latestIndex = new Map<string, number>();
  private readonly states = new Map<string, EncryptionState>();
  private room: Room | undefined;
  private unsubscribe: (() => void) | undefined;

  public constructor(options: LiveKitNodeKeyBridgeOptions = {}) {
    super();
    this.store = new KeyStore(options.keyRingSize ?? DEFAULT_KEY_RING_SIZE);
    this.salt = options.ratchetSalt ?? LIVEKIT_RATCHET_SALT;
    this.e2eeOptions = {
      encryptionType: EncryptionType.GCM,
      keyProviderOptions: {
        ratchetSalt: new TextEncoder().encode(this.salt),
        ratchetWindowSize: options.ratchetWindowSize ?? 0,
        failureTolerance: options.failureTolerance ?? 3,
        keyRingSize: this.store.ringSize,
        keyDerivationFunction: HKDF,
      },
    };
  }

  /** Starts feeding a connected room: installs every key so far and follows our own new tracks. */
  public attach(room: Room): void {
    this.detach();
    const stopStates = ffi.onEncryptionState(room, (identity, state) => {
      this.states.set(identity, state);
      this.emit("encryptionStateChanged", identity, state);
    });
    const onLocalTrack = (): void => {
      this.applyLocalIndex();
    };
    room.on(RoomEvent.LocalTrackPublished, onLocalTrack);
    this.room = room;
    this.unsubscribe = () => {
      stopStates();
      room.off(RoomEvent.LocalTrackPublished, onLocalTrack);
    };
    for (const [identity, index, key] of this.store.entries()) {
      ffi.setKey(room, identity, key, index);
    }
    this.applyLocalIndex();
  }

  /** Stops feeding the room (keys stay remembered for the next attach). */
  public detach(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.room = undefined;
  }

  /** The last E2EE state rtc-node reported for `participantIdentity`. */
  public encryptionState(participantIdentity: string): EncryptionState | undefined {
    return this.states.get(participantIdentity);
  }

  /** The index of the latest key set for `participantIdentity` (for our own device: the index we encrypt with). */
  public keyIndex(participantIdentity: string): number | undefined {
    return this.latestIndex.get(participantIdentity);
  }

  /** Installs `key` for `participant` at `index`; for our own device this also makes it the key we encrypt with. */
  public onSetEncryptionKey(participant: CallParticipant, key: Uint8Array, index: number): Promise<void> {
    return Promise.resolve().then(() => {
      this.store.check(participant, index, key);
      this.store.set(participant, index, key);
      this.latestIndex.set(participant.id, index);
      if (this.room !== undefined) {
        ffi.setKey(this.room, participant.id, key, index);
        this.applyLocalIndex();
      }
    });
  }

  /**
   * Ratchets the key at `index` (HKDF with the ratchet salt, as livekit-client and rtc-node do), installs the result at
   * the same index and returns it.
   */
  public async onRatchetKey(participant: CallParticipant, index: number): Promise<Uint8Array> {
    const next = await ratchetKeyBytes(this.store.get(participant, index), this.salt);
    await this.onSetEncryptionKey(participant, next, index);
    return next;
  }

  /** The key installed for `participant` at `index`; rejects when there is none. */
  public onExportKey(participant: CallParticipant, index: number): Promise<Uint8Array> {
    return Promise.resolve().then(() => this.store.get(participant, index));
  }

  /** Points every cryptor of our own tracks at the index of our latest key. */
  private applyLocalIndex(): void {
    const room = this.room;
    const local = room?.localParticipant?.identity;
    const index = local === undefined ? undefined : this.latestIndex.get(local);
    if (room === undefined || index === undefined) {
      return;
    }
    for (const cryptor of ffi.frameCryptors(room)) {
      if (cryptor.participantIdentity === local && cryptor.keyIndex !== index) {
        ffi.setCryptorKeyIndex(room, local, cryptor.trackSid, index);
      }
    }
  }
}
