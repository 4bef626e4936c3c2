import type { Clock } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { SyncBatch, SyncRoom } from "../matrix/MatrixClientPort.js";
import type { InboxItem } from "./ClientInbox.js";
import { ClientInbox } from "./ClientInbox.js";
import { ClientView } from "./ClientView.js";
import type { RealTimers } from "./RealTimers.js";
import { SyncDispatcher } from "./SyncDispatcher.js";
import { toRoomEvent, toStateEvent } from "./wire.js";

/** What a {@link DeviceEndpoint} needs from the server. */
export interface EndpointContext {
  clock: Clock;
  timers: RealTimers;
  logger: Logger;
  latencyMs: () => number;
  isDirect: (roomId: string) => boolean;
  initialTimelineLimit: number;
}

/**
 * One device on the server: its sync stream (inbox → received batch → view → listeners), its identity key for
 * simulated Olm, and whether others can Olm-encrypt to it.
 */
export class DeviceEndpoint {
  /** Whether other devices can Olm-encrypt to this one (`LocalHomeserver.setDeviceEncryptable`). */
  public encryptable = true;
  /** The device's (simulated) Curve25519 identity key. */
  public readonly curveKey: string;
  /** The device's knowledge of its rooms. */
  public readonly view: ClientView;
  /** The sync stream's server side. */
  public readonly inbox: ClientInbox;
  /** The sync stream's client side. */
  public readonly sync: SyncDispatcher;

  public constructor(
    public readonly userId: string,
    public readonly deviceId: string,
    curveKey: string,
    private readonly context: EndpointContext,
  ) {
    this.curveKey = curveKey;
    this.view = new ClientView(userId, context.initialTimelineLimit, context.isDirect);
    this.inbox = new ClientInbox(context.timers, context.latencyMs, (items) => {
      this.#receive(items);
    });
    this.sync = new SyncDispatcher(context.timers, context.logger, () =>
      this.view.initialBatch(context.clock.now()),
    );
  }

  /** Whether nothing is in flight to this device and its listeners are done. */
  public get idle(): boolean {
    return this.inbox.idle && this.sync.idle;
  }

  /** Stops deliveries. */
  public close(): void {
    this.inbox.close();
    this.sync.close();
  }

  /** Turns received items into one batch (age computed now), updates the view, hands it to the listeners. */
  #receive(items: InboxItem[]): void {
    const now = this.context.clock.now();
    const rooms = new Map<string, SyncRoom>();
    const batch: SyncBatch = { rooms: [], toDevice: [] };
    for (const item of items) {
      if (item.kind === "toDevice") {
        batch.toDevice.push(structuredClone(item.event));
        continue;
      }
      const event = item.event;
      let room = rooms.get(event.roomId);
      if (!room) {
        room = { roomId: event.roomId, initial: false, timeline: [], state: [] };
        rooms.set(event.roomId, room);
        batch.rooms.push(room);
      }
      if (event.stateKey === undefined) {
        room.timeline.push(toRoomEvent(event, now));
      } else {
        room.state.push(toStateEvent(event, now));
      }
    }
    this.view.apply(batch);
    this.sync.dispatch(batch);
  }
}
