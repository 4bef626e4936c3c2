import { callDelegate } from "../webrtc/callDelegate.js";
import type { Clock } from "../core/Clock.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import type { RandomSource } from "../core/random.js";
import type { GroupCallBackendFactory } from "../group/backendRuntime.js";
import { callBackendFromMembership, type CallBackend } from "../group/CallBackend.js";
import { GroupCallState } from "../group/events.js";
import { GroupCallSession, type GroupCallContext } from "../group/GroupCallSession.js";
import type { ElementKeyTransport } from "../group/elementKeyTransport.js";
import type { GroupCallInit } from "../group/sessionWiring.js";
import { OwnStateCache } from "../group/OwnStateCache.js";
import {
  callKey,
  isMembershipRelevant,
  membershipDeadline,
  participantId,
  RoomMemberships,
  type MembershipDelta,
} from "../group/RoomMemberships.js";
import { GroupEventType, KeyEventType } from "../matrix/eventTypes.js";
import type { MatrixClientPort, RoomEvent, SyncRoom, ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import { parseContent } from "../matrix/parse.js";
import type { ParsedMembership } from "../matrix/schemas/membership.js";
import type { WebRTCDelegate } from "./WebRTCDelegate.js";
import {
  canChangePowerLevels,
  canPublishMembership,
  elementJoinNeeds,
  FAMEDLY_JOIN,
  groupCallsEnabledForEveryone,
  missingJoinLevel,
  statePowerLevel,
  userPowerLevel,
  withGroupCallsEnabled,
  type JoinNeeds,
} from "./groupPowerLevels.js";
import type { CallTimeouts } from "../call/timeouts.js";

/** @internal What the registry needs from `VoIP`. */
export interface GroupCallRegistryDeps {
  client: MatrixClientPort;
  delegate: WebRTCDelegate;
  clock: Clock;
  random: RandomSource;
  logger: Logger;
  timeouts: Readonly<CallTimeouts>;
  sessionId: string;
  options: GroupCallContext["options"];
  createRuntime: GroupCallBackendFactory;
  /** Starts fetching the TURN credentials without waiting (VoIP's one TURN cache). */
  prefetchIceServers(): void;
  emitIncoming(group: GroupCallSession): void;
  emitEnded(group: GroupCallSession): void;
}

/** Options of `fetchOrCreateGroupCall`. */
/** What decides the power levels a join needs. */
interface JoinOptions {
  membershipDialect?: "element" | undefined;
  elementKeyTransport?: ElementKeyTransport | undefined;
}

interface FetchOptions {
  application: string;
  scope: string;
  preShareKey: boolean;
  membershipDialect?: "element" | undefined;
  elementKeyTransport?: ElementKeyTransport | undefined;
}

/**
 * @internal Group calls of one `VoIP`: the membership index of every room (updated per state event), discovery
 * (PROTOCOL G1), the routing of reactions, redactions and to-device events to their call, power levels.
 */
export class GroupCallRegistry {
  readonly #deps: GroupCallRegistryDeps;
  readonly #log: Logger;
  readonly #rooms = new Map<string, RoomMemberships>();
  readonly #sessions = new Map<string, GroupCallSession>();
  readonly #ownState = new OwnStateCache();
  #features: Promise<boolean> | undefined;

  public constructor(deps: GroupCallRegistryDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child("groups");
  }

  /** Known group calls, keyed `${roomId}:${groupCallId}`. */
  public get sessions(): ReadonlyMap<string, GroupCallSession> {
    return this.#sessions;
  }

  /** Applies the membership-relevant state of one room of a sync batch (initial batches included). */
  public handleRoomState(room: SyncRoom): void {
    // Oldest first (stable): members are listed in the order they published (reference §10.1 item 8).
    const relevant = room.state
      .filter((event) => isMembershipRelevant(event.type))
      .sort((a, b) => a.originServerTs - b.originServerTs);
    if (relevant.length === 0) {
      return;
    }
    const { index, seeded } = this.#room(room.roomId);
    const deltas = seeded;
    for (const event of relevant) {
      try {
        const delta = index.apply(event);
        if (delta !== undefined) {
          deltas.push(delta);
        }
      } catch (error) {
        this.#log.warn("applying a membership state event failed", { eventId: event.eventId, error });
      }
    }
    this.#dispatch(room.roomId, deltas);
  }

  /**
   * Routes reactions, reaction redactions and Element key room events (by `call_id`, validated by the call's
   * backend) of a (non-initial) timeline to their call.
   */
  public handleTimeline(room: SyncRoom): void {
    for (const event of room.timeline) {
      if (event.type === KeyEventType.KeysElement) {
        this.#onRoomKeys(event);
      } else if (event.type === GroupEventType.Reaction) {
        this.#onReaction(event);
      } else if (event.type === GroupEventType.Redaction && event.content.redacts_type !== undefined) {
        this.#onRedaction(event);
      }
    }
  }

  /**
   * The one dispatch point of to-device events for group calls: an event naming a known call by `room_id` and
   * `conf_id` (famedly) or `session.call_id` (element) goes to that call's backend; others are dropped (debug).
   */
  public async handleToDevice(events: readonly ToDeviceEvent[]): Promise<void> {
    for (const event of events) {
      const target = toDeviceTarget(event.content);
      const session = target && this.#sessions.get(`${target.roomId}:${target.callId}`);
      if (!session) {
        this.#log.debug("dropped a to-device event for no known group call", { type: event.type });
        continue;
      }
      try {
        await session.handleToDevice(event);
      } catch (error) {
        this.#log.error("handling a to-device event failed", { type: event.type, error });
      }
    }
  }

  /** `VoIP.fetchOrCreateGroupCall`. */
  public async fetchOrCreate(
    groupCallId: string,
    roomId: string,
    backend: CallBackend,
    opts: FetchOptions,
  ): Promise<GroupCallSession> {
    const { client } = this.#deps;
    const room = client.getRoom(roomId);
    if (room?.myMembership !== "join") {
      throw new VoipError(VoipErrorCode.InvalidArgument, `not joined to room ${roomId}`);
    }
    if (
      !groupCallsEnabledForEveryone(room.powerLevels) &&
      canChangePowerLevels(room.powerLevels, client.userId)
    ) {
      await this.enableGroupCalls(roomId).catch((error: unknown) => {
        this.#log.warn("enabling group calls for everyone failed", { roomId, error });
      });
    }
    let session = this.#sessions.get(`${roomId}:${groupCallId}`);
    // A discovered Element call is joined in Element's shape whatever the options say: check what that needs.
    this.#assertCanJoin(
      roomId,
      session === undefined ? opts : { ...opts, membershipDialect: session.membershipDialect },
    );
    // Whether the server has delayed events is asked now, so that entering need not wait for the answer.
    void this.#delayedEventsSupported();
    if (session === undefined) {
      const { index, seeded } = this.#room(roomId);
      session = this.#create(index, { groupCallId, roomId, backend, ...opts });
      this.#dispatch(roomId, seeded);
    } else if (opts.elementKeyTransport !== undefined) {
      session.setElementKeyTransport(opts.elementKeyTransport);
    }
    if (opts.preShareKey) {
      await session.preShareKey();
    }
    return session;
  }

  /** Whether we may publish a membership in `roomId` (in the given membership dialect). */
  public canJoin(roomId: string, opts: JoinOptions = {}): boolean {
    const room = this.#deps.client.getRoom(roomId);
    return (
      room?.myMembership === "join" &&
      canPublishMembership(room.powerLevels, this.#deps.client.userId, this.#joinNeeds(roomId, opts))
    );
  }

  /** What joining needs: Element calls publish Element's membership and, when keys go by room event, send those. */
  #joinNeeds(roomId: string, opts: JoinOptions): JoinNeeds {
    if (opts.membershipDialect !== "element") {
      return FAMEDLY_JOIN;
    }
    const encrypted = this.#deps.client.getRoom(roomId)?.encrypted ?? true;
    const roomKeys =
      opts.elementKeyTransport !== "to-device" && (encrypted || this.#deps.options.allowPlaintextKeys);
    return elementJoinNeeds(roomKeys, encrypted);
  }

  /** Lets every member publish call memberships (`events["com.famedly.call.member"] = users_default`). */
  public async enableGroupCalls(roomId: string): Promise<void> {
    const { client } = this.#deps;
    const room = client.getRoom(roomId);
    if (room?.myMembership !== "join") {
      throw new VoipError(VoipErrorCode.InvalidArgument, `not joined to room ${roomId}`);
    }
    const levels = room.powerLevels;
    if (levels === undefined || groupCallsEnabledForEveryone(levels)) {
      return;
    }
    if (!canChangePowerLevels(levels, client.userId)) {
      throw new VoipError(
        VoipErrorCode.Forbidden,
        `may not change power levels in ${roomId}: level ${userPowerLevel(levels, client.userId)} < ${statePowerLevel(levels, "m.room.power_levels")}`,
      );
    }
    try {
      await client.sendStateEvent(roomId, "m.room.power_levels", "", withGroupCallsEnabled(levels));
    } catch (error) {
      throw new VoipError(VoipErrorCode.SendFailed, "changing the power levels failed", { cause: error });
    }
  }

  /** Leaves every entered group call and ends the others. */
  public async dispose(): Promise<void> {
    // One after another: calls of one room share our state key, and concurrent leaves would overwrite each other.
    for (const session of [...this.#sessions.values()]) {
      await session.dispose();
    }
    this.#sessions.clear();
  }

  #assertCanJoin(roomId: string, opts: JoinOptions): void {
    const room = this.#deps.client.getRoom(roomId);
    if (room?.myMembership !== "join") {
      throw new VoipError(VoipErrorCode.Forbidden, `may not join group calls in ${roomId}: not joined`);
    }
    const missing = missingJoinLevel(
      room.powerLevels,
      this.#deps.client.userId,
      this.#joinNeeds(roomId, opts),
    );
    if (missing !== undefined) {
      throw new VoipError(
        VoipErrorCode.Forbidden,
        `may not join group calls in ${roomId}: power level ${missing.own} < ${missing.needed} needed for ${missing.type}`,
      );
    }
  }

  /** The room's index; created on first use from the client's current state (whose deltas are returned). */
  #room(roomId: string): { index: RoomMemberships; seeded: MembershipDelta[] } {
    const existing = this.#rooms.get(roomId);
    if (existing !== undefined) {
      return { index: existing, seeded: [] };
    }
    const index = new RoomMemberships(roomId, this.#log);
    this.#rooms.set(roomId, index);
    const { client } = this.#deps;
    const seeded: MembershipDelta[] = [];
    for (const type of ["m.room.member", GroupEventType.Member, GroupEventType.ElementMember]) {
      const events = client.getStateEvents(roomId, type).sort((a, b) => a.originServerTs - b.originServerTs);
      for (const event of events) {
        const delta = index.apply(event);
        if (delta !== undefined) {
          seeded.push(delta);
        }
      }
    }
    return { index, seeded };
  }

  /** Tells each affected call which participants changed, then discovers new calls. */
  #dispatch(roomId: string, deltas: readonly MembershipDelta[]): void {
    if (deltas.length === 0) {
      return;
    }
    const byCall = new Map<string, AffectedCall>();
    for (const delta of deltas) {
      for (const entry of delta.removed) {
        affectedCall(byCall, entry).ids.push(participantId(entry));
      }
      for (const entry of delta.added) {
        const affected = affectedCall(byCall, entry);
        affected.ids.push(participantId(entry));
        affected.added.push(entry);
      }
    }
    const now = this.#deps.clock.now();
    for (const { callId, scope, ids, added } of byCall.values()) {
      const session = this.#sessions.get(`${roomId}:${callId}`);
      if (session !== undefined) {
        if (session.scope === scope) {
          session.membershipsChanged(ids);
        }
        continue;
      }
      const live = added.find(
        (entry) => membershipDeadline(entry, this.#deps.timeouts.expireTsBumpMs) >= now,
      );
      if (live !== undefined) {
        this.#discover(roomId, live);
      }
    }
  }

  #discover(roomId: string, membership: ParsedMembership): void {
    const index = this.#rooms.get(roomId);
    if (index === undefined) {
      return;
    }
    const backend = callBackendFromMembership(membership.backend);
    const session = this.#create(index, {
      groupCallId: membership.callId,
      roomId,
      backend,
      application: membership.application,
      scope: membership.scope,
      // A call found through an Element membership is an Element call: entering it writes Element's shape.
      ...(membership.dialect === "element" && backend.type === "livekit"
        ? { membershipDialect: "element" as const }
        : {}),
    });
    this.#log.info("discovered a group call", { roomId, groupCallId: membership.callId });
    this.#deps.emitIncoming(session);
    void callDelegate(this.#log, () => this.#deps.delegate.handleNewGroupCall?.(session));
  }

  #create(memberships: RoomMemberships, init: GroupCallInit): GroupCallSession {
    const deps = this.#deps;
    const ctx: GroupCallContext = {
      client: deps.client,
      delegate: deps.delegate,
      clock: deps.clock,
      random: deps.random,
      logger: deps.logger,
      timeouts: deps.timeouts,
      sessionId: deps.sessionId,
      options: deps.options,
      memberships,
      ownState: this.#ownState,
      delayedEventsSupported: () => this.#delayedEventsSupported(),
      prefetchIceServers: () => {
        deps.prefetchIceServers();
      },
      assertCanJoin: () => {
        this.#assertCanJoin(init.roomId, init);
      },
      createRuntime: deps.createRuntime,
      // Both only ever called after the constructor below returned.
      onEnded: () => {
        this.#onEnded(session);
      },
      onEntered: () => {
        void callDelegate(this.#log, () => deps.delegate.handleNewGroupCall?.(session));
      },
    };
    const session: GroupCallSession = new GroupCallSession(ctx, init);
    this.#sessions.set(`${init.roomId}:${init.groupCallId}`, session);
    return session;
  }

  #onEnded(session: GroupCallSession): void {
    const key = `${session.roomId}:${session.groupCallId}`;
    if (this.#sessions.get(key) === session) {
      this.#sessions.delete(key);
    }
    this.#deps.emitEnded(session);
    void callDelegate(this.#log, () => this.#deps.delegate.handleGroupCallEnded?.(session));
  }

  #delayedEventsSupported(): Promise<boolean> {
    this.#features ??= this.#deps.client.getServerFeatures().then(
      (features) => {
        if (!features.delayedEvents) {
          this.#log.info("the server has no MSC4140 delayed events: leaving a group call is explicit only");
        }
        return features.delayedEvents;
      },
      (error: unknown) => {
        this.#log.info("server features unknown; leaving a group call is explicit only", { error });
        return false;
      },
    );
    return this.#features;
  }

  #onRoomKeys(event: RoomEvent): void {
    const callId = event.content.call_id;
    const session = typeof callId === "string" ? this.#sessions.get(`${event.roomId}:${callId}`) : undefined;
    if (session === undefined) {
      this.#log.debug("dropped a key room event for no known group call", { eventId: event.eventId });
      return;
    }
    session.handleRoomEvent(event);
  }

  #onReaction(event: RoomEvent): void {
    const parsed = parseContent(event.type, event.content, this.#log);
    if (!parsed.ok || parsed.kind !== "reaction") {
      return;
    }
    const session = this.#sessions.get(`${event.roomId}:${parsed.content.call_id}`);
    if (session === undefined) {
      this.#log.debug("dropped a reaction for no known group call", { eventId: event.eventId });
      return;
    }
    session.handleReaction(event, parsed.content);
  }

  #onRedaction(event: RoomEvent): void {
    const parsed = parseContent(event.type, event.content, this.#log);
    if (!parsed.ok || parsed.kind !== "redaction") {
      return;
    }
    const content = parsed.content;
    const redacts = content.redacts ?? event.redacts;
    if (content.redacts_type !== GroupEventType.Reaction || redacts === undefined || redacts.length === 0) {
      this.#log.debug("dropped a redaction without a reaction to remove", { eventId: event.eventId });
      return;
    }
    const session = this.#sessions.get(`${event.roomId}:${content.call_id}`);
    if (
      session?.state !== GroupCallState.Entered ||
      (content.scope !== undefined && content.scope !== session.scope)
    ) {
      this.#log.debug("dropped a reaction redaction for no entered group call", { eventId: event.eventId });
      return;
    }
    session.handleRedaction(event, content, redacts);
  }
}

