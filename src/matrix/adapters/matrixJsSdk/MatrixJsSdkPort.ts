import type { MatrixClient, Room } from "matrix-js-sdk";
import { Direction, EventStatus, MatrixEvent, Method, UpdateDelayedEventAction } from "matrix-js-sdk";
import type { Clock } from "../../../core/Clock.js";
import { MatrixPortError } from "../../../core/errors.js";
import type { Logger } from "../../../core/Logger.js";
import type { RandomSource } from "../../../core/random.js";
import { randomAlphanumeric } from "../../../core/random.js";
import type {
  DelayedEvent,
  MatrixClientPort,
  SendBudget,
  RoomEvent,
  RoomInfo,
  StateEvent,
  SyncBatch,
  TurnServers,
} from "../../MatrixClientPort.js";
import { DeviceCache } from "./DeviceCache.js";
import { isConnectionFailure, isTransportFailure, toMatrixPortError } from "./errors.js";
import { readDelayedEvents } from "./delayedEvents.js";
import { toRoomEvent } from "./events.js";
import { currentStateEvents, encryptedRoomMembers, joinedRoomIds, roomInfo } from "./rooms.js";
import { waitOn, type RetryContext, type RetryPolicy } from "../../../core/retry.js";
import { withRetry } from "./retry.js";
import type { SyncListener } from "./SyncBatcher.js";
import { SyncBatcher } from "./SyncBatcher.js";
import type { ContentMap } from "./toDevice.js";
import { encryptContentMap, plainContentMap, toToDeviceEvent } from "./toDevice.js";

/** The services a {@link MatrixJsSdkPort} runs on; see `createMatrixJsSdkPort` for the defaults. */
export interface MatrixJsSdkPortServices {
  clock: Clock;
  logger: Logger;
  random: RandomSource;
  retry: RetryPolicy;
  decryptionTimeoutMs: number;
  maxRelationPages: number;
}

/** `CryptoEvent.DevicesUpdated`, which the SDK's main entry does not export. */
const DEVICES_UPDATED = "crypto.devicesUpdated";
const MSC4140 = "org.matrix.msc4140";
const MAX_DELAYED_EVENT_PAGES = 100;

