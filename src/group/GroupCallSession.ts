import { CallParticipant } from "../call/CallParticipant.js";
import type { CallSession } from "../call/CallSession.js";
import type { WrappedMediaStream } from "../call/WrappedMediaStream.js";
import type { TimerHandle } from "../core/Clock.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { TypedEventEmitter } from "../core/TypedEventEmitter.js";
import { GroupEventType } from "../matrix/eventTypes.js";
import type { RoomEvent, ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import type { ReactionContent, RedactionContent } from "../matrix/schemas/groupExtras.js";
import type { ParsedMembership } from "../matrix/schemas/membership.js";
import type {
  GroupCallBackendContext,
  GroupCallBackendRuntime,
  ParticipantsChange,
} from "./backendRuntime.js";
import type { CallBackend } from "./CallBackend.js";
import { eventArgs, GroupCallState, type GroupCallEvent, type GroupCallEvents } from "./events.js";
import type { MembershipPublisher } from "./MembershipPublisher.js";
import { isEmptyChange, ParticipantTracker, type MemberChange } from "./ParticipantTracker.js";
import {
  buildReactionContent,
  buildReactionRedactionContent,
  EPHEMERAL_REACTION_TIMEOUT_MS,
  eventAgeMs,
  REACTION_THROTTLE,
} from "./reactions.js";
import { membershipDeadline, participantId } from "./RoomMemberships.js";
import { buildRtcNotification } from "./rtcNotification.js";
import {
  createSessionPublisher,
  defaultFeeds,
  toVoipError,
  type GroupCallContext,
  type GroupCallInit,
} from "./sessionWiring.js";

/** @internal */
export type { GroupCallContext, GroupCallInit } from "./sessionWiring.js";

/**
 * A group call in a room: its members (from room state), our membership in it, reactions, and the backend's
 * behaviour (mesh legs or SFU keys). Get one from `VoIP.fetchOrCreateGroupCall` or the `incomingGroupCall` event.
 *
 * ```ts
 * const group = await voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
 * group.on("participantsJoined", (participants) => ui.add(participants));
 * await group.enter();
 * await group.sendReaction("🖐️");
 * await group.leave();
 * ```
 */
export class GroupCallSession extends TypedEventEmitter<GroupCallEvents> {
  /** The group call's id (`call_id` of the memberships). */
  public readonly groupCallId: string;
  /** The room the call is in. */
  public readonly roomId: string;
  /** The membership `application` we publish (participants are counted whatever theirs is). */
  public readonly application: string;
  /** The membership `scope` (`m.room` or `m.user`). */
  public readonly scope: string;
  /** The backend configuration. */
  public readonly backend: CallBackend;
  readonly #ctx: GroupCallContext;
  readonly #membershipDialect: "element" | undefined;
  readonly #log: Logger;
  readonly #local: CallParticipant;
  readonly #tracker: ParticipantTracker;
  readonly #publisher: MembershipPublisher;
  readonly #runtime: GroupCallBackendRuntime;
  #state = GroupCallState.LocalCallFeedUninitialized;
  #participants: CallParticipant[] | undefined;
  #hadMembers = false;
  #ticker: TimerHandle | undefined;
  #reactionsInFlight = 0;
  #rejoining = false;

  /** @internal Created by `VoIP`. */
  public constructor(ctx: GroupCallContext, init: GroupCallInit) {
    super();
    this.#ctx = ctx;
    this.groupCallId = init.groupCallId;
    this.roomId = init.roomId;
    this.application = init.application;
    this.scope = init.scope;
    this.backend = init.backend;
    this.#membershipDialect = init.membershipDialect;
    this.#log = ctx.logger.child(`group:${init.roomId}:${init.groupCallId}`);
    this.emitterLogger = this.#log;
    this.#local = new CallParticipant(ctx.client.userId, ctx.client.deviceId, true);
    this.#tracker = new ParticipantTracker({
      clock: ctx.clock,
      graceMs: ctx.timeouts.expireTsBumpMs,
      memberships: ctx.memberships,
      callId: init.groupCallId,
      scope: init.scope,
      onExpired: (change) => {
        this.#onMembersChanged(change);
      },
    });
    this.#publisher = this.#createPublisher();
    this.#runtime = ctx.createRuntime(this.#backendContext());
    const initial = this.#tracker.refreshAll();
    this.#hadMembers = this.#tracker.members.size > 0;
    if (!isEmptyChange(initial)) {
      this.#runtime.onParticipantsChanged?.(this.#runtimeChange(initial));
    }
  }

  /** The state; see {@link GroupCallState}. */
  public get state(): GroupCallState {
    return this.#state;
  }

  /** Current, non-expired members; ours included once entered. */
  public get participants(): readonly CallParticipant[] {
    if (this.#participants === undefined) {
      const list = [...this.#tracker.members.values()].map((member) => this.#toParticipant(member));
      if (this.#isIn() && !this.#tracker.members.has(this.#local.id)) {
        list.push(this.#local);
      }
      this.#participants = list;
    }
    return this.#participants;
  }

  /** Mesh legs. LiveKit: always empty (media is the LiveKit SDK's job). */
  public get calls(): readonly CallSession[] {
    return this.#runtime.calls ?? [];
  }

  /** The loudest participant (mesh), if known. LiveKit: always `undefined` (ask the LiveKit SDK). */
  public get activeSpeaker(): CallParticipant | undefined {
    return this.#runtime.activeSpeaker;
  }

  /** @internal The membership event id we last published. */
  public get membershipEventId(): string | undefined {
    return this.#publisher.eventId;
  }

  /**
   * Publishes our membership (after the backend's local media, for mesh) and enters the call. Sends an MSC4075
   * notification when the call starts in a room that is not a DM.
   * @throws {VoipError} `invalid_state` unless the call is not entered yet; `forbidden` when our power level does
   *   not allow it; `send_failed` when the membership could not be published.
   */
  public async enter(stream?: WrappedMediaStream): Promise<void> {
    if (
      this.#state !== GroupCallState.LocalCallFeedUninitialized &&
      this.#state !== GroupCallState.LocalCallFeedInitialized
    ) {
      throw new VoipError(VoipErrorCode.InvalidState, `Cannot enter call in the ${this.#state} state`);
    }
    this.#ctx.assertCanJoin();
    if (this.#runtime.initLocalMedia && this.#state === GroupCallState.LocalCallFeedUninitialized) {
      this.#setState(GroupCallState.InitializingLocalCallFeed);
      try {
        await this.#runtime.initLocalMedia(stream);
      } catch (error) {
        this.#setState(GroupCallState.LocalCallFeedUninitialized);
        throw error;
      }
      this.#setState(GroupCallState.LocalCallFeedInitialized);
    }
    const shouldNotify = !this.#roomHasActiveCall();
    let eventId: string | undefined;
    try {
      eventId = await this.#publisher.start();
    } catch (error) {
      this.#publisher.dispose();
      throw toVoipError(error, "publishing our membership failed");
    }
    this.#setState(GroupCallState.Entered);
    this.#log.info("entered", { eventId });
    this.#participants = undefined;
    if (!this.#tracker.members.has(this.#local.id)) {
      this.#emitEvent({ kind: "participantsJoined", participants: [this.#local] });
    }
    this.#ticker = this.#ctx.clock.setInterval(() => {
      this.#reactionsInFlight = Math.max(0, this.#reactionsInFlight - 1);
    }, 1_000);
    if (shouldNotify && eventId !== undefined && this.#ctx.client.getRoom(this.roomId)?.isDirect === false) {
      const content = buildRtcNotification({ senderTs: this.#ctx.clock.now(), membershipEventId: eventId });
      await this.#ctx.client
        .sendRoomEvent(this.roomId, GroupEventType.RtcNotification, content)
        .catch((error: unknown) => {
          this.#log.warn("sending the call notification failed", { error });
        });
    }
    await this.#runtime.onEnter?.();
    this.#ctx.onEntered();
  }

  /**
   * Leaves: removes our membership entry (other devices' entries stay), cancels the delayed leave, stops the
   * backend and ends the session. On a session that was never entered it only ends the session locally.
   */
  public async leave(): Promise<void> {
    if (this.#state === GroupCallState.Ended || this.#state === GroupCallState.Leaving) {
      return;
    }
    const wasIn = this.#state === GroupCallState.Entered;
    this.#setState(GroupCallState.Leaving);
    if (wasIn) {
      try {
        await this.#runtime.onLeave?.();
      } catch (error) {
        this.#log.warn("backend failed while leaving", { error });
      }
      try {
        await this.#publisher.stop();
      } catch (error) {
        this.#log.warn("removing our membership failed", { error });
        this.#emitEvent({ kind: "error", error: toVoipError(error, "removing our membership failed") });
      }
    }
    await this.#end();
  }

  /** Mutes or unmutes our microphone in the call (mesh). LiveKit: a no-op, mute through the LiveKit SDK. */
  public async setMicrophoneMuted(muted: boolean): Promise<void> {
    await this.#runtime.setMicrophoneMuted?.(muted);
  }

  /** Mutes or unmutes our camera in the call (mesh). LiveKit: a no-op, mute through the LiveKit SDK. */
  public async setLocalVideoMuted(muted: boolean): Promise<void> {
    await this.#runtime.setLocalVideoMuted?.(muted);
  }

  /**
   * Starts or stops screen sharing (mesh); resolves with whether it is on. LiveKit: resolves `false`, share through
   * the LiveKit SDK.
   */
  public async setScreensharingEnabled(enabled: boolean): Promise<boolean> {
    return (await this.#runtime.setScreensharingEnabled?.(enabled)) ?? false;
  }

  /** Asks the participants for their current SFU media keys (LiveKit; no-op otherwise). */
  public async requestEncryptionKey(participants: readonly CallParticipant[]): Promise<void> {
    await this.#runtime.requestEncryptionKey?.(participants);
  }

  /**
   * Sends a reaction (hand raise, emoji) relating to our membership; resolves with its event id. Ephemeral
   * reactions (the default) are not carried over when our membership is re-sent.
   * @throws {VoipError} `invalid_state` when we have no published membership in the call, or when more than ten
   *   ephemeral reactions were sent in the last seconds
   */
  public async sendReaction(key: string, opts: { ephemeral?: boolean } = {}): Promise<string> {
    const ephemeral = opts.ephemeral ?? true;
    if (typeof key !== "string" || key.length === 0) {
      throw new VoipError(VoipErrorCode.InvalidArgument, "a reaction needs a non-empty key");
    }
    if (ephemeral && this.#reactionsInFlight > REACTION_THROTTLE) {
      throw new VoipError(VoipErrorCode.InvalidState, "too many reactions; try again in a few seconds");
    }
    const membershipEventId = this.#publisher.eventId;
    if (membershipEventId === undefined || this.#state !== GroupCallState.Entered) {
      throw new VoipError(VoipErrorCode.InvalidState, "no membership of ours in this call to react from");
    }
    const eventId = await this.#sendReaction(key, ephemeral, membershipEventId);
    this.#reactionsInFlight++;
    return eventId;
  }

  /** Removes one of our reactions by redacting it (with the routing fields receivers need). */
  public async removeReaction(eventId: string): Promise<void> {
    const content = buildReactionRedactionContent({
      deviceId: this.#ctx.client.deviceId,
      callId: this.groupCallId,
      scope: this.scope,
    });
    try {
      await this.#ctx.client.redactEvent(this.roomId, eventId, content);
    } catch (error) {
      throw toVoipError(error, "removing the reaction failed");
    }
  }

  /** @internal Membership state changed for these participants of this call. */
  public membershipsChanged(ids: Iterable<string>): void {
    if (this.#state === GroupCallState.Ended) {
      return;
    }
    this.#onMembersChanged(this.#tracker.update(ids));
  }

  /** @internal An inbound reaction (validated) for this call. */
  public handleReaction(event: RoomEvent, content: ReactionContent): void {
    if (content.is_ephemeral && eventAgeMs(event, this.#ctx.clock.now()) > EPHEMERAL_REACTION_TIMEOUT_MS) {
      this.#log.debug("dropped an old ephemeral reaction", { eventId: event.eventId });
      return;
    }
    const id = `${event.sender}:${content.device_id}`;
    const member = this.#tracker.members.get(id);
    const target = content["m.relates_to"].event_id;
    if (member?.eventId !== target) {
      this.#log.debug("dropped a reaction not on the sender's current membership", {
        eventId: event.eventId,
      });
      return;
    }
    this.#emitEvent({
      kind: "reactionAdded",
      reaction: {
        participant: this.#toParticipant(member),
        key: content.key,
        eventId: event.eventId,
        membershipEventId: target,
        ephemeral: content.is_ephemeral,
      },
    });
  }

  /** @internal An inbound reaction removal (validated) for this call. */
  public handleRedaction(event: RoomEvent, content: RedactionContent, redacts: string): void {
    const isLocal = event.sender === this.#local.userId && content.device_id === this.#local.deviceId;
    this.#emitEvent({
      kind: "reactionRemoved",
      reaction: {
        participant: new CallParticipant(event.sender, content.device_id, isLocal),
        redactedEventId: redacts,
      },
    });
  }

  /** @internal A to-device event addressed to this call (VoIP's one dispatch point). */
  public async handleToDevice(event: ToDeviceEvent): Promise<void> {
    if (this.#state === GroupCallState.Ended) {
      return;
    }
    await this.#runtime.onToDevice?.(event);
  }

  /** @internal `fetchOrCreateGroupCall(…, { preShareKey })`. */
  public async preShareKey(): Promise<void> {
    await this.#runtime.preShareKey?.();
  }

  /** @internal VoIP disposal: leave if entered, else end locally; never throws. */
  public async dispose(): Promise<void> {
    try {
      await this.leave();
    } catch (error) {
      this.#log.warn("leaving on dispose failed", { error });
      this.#publisher.dispose();
    }
  }

  #onMembersChanged(change: MemberChange): void {
    if (isEmptyChange(change) || this.#state === GroupCallState.Ended) {
      return;
    }
    this.#participants = undefined;
    this.#runtime.onParticipantsChanged?.(this.#runtimeChange(change));
    const localId = this.#local.id;
    const inCall = this.#isIn();
    const joined = change.joined.filter((m) => !(inCall && participantId(m) === localId));
    const left = change.left.filter((m) => !(inCall && participantId(m) === localId));
    if (joined.length > 0) {
      this.#emitEvent({
        kind: "participantsJoined",
        participants: joined.map((m) => this.#toParticipant(m)),
      });
    }
    if (left.length > 0) {
      this.#emitEvent({ kind: "participantsLeft", participants: left.map((m) => this.#toParticipant(m)) });
    }
    if (this.#tracker.members.size > 0) {
      this.#hadMembers = true;
    }
    if (
      this.#state === GroupCallState.Entered &&
      change.left.some((m) => participantId(m) === localId) &&
      !this.#tracker.members.has(localId)
    ) {
      void this.#rejoin();
    } else if (
      this.#state === GroupCallState.LocalCallFeedUninitialized &&
      this.#hadMembers &&
      this.#tracker.members.size === 0
    ) {
      this.#log.info("the group call ended: no member left");
      void this.#end();
    }
  }

  /** Our membership disappeared while we are in the call (our delayed leave was published, or overwritten). */
  async #rejoin(): Promise<void> {
    if (this.#rejoining || this.#publisher.publishing) {
      return;
    }
    this.#rejoining = true;
    this.#log.info("our membership disappeared while in the call; publishing it again");
    try {
      await this.#publisher.delayedLeave.cancel();
      await this.#publisher.publish();
    } catch (error) {
      this.#emitEvent({ kind: "error", error: toVoipError(error, "re-publishing our membership failed") });
    } finally {
      this.#rejoining = false;
    }
  }

  async #end(): Promise<void> {
    if (this.#state === GroupCallState.Ended) {
      return;
    }
    this.#ctx.clock.clearTimer(this.#ticker);
    this.#ticker = undefined;
    this.#publisher.dispose();
    this.#tracker.dispose();
    try {
      await this.#runtime.dispose();
    } catch (error) {
      this.#log.warn("backend dispose failed", { error });
    }
    this.#participants = [];
    this.#setState(GroupCallState.Ended);
    this.#ctx.onEnded();
  }

  #setState(state: GroupCallState): void {
    const previous = this.#state;
    if (previous === state) {
      return;
    }
    this.#state = state;
    this.#emitEvent({ kind: "stateChanged", state, previous });
  }

  #emitEvent(event: GroupCallEvent): void {
    const { name, args } = eventArgs(event);
    (this.emit as (name: string, ...args: unknown[]) => void)(name, ...args);
    this.emit("event", event);
  }

  #isIn(): boolean {
    return this.#state === GroupCallState.Entered;
  }

  #toParticipant(member: ParsedMembership): CallParticipant {
    const isLocal = member.userId === this.#local.userId && member.deviceId === this.#local.deviceId;
    return isLocal ? this.#local : new CallParticipant(member.userId, member.deviceId);
  }

  #roomHasActiveCall(): boolean {
    const now = this.#ctx.clock.now();
    const grace = this.#ctx.timeouts.expireTsBumpMs;
    for (const entry of this.#ctx.memberships.allEntries()) {
      if (membershipDeadline(entry, grace) >= now) {
        return true;
      }
    }
    return false;
  }

  async #sendReaction(key: string, ephemeral: boolean, membershipEventId: string): Promise<string> {
    const content = buildReactionContent({
      key,
      ephemeral,
      callId: this.groupCallId,
      deviceId: this.#ctx.client.deviceId,
      membershipEventId,
    });
    try {
      return (await this.#ctx.client.sendRoomEvent(this.roomId, GroupEventType.Reaction, content)).eventId;
    } catch (error) {
      throw toVoipError(error, "sending the reaction failed");
    }
  }

  #runtimeChange(change: MemberChange): ParticipantsChange {
    const tracker = this.#tracker;
    return {
      joined: change.joined,
      left: change.left,
      updated: change.updated,
      get current() {
        return [...tracker.members.values()];
      },
    };
  }

  #createPublisher(): MembershipPublisher {
    return createSessionPublisher({
      ctx: this.#ctx,
      log: this.#log,
      init: {
        groupCallId: this.groupCallId,
        roomId: this.roomId,
        backend: this.backend,
        application: this.application,
        scope: this.scope,
        membershipDialect: this.#membershipDialect,
      },
      feeds: () => (this.#runtime.currentFeeds ? this.#runtime.currentFeeds() : defaultFeeds(this.backend)),
      sendReaction: (key, eventId) => this.#sendReaction(key, false, eventId),
      onRefreshError: (error) => {
        this.#log.warn("refreshing our membership failed", { error });
        this.#emitEvent({ kind: "error", error: toVoipError(error, "refreshing our membership failed") });
      },
    });
  }

  #backendContext(): GroupCallBackendContext {
    const ctx = this.#ctx;
    return {
      client: ctx.client,
      delegate: ctx.delegate,
      clock: ctx.clock,
      random: ctx.random,
      logger: this.#log.child(this.backend.type),
      timeouts: ctx.timeouts,
      sessionId: ctx.sessionId,
      groupCallId: this.groupCallId,
      roomId: this.roomId,
      application: this.application,
      scope: this.scope,
      backend: this.backend,
      localParticipant: this.#local,
      options: ctx.options,
      room: () => ctx.client.getRoom(this.roomId),
      state: () => this.#state,
      memberships: () => [...this.#tracker.members.values()],
      membershipOf: (userId, deviceId) => this.#tracker.members.get(`${userId}:${deviceId}`),
      emit: (event) => {
        this.#emitEvent(event);
      },
      republishMembership: async () => {
        if (this.#state === GroupCallState.Entered) {
          await this.#publisher.publish();
        }
      },
    };
  }
}
