import { MatrixPortError } from "../core/errors.js";
import type { RoomEvent, TurnServers } from "../matrix/MatrixClientPort.js";
import type { DelayedEntry, DelayedEventsPage } from "./DelayedEvents.js";
import type { HomeserverCore, RequestContext } from "./HomeserverCore.js";
import { actionLevel, assertCanSend, assertOwnsStateKey, userLevel } from "./powerLevels.js";
import { randomBase64 } from "./prng.js";
import type { ServerRoom } from "./ServerRoom.js";
import { cloneContent, isJsonObject, toRoomEvent } from "./wire.js";

/**
 * The homeserver's request handlers: synchronous, run once per request key by `HomeserverCore.request`. They
 * validate, authorise (power levels, state-key ownership, membership) and accept, or throw a `MatrixPortError`.
 */

function assertEventType(type: unknown): asserts type is string {
  if (typeof type !== "string" || type.length === 0) {
    throw new MatrixPortError("M_BAD_JSON", 400, `Invalid event type ${JSON.stringify(type)}`);
  }
}

function assertContent(content: unknown): asserts content is Record<string, unknown> {
  if (!isJsonObject(content)) {
    throw new MatrixPortError("M_BAD_JSON", 400, "Event content must be a JSON object");
  }
}

function assertStateWrite(
  room: ServerRoom,
  sender: string,
  type: string,
  stateKey: unknown,
): asserts stateKey is string {
  if (typeof stateKey !== "string") {
    throw new MatrixPortError("M_BAD_JSON", 400, "state_key must be a string");
  }
  if (type === "m.room.member") {
    throw new MatrixPortError(
      "M_UNRECOGNIZED",
      400,
      "Membership changes are harness actions: use LocalHomeserver.joinRoom/leaveRoom",
    );
  }
  assertCanSend(room.powerLevels, sender, type, true);
  assertOwnsStateKey(room.powerLevels, room.roomVersion, sender, stateKey);
}

function assertDelayedEventsEnabled(core: HomeserverCore, what: "schedule" | "manage"): void {
  if (core.delayedEventsEnabled) {
    return;
  }
  throw what === "schedule"
    ? new MatrixPortError("M_FORBIDDEN", 403, "Sending delayed events has been disallowed")
    : new MatrixPortError("M_UNRECOGNIZED", 400, "Unrecognized request: delayed events are not supported");
}

/**
 * `PUT /rooms/{roomId}/send/{type}/{txnId}`; in an encrypted room the server sees (and authorises) `m.room.encrypted`.
 * With `cleartext`, the client did not encrypt: the server sees and authorises the event's own type.
 */
export function sendRoomEvent(
  core: HomeserverCore,
  ctx: RequestContext,
  roomId: string,
  type: string,
  content: unknown,
  cleartext = false,
): { eventId: string } {
  assertEventType(type);
  assertContent(content);
  const room = core.joinedRoom(roomId, ctx.userId);
  const encrypted = room.encrypted && !cleartext;
  assertCanSend(room.powerLevels, ctx.userId, encrypted ? "m.room.encrypted" : type, false);
  const event = core.accept(room, {
    type,
    sender: ctx.userId,
    senderDevice: ctx.deviceId,
    content,
    ...(cleartext ? { cleartext: true } : {}),
  });
  return { eventId: event.eventId };
}

/** `PUT /rooms/{roomId}/state/{type}/{stateKey}`. */
export function sendStateEvent(
  core: HomeserverCore,
  ctx: RequestContext,
  roomId: string,
  type: string,
  stateKey: string,
  content: unknown,
): { eventId: string } {
  assertEventType(type);
  assertContent(content);
  const room = core.joinedRoom(roomId, ctx.userId);
  assertStateWrite(room, ctx.userId, type, stateKey);
  const event = core.accept(room, {
    type,
    stateKey,
    sender: ctx.userId,
    senderDevice: ctx.deviceId,
    content,
  });
  return { eventId: event.eventId };
}

