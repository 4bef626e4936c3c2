import { MatrixPortError } from "../core/errors.js";
import { classifyFailure, withRetry, type RetryContext } from "../core/retry.js";
import type {
  SendBudget,
  DelayedEvent,
  MatrixClientPort,
  RoomEvent,
  RoomInfo,
  StateEvent,
  SyncBatch,
  TurnServers,
} from "../matrix/MatrixClientPort.js";
import type { DeviceEndpoint } from "./DeviceEndpoint.js";
import type { HomeserverCore, RequestContext } from "./HomeserverCore.js";
import * as api from "./serverApi.js";
import { sendToDevice } from "./toDevice.js";
import { isJsonObject } from "./wire.js";

/** The port's retries, in real milliseconds (the server's own timers): transport failures only (core/retry). */
const PORT_RETRY_DELAYS = { baseDelayMs: 2, maxDelayMs: 16 };

/**
 * A {@link MatrixClientPort} for one (user, device) of a {@link LocalHomeserver}. Like a real client it reads
 * rooms from what it has synced, owns transaction ids and retries transport errors (5xx, network loss) with the
 * same transaction id, so that a retry never duplicates what the server already accepted, through the one retry
 * loop of `core/retry` (bounded by `maxAttempts`, exponential backoff with jitter). A 429 is not retried: it
 * rejects with `retryAfterMs` for the library to honour.
 */
export class LocalClient implements MatrixClientPort {
  public readonly userId: string;
  public readonly deviceId: string;
  readonly #ctx: RequestContext;
  readonly #retry: RetryContext;
  #txnCounter = 0;

  public constructor(
    private readonly core: HomeserverCore,
    private readonly endpoint: DeviceEndpoint,
  ) {
    this.userId = endpoint.userId;
    this.deviceId = endpoint.deviceId;
    this.#ctx = { userId: this.userId, deviceId: this.deviceId };
    this.#retry = {
      wait: (ms) => core.timers.sleep(ms),
      random: core.retryRandom,
      logger: core.logger,
      policy: { maxAttempts: core.maxAttempts, ...PORT_RETRY_DELAYS },
    };
  }

  public onSync(listener: (batch: SyncBatch) => void | Promise<void>): () => void {
    return this.endpoint.sync.subscribe(listener);
  }

  public getJoinedRoomIds(): string[] {
    return this.endpoint.view.joinedRoomIds();
  }

  public getRoom(roomId: string): RoomInfo | undefined {
    return this.endpoint.view.roomInfo(roomId);
  }

  public getStateEvents(roomId: string, type: string): StateEvent[] {
    return this.endpoint.view.stateEvents(roomId, type);
  }

  public sendRoomEvent(
    roomId: string,
    type: string,
    content: object,
    opts?: { budget?: SendBudget },
  ): Promise<{ eventId: string }> {
    return this.#call(() => api.sendRoomEvent(this.core, this.#ctx, roomId, type, content), opts?.budget);
  }

  public sendStateEvent(
    roomId: string,
    type: string,
    stateKey: string,
    content: object,
    opts?: { delayMs?: number },
  ): Promise<{ eventId?: string; delayId?: string }> {
    const delayMs = opts?.delayMs;
    if (delayMs !== undefined) {
      return this.#call(() =>
        api.scheduleDelayedState(this.core, this.#ctx, roomId, type, stateKey, content, delayMs),
      );
    }
    return this.#call(() => api.sendStateEvent(this.core, this.#ctx, roomId, type, stateKey, content));
  }

  public updateDelayedEvent(delayId: string, action: "cancel" | "restart" | "send"): Promise<void> {
    return this.#call(() => {
      api.updateDelayedEvent(this.core, delayId, action);
    });
  }

  public async listDelayedEvents(): Promise<DelayedEvent[]> {
    const all: DelayedEvent[] = [];
    let from: string | undefined;
    do {
      const token = from;
      const page = await this.#call(() => api.listDelayedEvents(this.core, this.#ctx, token));
      all.push(...page.events);
      from = page.nextBatch;
    } while (from !== undefined);
    return all;
  }

  public redactEvent(roomId: string, eventId: string, content: object = {}): Promise<{ eventId: string }> {
    return this.#call(() => api.redactEvent(this.core, this.#ctx, roomId, eventId, content));
  }

  public getRelations(
    roomId: string,
    eventId: string,
    relType: string,
    eventType: string,
  ): Promise<RoomEvent[]> {
    return this.#call(() => api.getRelations(this.core, this.#ctx, roomId, eventId, relType, eventType));
  }

  public async sendToDevice(
    type: string,
    messages: Record<string, Record<string, object>>,
    opts?: { encrypted?: boolean; budget?: SendBudget },
  ): Promise<void> {
    const encrypted = opts?.encrypted === true;
    const payload = encrypted ? this.#olmTargets(messages) : messages;
    await this.#call(() => {
      sendToDevice(this.core, this.#ctx, type, payload, encrypted);
    }, opts?.budget);
  }

  public canEncryptToDevice(userId: string, deviceId: string): boolean {
    if (userId === this.userId && deviceId === this.deviceId) {
      return false;
    }
    return this.core.device(userId, deviceId)?.encryptable === true;
  }

  public getTurnServers(): Promise<TurnServers | undefined> {
    return this.#call(() => api.getTurnServers(this.core, this.#ctx));
  }

  public getServerFeatures(): Promise<{ delayedEvents: boolean }> {
    return this.#call(() => ({ delayedEvents: this.core.delayedEventsEnabled }));
  }

  /**
   * What an Olm-encrypting client sends: one message per device it can encrypt to. `"*"` becomes every such
   * device of that user (not our own); an explicitly addressed device we cannot encrypt to fails the whole send.
   */
  #olmTargets(messages: unknown): unknown {
    if (!isJsonObject(messages)) {
      return messages;
    }
    const out: Record<string, Record<string, object>> = {};
    for (const [userId, byDevice] of Object.entries(messages)) {
      if (!isJsonObject(byDevice)) {
        return messages;
      }
      const targets: Record<string, object> = {};
      const wildcard = byDevice["*"];
      if (isJsonObject(wildcard)) {
        for (const endpoint of this.core.devicesOf(userId)) {
          if (this.canEncryptToDevice(userId, endpoint.deviceId)) {
            targets[endpoint.deviceId] = wildcard;
          }
        }
      }
      for (const [deviceId, content] of Object.entries(byDevice)) {
        if (deviceId === "*") {
          continue;
        }
        if (!this.canEncryptToDevice(userId, deviceId)) {
          throw new MatrixPortError("M_UNKNOWN", 400, `Cannot Olm-encrypt to ${userId} / ${deviceId}`);
        }
        targets[deviceId] = content as object;
      }
      out[userId] = targets;
    }
    return out;
  }

  /**
   * One logical request: a fresh transaction id, transparent idempotent retries of transport errors; each attempt
   * spends one unit of the send's `budget`, and none is retried once it is spent.
   */
  async #call<T>(handler: () => T, budget?: SendBudget): Promise<T> {
    const key = `${this.userId}|${this.deviceId}|fc${++this.#txnCounter}`;
    try {
      return await withRetry(
        "request",
        { ...this.#retry, budget },
        ["transport"],
        (attempt) => {
          budget?.spend(); // one unit per request, retries included
          if (attempt > 1) {
            this.core.stats.retries++;
          }
          return this.core.request(key, handler);
        },
        (error) => (this.core.timers.closed ? "permanent" : classifyFailure(error)),
      );
    } finally {
      this.core.forget(key);
    }
  }
}
