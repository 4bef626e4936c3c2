import { CallParticipant } from "../call/CallParticipant.js";
import type { CallSession } from "../call/CallSession.js";
import type { WrappedMediaStream } from "../call/WrappedMediaStream.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { TypedEventEmitter } from "../core/TypedEventEmitter.js";
import { GroupEventType } from "../matrix/eventTypes.js";
import type { RoomEvent, ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import type { ReactionContent, RedactionContent } from "../matrix/schemas/groupExtras.js";
import type { ParsedMembership } from "../matrix/schemas/membership.js";
import type { GroupCallBackendRuntime, ParticipantsChange } from "./backendRuntime.js";
import type { CallBackend } from "./CallBackend.js";
import type { ElementKeyTransport } from "./elementKeyTransport.js";
import { eventArgs, GroupCallState, type GroupCallEvent, type GroupCallEvents } from "./events.js";
import type { MembershipPublisher } from "./MembershipPublisher.js";
import { isEmptyChange, ParticipantTracker, TrackedChange, type MemberChange } from "./ParticipantTracker.js";
import { GroupReactions } from "./GroupReactions.js";
import { membershipDeadline, participantId } from "./RoomMemberships.js";
import { buildRtcNotification } from "./rtcNotification.js";
import {
  createBackendContext,
  createSessionPublisher,
  defaultFeeds,
  toVoipError,
  usesIceServers,
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
  readonly #reactions: GroupReactions;
  #state = GroupCallState.LocalCallFeedUninitialized;
  #participants: CallParticipant[] | undefined;
  #hadMembers = false;
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
    this.#reactions = new GroupReactions({
      ctx,
      log: this.#log,
      roomId: init.roomId,
      groupCallId: init.groupCallId,
      scope: init.scope,
      local: this.#local,
      entered: () => this.#isIn(),
      membershipEventId: () => this.#publisher.eventId,
      member: (id) => this.#tracker.members.get(id),
      toParticipant: (member) => this.#toParticipant(member),
      emit: (event) => {
        this.#emitEvent(event);
      },
    });
    this.#publisher = createSessionPublisher({
      ctx,
      log: this.#log,
      init,
      feeds: () => (this.#runtime.currentFeeds ? this.#runtime.currentFeeds() : defaultFeeds(this.backend)),
      sendReaction: (key, eventId) => this.#reactions.sendOn(key, false, eventId),
      onRefreshError: (error) => {
        this.#log.warn("refreshing our membership failed", { error });
        this.#emitEvent({ kind: "error", error: toVoipError(error, "refreshing our membership failed") });
      },
    });
    this.#runtime = ctx.createRuntime(
      createBackendContext(ctx, this.#log, init, this.#local, {
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
      }),
    );
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
   * Publishes our membership (after the backend's local media, for mesh, and our MSC4140 delayed leave, which is
   * scheduled meanwhile) and enters the call. Sends an MSC4075
   * notification when the call starts in a room that is not a DM.
   * @throws {VoipError} `invalid_state` unless the call is not entered yet, or when it was left while the local
   *   media was acquired; `forbidden` when our power level does not allow it; `send_failed` when the membership
   *   could not be published.
   */
  public async enter(stream?: WrappedMediaStream): Promise<void> {
    if (
      this.#state !== GroupCallState.LocalCallFeedUninitialized &&
      this.#state !== GroupCallState.LocalCallFeedInitialized
    ) {
      throw new VoipError(VoipErrorCode.InvalidState, `Cannot enter call in the ${this.#state} state`);
    }
    this.#ctx.assertCanJoin();
    // While local media is acquired: the TURN credentials the legs will need, and the delayed leave (with the
    // features check). The membership goes out once both media and delayed leave are through (start() queues
    // after prepare()), so the delayed leave is on the server before our membership is visible.
    if (usesIceServers(this.backend)) {
      this.#ctx.prefetchIceServers();
    }
    void this.#publisher.prepare();
    if (this.#runtime.initLocalMedia && this.#state === GroupCallState.LocalCallFeedUninitialized) {
      this.#setState(GroupCallState.InitializingLocalCallFeed);
      try {
        await this.#runtime.initLocalMedia(stream);
      } catch (error) {
        const abandoned = this.#publisher.abandon();
        if (this.#acquiringMedia()) {
          this.#setState(GroupCallState.LocalCallFeedUninitialized);
        }
        await abandoned;
        throw error;
      }
      if (!this.#acquiringMedia()) {
        // left (or disposed) while the media was acquired
        await this.#publisher.abandon();
        throw new VoipError(VoipErrorCode.InvalidState, `Left the call while entering it (${this.#state})`);
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
    this.#reactions.start();
    // The ring notification goes out while the backend connects (a mesh places its legs): not one more round trip
    // before the first invite.
    let notified: Promise<void> | undefined;
    if (shouldNotify && eventId !== undefined && this.#ctx.client.getRoom(this.roomId)?.isDirect === false) {
      const content = buildRtcNotification({ senderTs: this.#ctx.clock.now(), membershipEventId: eventId });
      notified = this.#ctx.client.sendRoomEvent(this.roomId, GroupEventType.RtcNotification, content).then(
        () => undefined,
        (error: unknown) => {
          this.#log.warn("sending the call notification failed", { error });
        },
      );
    }
    await this.#runtime.onEnter?.();
    this.#ctx.onEntered();
    await notified;
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
  public sendReaction(key: string, opts: { ephemeral?: boolean } = {}): Promise<string> {
    return this.#reactions.send(key, opts.ephemeral ?? true);
  }

  /** Removes one of our reactions by redacting it (with the routing fields receivers need). */
  public removeReaction(eventId: string): Promise<void> {
    return this.#reactions.remove(eventId);
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
    this.#reactions.received(event, content);
  }

  /** @internal An inbound reaction removal (validated) for this call. */
  public handleRedaction(event: RoomEvent, content: RedactionContent, redacts: string): void {
    this.#reactions.redacted(event, content, redacts);
  }

  /** @internal A to-device event addressed to this call (VoIP's one dispatch point). */
  public async handleToDevice(event: ToDeviceEvent): Promise<void> {
    if (this.#state === GroupCallState.Ended) {
      return;
    }
    await this.#runtime.onToDevice?.(event);
  }

  /** @internal The membership dialect we publish in (`"element"`), or `undefined` for famedly's. */
  public get membershipDialect(): "element" | undefined {
    return this.#membershipDialect;
  }

  /** @internal A key room event of our room naming this call (VoIP routes `io.element.call.encryption_keys`). */
  public handleRoomEvent(event: RoomEvent): void {
    if (this.#state === GroupCallState.Ended) {
      return;
    }
    this.#runtime.onRoomEvent?.(event);
  }

  /** @internal `fetchOrCreateGroupCall(…, { elementKeyTransport })` on an existing session. */
  public setElementKeyTransport(mode: ElementKeyTransport): void {
    this.#runtime.setElementKeyTransport?.(mode);
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
    // Out of the call our own device is a member like any other; in it, it is the local participant.
    const joined = inCall ? change.joined.filter((m) => participantId(m) !== localId) : change.joined;
    const left = inCall ? change.left.filter((m) => participantId(m) !== localId) : change.left;
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
    this.#reactions.stop();
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

  /** Still acquiring media in `enter()` (not left meanwhile); a method, so the state is read anew after `await`. */
  #acquiringMedia(): boolean {
    return this.#state === GroupCallState.InitializingLocalCallFeed;
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

  #runtimeChange(change: MemberChange): ParticipantsChange {
    return new TrackedChange(change, this.#tracker.members);
  }
}
