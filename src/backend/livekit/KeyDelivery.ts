/**
 * Sends SFU key events and key requests over to-device (reference §3.4; PROTOCOL P2, K2, K3, K4): each recipient
 * in its dialect's event type, Olm-encrypted whenever the port can encrypt to it, and as few `sendToDevice` calls
 * as possible: one per event type and encryption mode, whatever the number of recipients. A device we cannot
 * encrypt to yet never blocks the others; it waits for a retry (in an encrypted room, and without
 * `allowPlaintextKeys`, it never gets plaintext). Failed sends retry with bounded exponential backoff, then give up
 * with an error. One retry layer per kind of failure (`core/retry`): a rate-limited send (429) gets a new round; a
 * transport failure (5xx, network) was retried by the port already and a 4xx cannot be helped, so those recipients
 * are not sent to again.
 * Internal to the library.
 */
import type { Clock, TimerHandle } from "../../core/Clock.js";
import { MatrixPortError, VoipError, VoipErrorCode } from "../../core/errors.js";
import type { Logger } from "../../core/Logger.js";
import type { RandomSource } from "../../core/random.js";
import { classifyFailure, retryDelayMs, type RetryPolicy } from "../../core/retry.js";
import type { MatrixClientPort } from "../../matrix/MatrixClientPort.js";
import { deviceKey, type DeviceRef, type KeyDialect, type KeyRecipient } from "./keyTypes.js";

/**
 * K2: at most 5 tries per message, the first included, with the project's jittered exponential backoff
 * (`core/retry`): about 1, 2, 4 and 8 s (each in the upper half of that). A new round re-plans: a device that could
 * not be encrypted to may be ready now, and a 429's `retry_after_ms` is honoured. Recipients whose send failed with
 * a transport failure (already retried by the port) or a 4xx get no new round.
 */
export const KEY_RETRY_POLICY: Readonly<RetryPolicy> = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 8_000,
};

/** What {@link KeyDelivery} needs. @internal */
export interface KeyDeliveryOptions {
  /** The port: `sendToDevice` and `canEncryptToDevice`. */
  client: Pick<MatrixClientPort, "sendToDevice" | "canEncryptToDevice">;
  clock: Clock;
  /** Jitter of the backoff. */
  random: RandomSource;
  logger: Logger;
  /** Whether the call's room is encrypted now. */
  roomEncrypted: () => boolean;
  /** `VoipOptions.allowPlaintextKeys`: plaintext to devices we cannot encrypt to, in unencrypted rooms only. */
  allowPlaintextKeys: boolean;
  /** Whether a recipient of a key event still wants it (it is still a member); checked before every try. */
  stillWanted: (recipient: DeviceRef) => boolean;
  /** Called once per message that could not be delivered to every recipient within the tries. */
  onGiveUp: (error: VoipError) => void;
  /** Override of {@link KEY_RETRY_POLICY}. */
  policy?: Readonly<RetryPolicy>;
}

/** One message (key event or request) on its way to some devices. */
interface Job {
  what: string;
  types: Readonly<Record<KeyDialect, string>>;
  content: Record<string, unknown>;
  pending: Map<string, KeyRecipient>;
  /** Recipients whose send failed for good (a transport failure the port gave up on, or a 4xx). */
  failed: string[];
  filter: boolean;
  tries: number;
  timer?: TimerHandle;
  resolve: () => void;
  done: Promise<void>;
}

/** One `sendToDevice` call of a round. */
interface Batch {
  type: string;
  encrypted: boolean;
  recipients: KeyRecipient[];
}

/** Counters for tests and the benchmark. @internal */
export interface KeyDeliveryStats {
  /** `sendToDevice` calls made. */
  requests: number;
  /** Of which failed. */
  failures: number;
  /** Messages given up on. */
  givenUp: number;
}

/** See the file comment. @internal */
export class KeyDelivery {
  readonly #options: KeyDeliveryOptions;
  readonly #jobs = new Set<Job>();
  readonly #policy: Readonly<RetryPolicy>;
  #disposed = false;
  /** See {@link KeyDeliveryStats}. */
  public readonly stats: KeyDeliveryStats = { requests: 0, failures: 0, givenUp: 0 };

  public constructor(options: KeyDeliveryOptions) {
    this.#options = options;
    this.#policy = options.policy ?? KEY_RETRY_POLICY;
  }

  /** Messages still waiting for a retry. */
  public get pendingJobs(): number {
    return this.#jobs.size;
  }

  /**
   * Sends `content` to `recipients`, each with the event type of its dialect. Resolves after the first try (never
   * rejects); retries continue in the background (see {@link KeyDelivery.whenIdle}). `filter`: drop recipients
   * that are no longer wanted before each try.
   */
  public send(
    what: string,
    types: Readonly<Record<KeyDialect, string>>,
    content: Record<string, unknown>,
    recipients: readonly KeyRecipient[],
    filter: boolean,
  ): Promise<void> {
    if (this.#disposed || recipients.length === 0) {
      return Promise.resolve();
    }
    let resolve: () => void = () => undefined;
    const done = new Promise<void>((r) => {
      resolve = r;
    });
    const pending = new Map(recipients.map((r) => [deviceKey(r), r]));
    const job: Job = { what, types, content, pending, failed: [], filter, tries: 0, resolve, done };
    this.#jobs.add(job);
    return this.#round(job);
  }

