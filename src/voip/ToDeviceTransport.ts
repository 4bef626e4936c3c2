import type { SignallingTransport } from "../call/CallContext.js";
import { sleep, type Clock } from "../core/Clock.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { RetryBudget, withRetry, type RetryContext } from "../core/retry.js";
import { meshTypeFor, type CallEventType } from "../matrix/eventTypes.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";
import type { MeshDialect } from "../matrix/parse.js";

/** @internal The one device a mesh leg signals to. */
export interface ToDeviceTarget {
  userId: string;
  deviceId: string;
  /** The peer's session id (its `membershipID`), sent as `dest_session_id`; known before the call binds. */
  sessionId?: string | undefined;
}

/** @internal What a {@link ToDeviceTransport} needs. */
export interface ToDeviceTransportDeps {
  client: MatrixClientPort;
  clock: Clock;
  /** The library's retry layer (429 only, `core/retry`); transport failures are the port's. */
  retry: RetryContext;
  logger: Logger;
  roomId: string;
  /** Our session id, sent as `sender_session_id`. */
  sessionId: string;
  target: ToDeviceTarget;
  /** The peer's dialect (PROTOCOL P2), asked at each send: its membership may change. */
  dialect: () => MeshDialect;
  /** Whether the room is encrypted (asked at each send). */
  roomEncrypted: () => boolean;
  /** How long, in total, a send to a device we cannot encrypt to yet is retried in an encrypted room. */
  encryptWaitMs?: number;
}

/** First wait before asking again whether we can encrypt to the device; doubles up to {@link MAX_ENCRYPT_WAIT_STEP_MS}. */
const FIRST_ENCRYPT_WAIT_MS = 50;
const MAX_ENCRYPT_WAIT_STEP_MS = 1_000;
/** Default of {@link ToDeviceTransportDeps.encryptWaitMs}. */
export const DEFAULT_ENCRYPT_WAIT_MS = 20_000;

/**
 * @internal The signalling transport of a mesh leg (reference §3.1, PROTOCOL P2, G3, G7): each event goes to one
 * device as a to-device message, with `seq` (assigned synchronously, in send order, from 0 per leg),
 * `dest_session_id`, `sender_session_id` and `room_id` added. The type follows the peer's dialect: `m.call.*` for
 * famedly-v1 peers, `com.famedly.call.member.*` otherwise.
 *
 * Encryption (G7): Olm whenever the port can encrypt to that device. In an encrypted room a device we cannot
 * encrypt to yet (its keys not downloaded) is asked again with backoff for up to `encryptWaitMs`, then the send
 * fails; it is never sent in plaintext. Plaintext only in an unencrypted room to a device we cannot encrypt to.
 */
export class ToDeviceTransport implements SignallingTransport {
  readonly #deps: ToDeviceTransportDeps;
  readonly #log: Logger;
  #seq = 0;

  public constructor(deps: ToDeviceTransportDeps) {
    this.#deps = deps;
    this.#log = deps.logger;
  }

  /** The `seq` the next message will carry. */
  public get nextSeq(): number {
    return this.#seq;
  }

  /**
   * Sends one signalling event to the peer device. The `seq` is taken before the first `await`. An abort of
   * `opts.signal` cancels the send while it waits for encryption keys or out a rate limit.
   */
  public send(type: CallEventType, content: object, opts?: { signal?: AbortSignal }): Promise<void> {
    const { target, sessionId, roomId } = this.#deps;
    const full = {
      ...content,
      seq: this.#seq++,
      ...(target.sessionId !== undefined ? { dest_session_id: target.sessionId } : {}),
      sender_session_id: sessionId,
      room_id: roomId,
    };
    return this.#deliver(meshTypeFor(type, this.#deps.dialect()), full, opts?.signal);
  }

  async #deliver(type: string, content: object, signal: AbortSignal | undefined): Promise<void> {
    const { client, retry, target } = this.#deps;
    const encrypted = await this.#mayEncrypt(type, signal);
    const messages = { [target.userId]: { [target.deviceId]: content } };
    const budget = new RetryBudget(retry.policy.maxAttempts);
    await withRetry(`sendToDevice ${type}`, { ...retry, budget, signal }, ["rate_limited"], () =>
      client.sendToDevice(type, messages, { encrypted, budget }),
    );
  }

  /** True to encrypt; false for plaintext (unencrypted room, device we cannot encrypt to). Rejects in an encrypted room after the wait. */
  async #mayEncrypt(type: string, signal: AbortSignal | undefined): Promise<boolean> {
    const { client, clock, target } = this.#deps;
    const budget = this.#deps.encryptWaitMs ?? DEFAULT_ENCRYPT_WAIT_MS;
    let waited = 0;
    let step = FIRST_ENCRYPT_WAIT_MS;
    for (;;) {
      if (client.canEncryptToDevice(target.userId, target.deviceId)) {
        return true;
      }
      if (!this.#deps.roomEncrypted()) {
        return false;
      }
      if (waited >= budget) {
        throw new VoipError(
          VoipErrorCode.SendFailed,
          `cannot Olm-encrypt to ${target.userId} / ${target.deviceId}; not sending ${type} in plaintext`,
        );
      }
      if (waited === 0) {
        this.#log.debug("cannot encrypt to the device yet, waiting", { type, deviceId: target.deviceId });
      }
      const wait = Math.min(step, budget - waited);
      await sleep(clock, wait, signal);
      waited += wait;
      step = Math.min(step * 2, MAX_ENCRYPT_WAIT_STEP_MS);
    }
  }
}
