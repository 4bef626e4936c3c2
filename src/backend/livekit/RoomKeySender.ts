/**
 * Sends our keys as Element's `io.element.call.encryption_keys` room event (matrix-js-sdk ≤ v41.0's default
 * transport): one event per rotation reaches every Element member of the room. The port encrypts it (Megolm) in an
 * encrypted room; the key core sends nothing this way when the event would be cleartext (PROTOCOL K3). Retries as
 * {@link KeyDelivery} does (K2, one layer per kind of failure): a 429 is tried again after its `retry_after_ms`,
 * with at most 5 tries in all; a transport failure was retried by the port already and a 4xx cannot be helped.
 * Every pending retry is a timer on the injected clock, cancelled by `dispose`.
 * Internal to the library.
 */
import type { Clock, TimerHandle } from "../../core/Clock.js";
import { MatrixPortError, VoipError, VoipErrorCode } from "../../core/errors.js";
import type { Logger } from "../../core/Logger.js";
import type { RandomSource } from "../../core/random.js";
import { classifyFailure, retryDelayMs, type RetryPolicy } from "../../core/retry.js";
import type { MatrixClientPort } from "../../matrix/MatrixClientPort.js";

/** What a {@link RoomKeySender} needs. @internal */
export interface RoomKeySenderOptions {
  /** The port: `sendRoomEvent`. */
  client: Pick<MatrixClientPort, "sendRoomEvent">;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  roomId: string;
  /** K2's policy (shared with the to-device delivery). */
  policy: Readonly<RetryPolicy>;
  /** Called once per event that could not be sent within the tries. */
  onGiveUp: (error: VoipError) => void;
}

/** See the file comment. @internal */
export class RoomKeySender {
  readonly #options: RoomKeySenderOptions;
  readonly #timers = new Set<TimerHandle>();
  readonly #waiting = new Set<() => void>();
  #disposed = false;
  /** Room events sent (for tests). */
  public sent = 0;

  public constructor(options: RoomKeySenderOptions) {
    this.#options = options;
  }

  /** Retries waiting now. */
  public get pending(): number {
    return this.#timers.size;
  }

  /** Sends one room event; resolves when it was sent, given up on, or cancelled (never rejects). */
  public async send(type: string, content: () => Record<string, unknown>): Promise<void> {
    const { client, logger, roomId, policy } = this.#options;
    for (let tries = 1; !this.#disposed; tries++) {
      try {
        await client.sendRoomEvent(roomId, type, content());
        this.sent++;
        return;
      } catch (error) {
        const kind = classifyFailure(error);
        logger.warn("sending a key room event failed", { type, tries, kind, error: String(error) });
        if (kind !== "rate_limited" || tries >= Math.max(1, policy.maxAttempts)) {
          this.#options.onGiveUp(
            new VoipError(VoipErrorCode.SendFailed, `key room event: could not send after ${tries} tries`, {
              cause: error,
            }),
          );
          return;
        }
        const retryAfterMs = error instanceof MatrixPortError ? error.retryAfterMs : undefined;
        await this.#wait(retryDelayMs(policy, tries, this.#options.random, retryAfterMs));
      }
    }
  }

  /** Cancels every retry; a send in flight completes but is not retried. */
  public dispose(): void {
    this.#disposed = true;
    for (const timer of this.#timers) {
      this.#options.clock.clearTimer(timer);
    }
    this.#timers.clear();
    for (const wake of [...this.#waiting]) {
      wake();
    }
  }

  #wait(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = (): void => {
        this.#timers.delete(timer);
        this.#waiting.delete(wake);
        resolve();
      };
      const timer = this.#options.clock.setTimeout(wake, ms);
      this.#timers.add(timer);
      this.#waiting.add(wake);
    });
  }
}