/** `PUT /rooms/{roomId}/state/{type}/{stateKey}?org.matrix.msc4140.delay=…`: auth is checked when it fires. */
export function scheduleDelayedState(
  core: HomeserverCore,
  ctx: RequestContext,
  roomId: string,
  type: string,
  stateKey: string,
  content: unknown,
  delayMs: number,
): { delayId: string } {
  assertDelayedEventsEnabled(core, "schedule");
  assertEventType(type);
  assertContent(content);
  if (typeof stateKey !== "string") {
    throw new MatrixPortError("M_BAD_JSON", 400, "state_key must be a string");
  }
  if (!Number.isSafeInteger(delayMs) || delayMs < 0) {
    throw new MatrixPortError("M_INVALID_PARAM", 400, `Invalid delay ${delayMs}`);
  }
  core.joinedRoom(roomId, ctx.userId);
  const delayId = core.delayed.schedule({
    userId: ctx.userId,
    deviceId: ctx.deviceId,
    roomId,
    type,
    stateKey,
    content: cloneContent(content),
    delayMs,
  });
  return { delayId };
}

/** Publishes a delayed state event that fired (or was sent now); auth as for a state event sent now. */
export function publishDelayed(core: HomeserverCore, entry: DelayedEntry): void {
  const room = core.joinedRoom(entry.roomId, entry.userId);
  assertStateWrite(room, entry.userId, entry.type, entry.stateKey);
  core.accept(
    room,
    {
      type: entry.type,
      stateKey: entry.stateKey,
      sender: entry.userId,
      senderDevice: entry.deviceId,
      content: entry.content,
    },
    { delayed: true },
  );
}

/** `POST /delayed_events/{delayId}` with `{action}`. */
export function updateDelayedEvent(core: HomeserverCore, delayId: string, action: string): void {
  assertDelayedEventsEnabled(core, "manage");
  if (action !== "cancel" && action !== "restart" && action !== "send") {
    throw new MatrixPortError("M_INVALID_PARAM", 400, `Unknown action ${JSON.stringify(action)}`);
  }
  core.delayed.update(delayId, action);
}

/** `GET /delayed_events?from=…`: one page of the caller's scheduled events. */
export function listDelayedEvents(
  core: HomeserverCore,
  ctx: RequestContext,
  from: string | undefined,
): DelayedEventsPage {
  assertDelayedEventsEnabled(core, "manage");
  return core.delayed.list(ctx.userId, from, core.delayedEventsPageSize);
}

/** `PUT /rooms/{roomId}/redact/{eventId}/{txnId}`: your own events, or others' with the `redact` level. */
export function redactEvent(
  core: HomeserverCore,
  ctx: RequestContext,
  roomId: string,
  eventId: string,
  content: unknown,
): { eventId: string } {
  assertContent(content);
  const room = core.joinedRoom(roomId, ctx.userId);
  assertCanSend(room.powerLevels, ctx.userId, "m.room.redaction", false);
  const target = room.findEvent(eventId);
  if (
    target &&
    target.sender !== ctx.userId &&
    userLevel(room.powerLevels, ctx.userId) < actionLevel(room.powerLevels, "redact")
  ) {
    throw new MatrixPortError("M_FORBIDDEN", 403, "You don't have permission to redact events of others");
  }
  const event = core.accept(room, {
    type: "m.room.redaction",
    sender: ctx.userId,
    senderDevice: ctx.deviceId,
    content,
    redacts: eventId,
  });
  return { eventId: event.eventId };
}

/** `GET /rooms/{roomId}/relations/{eventId}/{relType}/{eventType}`, every page. */
export function getRelations(
  core: HomeserverCore,
  ctx: RequestContext,
  roomId: string,
  eventId: string,
  relType: string,
  eventType: string,
): RoomEvent[] {
  const room = core.joinedRoom(roomId, ctx.userId);
  const now = core.clock.now();
  return room.relations(eventId, relType, eventType).map((event) => toRoomEvent(event, now));
}

/** `GET /voip/turnServer`: the configured answer, or a fresh Synapse-style credential. */
export function getTurnServers(core: HomeserverCore, ctx: RequestContext): TurnServers | undefined {
  core.stats.turnRequests++;
  const answer = core.turnServers;
  if (answer === null) {
    return undefined;
  }
  if (answer !== "default") {
    return structuredClone(answer);
  }
  const ttl = 86_400;
  const expiry = Math.floor(core.clock.now() / 1000) + ttl;
  return {
    uris: ["turn:127.0.0.1:3478?transport=udp"],
    username: `${expiry}:${ctx.userId}`,
    password: randomBase64(core.ids, 20),
    ttl,
  };
}