  /** Resolves when no message is waiting for a retry (each delivered or given up). */
  public async whenIdle(): Promise<void> {
    while (this.#jobs.size > 0) {
      await Promise.all([...this.#jobs].map((job) => job.done));
    }
  }

  /** Drops queued recipients that left (their retries stop at once). */
  public forget(devices: readonly DeviceRef[]): void {
    for (const job of this.#jobs) {
      for (const device of devices) {
        job.pending.delete(deviceKey(device));
      }
      if (job.pending.size === 0 && job.timer !== undefined) {
        this.#finish(job);
      }
    }
  }

  /** Cancels every retry; sends in flight complete but are not retried. */
  public dispose(): void {
    this.#disposed = true;
    for (const job of [...this.#jobs]) {
      this.#finish(job);
    }
  }

  async #round(job: Job): Promise<void> {
    job.timer = undefined;
    job.tries++;
    if (job.filter) {
      for (const [id, recipient] of job.pending) {
        if (!this.#options.stillWanted(recipient)) {
          job.pending.delete(id);
        }
      }
    }
    const { batches, waiting } = this.#plan(job);
    let retryAfterMs: number | undefined;
    let lastError: unknown;
    await Promise.all(
      batches.map(async (batch) => {
        try {
          this.stats.requests++;
          await this.#options.client.sendToDevice(batch.type, messagesFor(batch.recipients, job.content), {
            encrypted: batch.encrypted,
          });
          for (const recipient of batch.recipients) {
            job.pending.delete(deviceKey(recipient));
          }
        } catch (error) {
          this.stats.failures++;
          lastError = error;
          if (classifyFailure(error) !== "rate_limited") {
            for (const recipient of batch.recipients) {
              job.pending.delete(deviceKey(recipient));
              job.failed.push(deviceKey(recipient));
            }
          } else if (error instanceof MatrixPortError && error.retryAfterMs !== undefined) {
            retryAfterMs = Math.max(retryAfterMs ?? 0, error.retryAfterMs);
          }
          this.#options.logger.warn(`sending ${job.what} failed`, {
            type: batch.type,
            encrypted: batch.encrypted,
            recipients: batch.recipients.length,
            tries: job.tries,
            kind: classifyFailure(error),
            error: String(error),
          });
        }
      }),
    );
    if (this.#disposed || !this.#jobs.has(job) || (job.pending.size === 0 && job.failed.length === 0)) {
      this.#finish(job);
      return;
    }
    if (job.pending.size === 0 || job.tries >= Math.max(1, this.#policy.maxAttempts)) {
      this.stats.givenUp++;
      const devices = [...job.failed, ...job.pending.keys()];
      this.#options.logger.error(`gave up sending ${job.what}`, { tries: job.tries, devices });
      const why = waiting > 0 && lastError === undefined ? "no Olm session to" : "could not send to";
      this.#finish(job);
      this.#options.onGiveUp(
        new VoipError(
          VoipErrorCode.SendFailed,
          `${job.what}: ${why} ${devices.join(", ")} after ${job.tries} tries`,
          lastError === undefined ? undefined : { cause: lastError },
        ),
      );
      return;
    }
    const delayMs = retryDelayMs(this.#policy, job.tries, this.#options.random, retryAfterMs);
    job.timer = this.#options.clock.setTimeout(() => {
      void this.#round(job);
    }, delayMs);
  }

  /** Groups the pending recipients into one batch per (event type, encryption); counts those that must wait. */
  #plan(job: Job): { batches: Batch[]; waiting: number } {
    const plaintextAllowed = this.#options.allowPlaintextKeys && !this.#options.roomEncrypted();
    const batches = new Map<string, Batch>();
    let waiting = 0;
    for (const recipient of job.pending.values()) {
      const encrypted = this.#options.client.canEncryptToDevice(recipient.userId, recipient.deviceId);
      if (!encrypted && !plaintextAllowed) {
        waiting++;
        continue;
      }
      const type = job.types[recipient.dialect];
      const key = `${type}|${encrypted}`;
      let batch = batches.get(key);
      if (batch === undefined) {
        batch = { type, encrypted, recipients: [] };
        batches.set(key, batch);
      }
      batch.recipients.push(recipient);
    }
    return { batches: [...batches.values()], waiting };
  }

  #finish(job: Job): void {
    this.#options.clock.clearTimer(job.timer);
    job.timer = undefined;
    this.#jobs.delete(job);
    job.resolve();
  }
}

/** `messages[userId][deviceId] = content`: every device of a user gets its own entry (PROTOCOL K4). */
function messagesFor(
  recipients: readonly KeyRecipient[],
  content: Record<string, unknown>,
): Record<string, Record<string, object>> {
  const messages: Record<string, Record<string, object>> = {};
  for (const recipient of recipients) {
    (messages[recipient.userId] ??= {})[recipient.deviceId] = content;
  }
  return messages;
}