/** The participants of one call that a batch of deltas touched, and its new entries (for discovery). */
interface AffectedCall {
  callId: string;
  scope: string;
  /** Participant ids (a replaced entry's participant twice: re-reading one is idempotent). */
  ids: string[];
  added: ParsedMembership[];
}

function affectedCall(byCall: Map<string, AffectedCall>, entry: ParsedMembership): AffectedCall {
  const key = callKey(entry.callId, entry.scope);
  let affected = byCall.get(key);
  if (affected === undefined) {
    affected = { callId: entry.callId, scope: entry.scope, ids: [], added: [] };
    byCall.set(key, affected);
  }
  return affected;
}

/** The call a to-device event names: famedly `room_id` + `conf_id`; element `room_id` + `session.call_id`. */
function toDeviceTarget(content: Record<string, unknown>): { roomId: string; callId: string } | undefined {
  const roomId = content.room_id;
  if (typeof roomId !== "string") {
    return undefined;
  }
  if (typeof content.conf_id === "string") {
    return { roomId, callId: content.conf_id };
  }
  const session = content.session;
  if (
    typeof session === "object" &&
    session !== null &&
    typeof (session as { call_id?: unknown }).call_id === "string"
  ) {
    return { roomId, callId: (session as { call_id: string }).call_id };
  }
  return undefined;
}