/** {@link MatrixClientPort} over a started matrix-js-sdk `MatrixClient` with Rust crypto. */
export class MatrixJsSdkPort implements MatrixClientPort {
  public readonly userId: string;
  public readonly deviceId: string;
  readonly #client: MatrixClient;
  readonly #services: MatrixJsSdkPortServices;
  readonly #retry: RetryContext;
  readonly #devices: DeviceCache;
  readonly #batcher: SyncBatcher;
  readonly #onDevicesUpdated = (userIds: string[]): void => {
    void this.#devices.refresh(userIds);
  };

  public constructor(client: MatrixClient, services: MatrixJsSdkPortServices) {
    const userId = client.getUserId();
    const deviceId = client.getDeviceId();
    if (userId === null || deviceId === null) {
      throw new TypeError("createMatrixJsSdkPort: the client needs a userId and a deviceId");
    }
    this.userId = userId;
    this.deviceId = deviceId;
    this.#client = client;
    this.#services = services;
    this.#retry = {
      wait: waitOn(services.clock),
      random: services.random,
      logger: services.logger,
      policy: services.retry,
    };
    this.#devices = new DeviceCache(client, services.logger);
    this.#batcher = new SyncBatcher({
      client,
      clock: services.clock,
      logger: services.logger,
      decryptionTimeoutMs: services.decryptionTimeoutMs,
      convertToDevice: (event) => toToDeviceEvent(event, this.#devices, services.logger),
      afterBatch: (batch) => {
        this.#afterBatch(batch);
      },
    });
    (client as unknown as LooseEmitter).on(DEVICES_UPDATED, this.#onDevicesUpdated);
    void this.#devices.refresh([userId, ...encryptedRoomMembers(client.getRooms())]);
  }

  public onSync(listener: SyncListener): () => void {
    return this.#batcher.subscribe(listener);
  }

  public getJoinedRoomIds(): string[] {
    return joinedRoomIds(this.#client);
  }

  public getRoom(roomId: string): RoomInfo | undefined {
    return roomInfo(this.#client, roomId);
  }

  public getStateEvents(roomId: string, type: string): StateEvent[] {
    return currentStateEvents(this.#client, roomId, type);
  }

  public async sendRoomEvent(
    roomId: string,
    type: string,
    content: object,
    opts?: {
      /** The send's request allowance, shared with the library's rate-limit retries. */
      budget?: SendBudget;
    },
  ): Promise<{
    /** The id of the sent event. */
    eventId: string;
  }> {
    const txnId = this.#newTxnId();
    const client = this.#client;
    // js-sdk's scheduler retries 5xx and 429 answers of the events it queues (not network failures): for those
    // the port only adds retries of network failures. Its default queue takes m.room.message and relations only,
    // so call events normally get the port's retries of every transport failure.
    const shouldRetry = schedulerQueues(client, roomId, type, content)
      ? isConnectionFailure
      : isTransportFailure;
    const response = await withRetry(
      `send ${type}`,
      { ...this.#retry, budget: opts?.budget },
      async (attempt) => {
        // A retry resends js-sdk's local echo (already encrypted, same txn id): js-sdk refuses a second
        // sendEvent() with a txn id it still tracks.
        const room = client.getRoom(roomId);
        const local = attempt > 1 ? room?.getEventForTxnId(txnId) : undefined;
        if (room !== null && local?.status === EventStatus.NOT_SENT) {
          return client.resendEvent(local, room);
        }
        return sendEventUntyped(client, roomId, type, { ...content }, txnId);
      },
      shouldRetry,
    );
    return { eventId: response.event_id };
  }

  public async sendStateEvent(
    roomId: string,
    type: string,
    stateKey: string,
    content: object,
    opts?: { delayMs?: number },
  ): Promise<{
    /** The id of the sent event (sent now, without `delayMs`). */
    eventId?: string;
    /** The id of the scheduled delayed event (with `delayMs`). */
    delayId?: string;
  }> {
    const client = this.#client as unknown as UntypedStateClient;
    if (opts?.delayMs !== undefined) {
      const delay = opts.delayMs;
      if (!Number.isFinite(delay) || delay < 0) {
        throw new MatrixPortError("M_INVALID_PARAM", 400, `sendStateEvent: invalid delayMs ${delay}`);
      }
      // Scheduling is not idempotent (a repeat would leave an orphan that fires later), so it is never retried.
      const response = await withRetry(`schedule ${type}`, { ...this.#retry, policy: noRetry }, () =>
        client._unstable_sendDelayedStateEvent(
          roomId,
          { delay: Math.round(delay) },
          type,
          { ...content },
          stateKey,
        ),
      );
      return { delayId: response.delay_id };
    }
    const response = await withRetry(`state ${type}`, this.#retry, () =>
      client.sendStateEvent(roomId, type, { ...content }, stateKey),
    );
    return { eventId: response.event_id };
  }

  public async updateDelayedEvent(delayId: string, action: "cancel" | "restart" | "send"): Promise<void> {
    const sdkAction = {
      cancel: UpdateDelayedEventAction.Cancel,
      restart: UpdateDelayedEventAction.Restart,
      send: UpdateDelayedEventAction.Send,
    }[action];
    await withRetry(`${action} delayed event`, this.#retry, async (attempt) => {
      try {
        await this.#client._unstable_updateDelayedEvent(delayId, sdkAction);
      } catch (error) {
        // After a lost response, "not found" means the first attempt already cancelled or sent it.
        if (attempt > 1 && action !== "restart" && isNotFound(error)) {
          return;
        }
        throw error;
      }
    });
  }

  public async listDelayedEvents(): Promise<DelayedEvent[]> {
    const out: DelayedEvent[] = [];
    const seen = new Set<string>();
    let from: string | undefined;
    for (let page = 0; page < MAX_DELAYED_EVENT_PAGES; page++) {
      const token = from;
      const response = await withRetry("list delayed events", this.#retry, () =>
        this.#client._unstable_getDelayedEvents(token),
      );
      out.push(...readDelayedEvents(response, this.#services.logger));
      from = response.next_batch;
      if (from === undefined || seen.has(from)) {
        return out;
      }
      seen.add(from);
    }
    this.#services.logger.warn("listDelayedEvents: too many pages, list truncated", {
      pages: MAX_DELAYED_EVENT_PAGES,
    });
    return out;
  }

  public async redactEvent(
    roomId: string,
    eventId: string,
    content?: object,
  ): Promise<{
    /** The id of the redaction event. */
    eventId: string;
  }> {
    // js-sdk's redactEvent() only carries `reason`; the reference puts routing fields in the redaction content.
    const txnId = this.#newTxnId();
    const path = `/rooms/${encodeURIComponent(roomId)}/redact/${encodeURIComponent(eventId)}/${encodeURIComponent(txnId)}`;
    const response = await withRetry("redact", this.#retry, () =>
      this.#client.http.authedRequest<{ event_id: string }>(Method.Put, path, undefined, {
        ...(content ?? {}),
      }),
    );
    return { eventId: response.event_id };
  }

  public async getRelations(
    roomId: string,
    eventId: string,
    relType: string,
    eventType: string,
  ): Promise<RoomEvent[]> {
    const out: RoomEvent[] = [];
    let from: string | undefined;
    for (let page = 0; page < this.#services.maxRelationPages; page++) {
      const opts =
        from === undefined
          ? { dir: Direction.Backward, limit: 100 }
          : { dir: Direction.Backward, limit: 100, from };
      const result = await withRetry("relations", this.#retry, () =>
        this.#client.relations(roomId, eventId, relType, eventType, opts),
      );
      for (const event of result.events) {
        const converted = toRoomEvent(event);
        if (converted?.type === eventType) {
          out.push(converted);
        }
      }
      from = result.nextBatch ?? undefined;
      if (from === undefined) {
        break;
      }
    }
    return out;
  }

  public async sendToDevice(
    type: string,
    messages: Record<string, Record<string, object>>,
    opts?: {
      /** Olm-encrypt each message for its device. */
      encrypted?: boolean;
      /** The send's request allowance, shared with the library's rate-limit retries. */
      budget?: SendBudget;
    },
  ): Promise<void> {
    const encrypted = opts?.encrypted === true;
    let contentMap: ContentMap;
    try {
      contentMap = encrypted
        ? await encryptContentMap(this.#client, type, messages)
        : plainContentMap(messages);
    } catch (error) {
      throw toMatrixPortError(error, `sendToDevice ${type}: encryption failed`);
    }
    if (contentMap.size === 0) {
      return;
    }
    const txnId = this.#newTxnId();
    await withRetry(`sendToDevice ${type}`, { ...this.#retry, budget: opts?.budget }, () =>
      this.#client.sendToDevice(encrypted ? "m.room.encrypted" : type, contentMap, txnId),
    );
  }

  public canEncryptToDevice(userId: string, deviceId: string): boolean {
    if (this.#devices.has(userId, deviceId)) {
      return true;
    }
    this.#devices.refreshInBackground(userId);
    return false;
  }

  public async getTurnServers(): Promise<TurnServers | undefined> {
    const response = await withRetry("turnServer", this.#retry, () => this.#client.turnServer());
    const raw = response as Partial<Record<"uris" | "username" | "password" | "ttl", unknown>>;
    const uris = Array.isArray(raw.uris)
      ? raw.uris.filter((uri): uri is string => typeof uri === "string")
      : [];
    if (uris.length === 0) {
      return undefined;
    }
    const out: TurnServers = { uris };
    if (typeof raw.username === "string") {
      out.username = raw.username;
    }
    if (typeof raw.password === "string") {
      out.password = raw.password;
    }
    if (typeof raw.ttl === "number") {
      out.ttl = raw.ttl;
    }
    return out;
  }

  public async getServerFeatures(): Promise<{
    /** True when the server supports MSC4140 delayed events. */
    delayedEvents: boolean;
  }> {
    const delayedEvents = await withRetry("versions", this.#retry, () =>
      this.#client.doesServerSupportUnstableFeature(MSC4140),
    );
    return { delayedEvents };
  }

  /** Detaches from the client: no more sync batches, no more device-list refreshes. */
  public dispose(): void {
    this.#batcher.dispose();
    (this.#client as unknown as LooseEmitter).off(DEVICES_UPDATED, this.#onDevicesUpdated);
  }

  #newTxnId(): string {
    return `fc${randomAlphanumeric(this.#services.random, 22)}`;
  }

  #afterBatch(batch: SyncBatch): void {
    const changed = batch.rooms.filter((room) =>
      room.state.some((event) => event.type === "m.room.member" || event.type === "m.room.encryption"),
    );
    if (changed.length === 0) {
      return;
    }
    const rooms = changed
      .map((room) => this.#client.getRoom(room.roomId))
      .filter((room): room is Room => room !== null);
    void this.#devices.refresh(encryptedRoomMembers(rooms));
  }
}

/** The SDK's emitter, for an event name its main entry does not export. */
interface LooseEmitter {
  on(event: string, listener: (userIds: string[]) => void): void;
  off(event: string, listener: (userIds: string[]) => void): void;
}

/** Whether js-sdk's scheduler would queue (and so retry) this room event; true when unsure. */
function schedulerQueues(client: MatrixClient, roomId: string, type: string, content: object): boolean {
  const scheduler = client.getScheduler() as { queueAlgorithm?: unknown } | undefined;
  if (scheduler === undefined) {
    return false;
  }
  const queueAlgorithm = scheduler.queueAlgorithm;
  if (typeof queueAlgorithm !== "function") {
    return true;
  }
  try {
    const event = new MatrixEvent({
      type,
      content: { ...content },
      room_id: roomId,
      sender: client.getUserId() ?? "",
    });
    return queueAlgorithm.call(scheduler, event) !== null;
  } catch {
    return true;
  }
}

const noRetry = { maxAttempts: 1, baseDelayMs: 0, maxDelayMs: 0 };

function isNotFound(error: unknown): boolean {
  return (error as { httpStatus?: unknown }).httpStatus === 404;
}

/** js-sdk's send methods are typed per known event type; the port sends arbitrary types. */
interface UntypedStateClient {
  sendStateEvent(
    roomId: string,
    type: string,
    content: object,
    stateKey: string,
  ): Promise<{ event_id: string }>;
  _unstable_sendDelayedStateEvent(
    roomId: string,
    delayOpts: { delay: number },
    type: string,
    content: object,
    stateKey: string,
  ): Promise<{ delay_id: string }>;
}

function sendEventUntyped(
  client: MatrixClient,
  roomId: string,
  type: string,
  content: object,
  txnId: string,
): Promise<{ event_id: string }> {
  const untyped = client as unknown as {
    sendEvent(roomId: string, type: string, content: object, txnId: string): Promise<{ event_id: string }>;
  };
  return untyped.sendEvent(roomId, type, content, txnId);
}
