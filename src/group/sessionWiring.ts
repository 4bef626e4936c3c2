import type { Clock } from "../core/Clock.js";
import { MatrixPortError, VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import type { RandomSource } from "../core/random.js";
import { GroupEventType } from "../matrix/eventTypes.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";
import type { CallParticipant } from "../call/CallParticipant.js";
import type { CallTimeouts } from "../call/timeouts.js";
import type {
  GroupCallBackendContext,
  GroupCallBackendFactory,
  GroupCallPlatform,
} from "./backendRuntime.js";
import type { CallBackend } from "./CallBackend.js";
import { MembershipPublisher } from "./MembershipPublisher.js";
import type { OwnStateCache } from "./OwnStateCache.js";
import { permanentReactionKeys } from "./reactions.js";
import type { RoomMemberships } from "./RoomMemberships.js";
import { stateKeyMode } from "./stateKey.js";
import type { ElementKeyTransport } from "./elementKeyTransport.js";

/** @internal What a `GroupCallSession` needs from the VoIP instance that owns it. */
export interface GroupCallContext {
  readonly client: MatrixClientPort;
  readonly delegate: GroupCallPlatform;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly logger: Logger;
  readonly timeouts: Readonly<CallTimeouts>;
  readonly sessionId: string;
  readonly options: GroupCallBackendContext["options"] & {
    readonly useUnprotectedPerDeviceStateKeys: boolean;
  };
  /** The room's memberships (shared with discovery). */
  readonly memberships: RoomMemberships;
  /** What we last wrote under our state keys (shared by the calls of this VoIP). */
  readonly ownState: OwnStateCache;
  /** Whether the server has MSC4140 (asked once, logged once when not). */
  delayedEventsSupported(): Promise<boolean>;
  /** Starts fetching the TURN credentials (VoIP's cache) without waiting: entering a mesh call needs them soon. */
  prefetchIceServers(): void;
  /** Throws a `VoipError` (`forbidden`) when we may not publish a membership in the room. */
  assertCanJoin(): void;
  createRuntime: GroupCallBackendFactory;
  /** The session ended (we left, or no member is left); the registry forgets it and tells the app. */
  onEnded(): void;
  /** We entered the call: the registry tells the app (`handleNewGroupCall`). */
  onEntered(): void;
}

/** @internal How a session is created. */
export interface GroupCallInit {
  groupCallId: string;
  roomId: string;
  backend: CallBackend;
  application: string;
  scope: string;
  /** `"element"`: publish Element's `org.matrix.msc3401.call.member` (LiveKit only) instead of famedly's. */
  membershipDialect?: "element" | undefined;
  /** How our keys go to Element peers (LiveKit; default `"auto"`). */
  elementKeyTransport?: ElementKeyTransport | undefined;
}

/** @internal The publisher of a session's membership, with reactions carried over on every re-publication. */
export function createSessionPublisher(opts: {
  ctx: GroupCallContext;
  log: Logger;
  init: GroupCallInit;
  feeds: () => { purpose: string }[] | undefined;
  sendReaction: (key: string, membershipEventId: string) => Promise<string>;
  onRefreshError: (error: unknown) => void;
}): MembershipPublisher {
  const { ctx, init } = opts;
  const { client, timeouts } = ctx;
  return new MembershipPublisher({
    client,
    clock: ctx.clock,
    log: opts.log,
    roomId: init.roomId,
    groupCallId: init.groupCallId,
    application: init.application,
    scope: init.scope,
    sessionId: ctx.sessionId,
    expireTsBumpMs: timeouts.expireTsBumpMs,
    refreshMs: timeouts.updateExpireTsIntervalMs,
    delayedLeaveMs: timeouts.delayedLeaveMs,
    delayedLeaveRestartMs: timeouts.delayedLeaveRestartMs,
    stateKeyMode: () =>
      stateKeyMode(
        client.getRoom(init.roomId)?.roomVersion ?? "",
        ctx.options.useUnprotectedPerDeviceStateKeys,
      ),
    backendJson: () => init.backend.toJson(),
    v1Only: ctx.options.dialect === "famedly-v1",
    ...(init.membershipDialect === "element"
      ? { elementRoomVersion: () => client.getRoom(init.roomId)?.roomVersion ?? "" }
      : {}),
    feeds: opts.feeds,
    delayedEventsSupported: () => ctx.delayedEventsSupported(),
    ownState: ctx.ownState,
    carryOver: {
      collect: async (previous) =>
        permanentReactionKeys(
          await client.getRelations(init.roomId, previous, "m.reference", GroupEventType.Reaction),
          client.userId,
          client.deviceId,
        ),
      resend: async (keys, newEventId) => {
        for (const key of keys) {
          await opts.sendReaction(key, newEventId);
        }
      },
    },
    onRefreshError: opts.onRefreshError,
  });
}

/**
 * @internal The context a session gives its backend runtime: the VoIP's services, the session's identity and, in
 * `live`, the session's current state, members, event stream and re-publication.
 */
export function createBackendContext(
  ctx: GroupCallContext,
  log: Logger,
  init: GroupCallInit,
  localParticipant: CallParticipant,
  live: Pick<
    GroupCallBackendContext,
    "state" | "memberships" | "membershipOf" | "emit" | "republishMembership"
  >,
): GroupCallBackendContext {
  return {
    client: ctx.client,
    delegate: ctx.delegate,
    clock: ctx.clock,
    random: ctx.random,
    logger: log.child(init.backend.type),
    timeouts: ctx.timeouts,
    sessionId: ctx.sessionId,
    groupCallId: init.groupCallId,
    roomId: init.roomId,
    application: init.application,
    scope: init.scope,
    backend: init.backend,
    localParticipant,
    elementKeyTransport: init.elementKeyTransport ?? "auto",
    options: ctx.options,
    room: () => ctx.client.getRoom(init.roomId),
    ...live,
  };
}

/** @internal Mesh memberships carry `feeds` (none until the backend has local media); LiveKit ones omit it. */
export function defaultFeeds(backend: CallBackend): { purpose: string }[] | undefined {
  return backend.type === "mesh" ? [] : undefined;
}

/** @internal Whether the backend's media goes over our own peer connections (mesh legs) and so needs TURN. */
export function usesIceServers(backend: CallBackend): boolean {
  return backend.type === "mesh";
}

/** @internal A `VoipError` for a failed request: `forbidden` for a 403, else `send_failed`. */
export function toVoipError(error: unknown, message: string): VoipError {
  if (error instanceof VoipError) {
    return error;
  }
  const forbidden = error instanceof MatrixPortError && error.httpStatus === 403;
  return new VoipError(forbidden ? VoipErrorCode.Forbidden : VoipErrorCode.SendFailed, message, {
    cause: error,
  });
}
