import type { RoomEvent, RoomInfo, StateEvent, SyncBatch } from "../matrix/MatrixClientPort.js";
import { redactContent } from "./ServerRoom.js";
import { cloneContent } from "./wire.js";

interface ViewRoom {
  state: Map<string, StateEvent>;
  timeline: RoomEvent[];
}

function copyEvent<T extends RoomEvent>(event: T): T {
  return { ...event, content: cloneContent(event.content), unsigned: { ...event.unsigned } };
}

/**
 * What one client knows of its rooms: the state and recent timeline it has received through sync (like a real
 * client's store, it lags the server by the sync latency). Answers `getRoom`, `getStateEvents` and
 * `getJoinedRoomIds`, and builds the initial batch of a new subscription.
 */
export class ClientView {
  readonly #rooms = new Map<string, ViewRoom>();

  public constructor(
    private readonly userId: string,
    private readonly timelineLimit: number,
    private readonly isDirect: (roomId: string) => boolean,
  ) {}

  /** Applies a received batch. */
  public apply(batch: SyncBatch): void {
    for (const part of batch.rooms) {
      let room = this.#rooms.get(part.roomId);
      if (!room) {
        room = { state: new Map(), timeline: [] };
        this.#rooms.set(part.roomId, room);
      }
      for (const event of part.state) {
        room.state.set(`${event.type}\u0000${event.stateKey}`, copyEvent(event));
      }
      for (const event of part.timeline) {
        room.timeline.push(copyEvent(event));
        if (event.redacts !== undefined) {
          this.#applyRedaction(room, event.redacts);
        }
      }
      if (room.timeline.length > this.timelineLimit) {
        room.timeline.splice(0, room.timeline.length - this.timelineLimit);
      }
    }
  }

  /** Rooms whose `m.room.member` of ours says `join`. */
  public joinedRoomIds(): string[] {
    return [...this.#rooms.keys()].filter((roomId) => this.#membership(roomId) === "join");
  }

  /** A room we know of, as {@link RoomInfo}. */
  public roomInfo(roomId: string): RoomInfo | undefined {
    const room = this.#rooms.get(roomId);
    if (!room) {
      return undefined;
    }
    const get = (type: string): StateEvent | undefined => room.state.get(`${type}\u0000`);
    const version = get("m.room.create")?.content.room_version;
    const powerLevels = get("m.room.power_levels")?.content;
    const info: RoomInfo = {
      roomId,
      encrypted: get("m.room.encryption") !== undefined,
      isDirect: this.isDirect(roomId),
      roomVersion: typeof version === "string" ? version : "10",
      myMembership: this.#membership(roomId) ?? "leave",
      joinedMembers: [...room.state.values()]
        .filter((event) => event.type === "m.room.member" && event.content.membership === "join")
        .map((event) => event.stateKey),
    };
    if (powerLevels !== undefined) {
      info.powerLevels = cloneContent(powerLevels);
    }
    return info;
  }

  /** Current state events of `type` (copies). */
  public stateEvents(roomId: string, type: string): StateEvent[] {
    const room = this.#rooms.get(roomId);
    return room ? [...room.state.values()].filter((event) => event.type === type).map(copyEvent) : [];
  }

  /**
   * The first batch of a new subscription: for every joined room its full state and recent timeline, marked
   * `initial`; `undefined` when we are in no room. `now` refreshes `unsigned.age`.
   */
  public initialBatch(now: number): SyncBatch | undefined {
    const joined = new Set(this.joinedRoomIds());
    const rooms = [...this.#rooms]
      .filter(([roomId]) => joined.has(roomId))
      .map(([roomId, room]) => {
        const age = <T extends RoomEvent>(event: T): T => ({
          ...copyEvent(event),
          unsigned: { age: Math.max(0, now - event.originServerTs) },
        });
        return {
          roomId,
          initial: true,
          state: [...room.state.values()].map(age),
          timeline: room.timeline.map(age),
        };
      });
    return rooms.length === 0 ? undefined : { rooms, toDevice: [] };
  }

  #applyRedaction(room: ViewRoom, eventId: string): void {
    for (const event of [...room.state.values(), ...room.timeline]) {
      if (event.eventId === eventId) {
        event.content = redactContent(event.type, event.content);
      }
    }
  }

  #membership(roomId: string): string | undefined {
    const membership = this.#rooms.get(roomId)?.state.get(`m.room.member\u0000${this.userId}`)
      ?.content.membership;
    return typeof membership === "string" ? membership : undefined;
  }
}
