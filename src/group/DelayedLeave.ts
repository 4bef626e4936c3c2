/**
 * MSC4140 delayed leave (reference §6.10, PROTOCOL G4): before our membership is sent, the server is given a
 * "leave" state event to publish after `delayedLeaveMs`; a heartbeat restarts it every `delayedLeaveRestartMs`.
 * If we die, the server publishes our leave. Stale delayed events of ours for the same room and state key (from a
 * previous run) are listed while the new one is sent, and cancelled before the membership goes out.
 */
import type { Clock, TimerHandle } from "../core/Clock.js";
import { MatrixPortError } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { GroupEventType } from "../matrix/eventTypes.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";

/** @internal What a {@link DelayedLeave} needs. */
export interface DelayedLeaveDeps {
  client: MatrixClientPort;
  clock: Clock;
  log: Logger;
  roomId: string;
  delayMs: number;
  restartMs: number;
  /** The membership event type (default `com.famedly.call.member`; Element: `org.matrix.msc3401.call.member`). */
  eventType?: string;
}

function isNotFound(error: unknown): boolean {
  return error instanceof MatrixPortError && (error.errcode === "M_NOT_FOUND" || error.httpStatus === 404);
}

/** @internal One scheduled delayed leave of one membership state key. */
export class DelayedLeave {
  #delayId: string | undefined;
  #heartbeat: TimerHandle | undefined;
  #beating = false;

  public constructor(private readonly deps: DelayedLeaveDeps) {}

  /** The server's id of our delayed leave, while one is scheduled. */
  public get delayId(): string | undefined {
    return this.#delayId;
  }

  /** Schedules the leave (unless one is scheduled) and starts the heartbeat. */
  public async schedule(stateKey: string, leaveContent: object): Promise<void> {
    if (this.#delayId !== undefined) {
      return;
    }
    const { client, roomId, delayMs, log } = this.deps;
    // The listing of stale ones and the new send overlap (one round trip less before the membership goes out);
    // the stale ones are cancelled once both are through, whether or not the send succeeded.
    const [stale, sent] = await Promise.allSettled([
      this.#listStale(stateKey),
      client.sendStateEvent(roomId, this.#eventType, stateKey, leaveContent, { delayMs }),
    ]);
    const delayId = sent.status === "fulfilled" ? sent.value.delayId : undefined;
    await this.#cancel(stale.status === "fulfilled" ? stale.value.filter((id) => id !== delayId) : []);
    if (sent.status === "rejected") {
      throw sent.reason;
    }
    if (delayId === undefined) {
      log.warn("the server scheduled no delayed leave (no delay_id)");
      return;
    }
    this.#delayId = delayId;
    this.#startHeartbeat(delayId);
    log.debug("delayed leave scheduled", { delayId, delayMs });
  }

  /** Stops the heartbeat and cancels the delayed leave on the server (failures are logged). */
  public async cancel(): Promise<void> {
    const delayId = this.#delayId;
    this.forget();
    if (delayId === undefined) {
      return;
    }
    try {
      await this.deps.client.updateDelayedEvent(delayId, "cancel");
    } catch (error) {
      if (!isNotFound(error)) {
        this.deps.log.warn("cancelling the delayed leave failed", { delayId, error });
      }
    }
  }

  /**
   * Has the server publish the delayed leave now (how matrix-js-sdk leaves); false when none is scheduled or the
   * server refused (the caller then sends the leave itself).
   */
  public async sendNow(): Promise<boolean> {
    const delayId = this.#delayId;
    this.forget();
    if (delayId === undefined) {
      return false;
    }
    try {
      await this.deps.client.updateDelayedEvent(delayId, "send");
      return true;
    } catch (error) {
      this.deps.log.warn("sending the delayed leave failed; leaving explicitly", { delayId, error });
      return false;
    }
  }

  /** Stops the heartbeat and drops the delay id without asking the server (it published or dropped it). */
  public forget(): void {
    this.deps.clock.clearTimer(this.#heartbeat);
    this.#heartbeat = undefined;
    this.#delayId = undefined;
  }

  get #eventType(): string {
    return this.deps.eventType ?? GroupEventType.Member;
  }

  #startHeartbeat(delayId: string): void {
    const { clock, client, log, restartMs } = this.deps;
    this.#heartbeat = clock.setInterval(() => {
      if (this.#beating || this.#delayId !== delayId) {
        return;
      }
      this.#beating = true;
      client
        .updateDelayedEvent(delayId, "restart")
        .catch((error: unknown) => {
          if (isNotFound(error)) {
            log.info("delayed leave is gone from the server; heartbeat stopped", { delayId });
            if (this.#delayId === delayId) {
              this.forget();
            }
          } else {
            log.warn("restarting the delayed leave failed; still beating", { delayId, error });
          }
        })
        .finally(() => {
          this.#beating = false;
        });
    }, restartMs);
  }

  /** Our delayed events for this room, type and state key (from a previous run); none when listing fails. */
  async #listStale(stateKey: string): Promise<string[]> {
    const { client, roomId, log } = this.deps;
    try {
      const scheduled = await client.listDelayedEvents();
      return scheduled
        .filter((e) => e.roomId === roomId && e.type === this.#eventType && e.stateKey === stateKey)
        .map((e) => e.delayId);
    } catch (error) {
      log.warn("listing delayed events failed", { error });
      return [];
    }
  }

  async #cancel(stale: readonly string[]): Promise<void> {
    const { client, log } = this.deps;
    for (const delayId of stale) {
      try {
        await client.updateDelayedEvent(delayId, "cancel");
        log.debug("cancelled a stale delayed leave", { delayId });
      } catch (error) {
        if (!isNotFound(error)) {
          log.warn("cancelling a stale delayed leave failed", { delayId, error });
        }
      }
    }
  }
}
