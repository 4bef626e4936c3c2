// A member process's MatrixClientPort: the parent's LocalClient for this (user, device), reached over IPC. Reads
// (rooms, state) come from what this process has synced, kept in a ClientView as a real client keeps its store;
// requests go to the parent and back. Send budgets stay in this process (the parent's port retries on its own).
import { MatrixPortError } from "../src/core/errors.js";
import type { MatrixClientPort, RoomInfo, StateEvent, SyncBatch } from "../src/index.js";
import { ClientView } from "../src/testing/ClientView.js";
import type { FromMember, PortErrorData, PortMethod } from "./memberWire.js";

type Listener = (batch: SyncBatch) => void | Promise<void>;

/** The port of one member process; `receive` takes the parent's "sync" and "reply" messages. */
export class MemberPort {
  readonly #view: ClientView;
  readonly #listeners = new Set<Listener>();
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  readonly #encryptable: Set<string>;
  #nextId = 1;
  #subscribed = false;
  #chain: Promise<void> = Promise.resolve();
  #synced: () => void = () => undefined;
  /** Resolves once the first batch (the initial sync) has been applied. */
  public readonly synced: Promise<void>;
  /** The port handed to VoIP. */
  public readonly port: MatrixClientPort;

  public constructor(
    userId: string,
    deviceId: string,
    encryptable: readonly string[],
    private readonly send: (message: FromMember) => void,
  ) {
    this.#view = new ClientView(userId, 50, () => false);
    this.#encryptable = new Set(encryptable);
    this.synced = new Promise((resolve) => {
      this.#synced = resolve;
    });
    const call =
      (method: PortMethod, optionsAt?: number) =>
      (...args: unknown[]): Promise<never> =>
        this.#call(
          method,
          args.map((arg, i) => (i === optionsAt ? withoutBudget(arg) : arg)),
        ) as Promise<never>;
    this.port = {
      userId,
      deviceId,
      onSync: (listener) => {
        this.#listeners.add(listener);
        return () => {
          this.#listeners.delete(listener);
        };
      },
      getJoinedRoomIds: () => this.#view.joinedRoomIds(),
      getRoom: (roomId): RoomInfo | undefined => this.#view.roomInfo(roomId),
      getStateEvents: (roomId, type): StateEvent[] => this.#view.stateEvents(roomId, type),
      canEncryptToDevice: (user, device) => this.#encryptable.has(`${user}|${device}`),
      sendRoomEvent: call("sendRoomEvent", 3),
      sendStateEvent: call("sendStateEvent"),
      updateDelayedEvent: call("updateDelayedEvent"),
      listDelayedEvents: call("listDelayedEvents"),
      redactEvent: call("redactEvent"),
      getRelations: call("getRelations"),
      sendToDevice: call("sendToDevice", 2),
      getTurnServers: call("getTurnServers"),
      getServerFeatures: call("getServerFeatures"),
    };
  }

  /** Starts the sync stream from the parent. */
  public subscribe(): void {
    if (!this.#subscribed) {
      this.#subscribed = true;
      this.send({ kind: "subscribe" });
    }
  }

  /** A batch from the parent: applied to the view, then handed to the listeners (in order, one at a time). */
  public deliver(batch: SyncBatch): void {
    this.#chain = this.#chain
      .then(async () => {
        this.#view.apply(batch);
        this.#synced();
        for (const listener of [...this.#listeners]) {
          await listener(batch);
        }
      })
      .catch((error: unknown) => {
        // As LocalHomeserver's dispatcher does: a failing listener is reported, the next batch still comes.
        process.stderr.write(`member port: sync listener failed: ${String(error)}\n`);
      });
  }

  /** The parent's answer to a call. */
  public reply(id: number, value: unknown, error: PortErrorData | undefined): void {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    if (!pending) {
      return;
    }
    if (error) {
      pending.reject(
        error.errcode === undefined
          ? new Error(error.message)
          : new MatrixPortError(error.errcode, error.httpStatus ?? 0, error.message, error.retryAfterMs),
      );
    } else {
      pending.resolve(value);
    }
  }

  #call(method: PortMethod, args: unknown[]): Promise<unknown> {
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.send({ kind: "call", id, method, args });
    });
  }
}

/** Send options lose their budget (an object of this process) on the way; the rest is plain data. */
function withoutBudget(arg: unknown): unknown {
  if (typeof arg === "object" && arg !== null && "budget" in arg) {
    return Object.fromEntries(Object.entries(arg).filter(([key]) => key !== "budget"));
  }
  return arg;
}
