import { CallParticipant } from "../call/CallParticipant.js";
import type { TimerHandle } from "../core/Clock.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import type { Logger } from "../core/Logger.js";
import { GroupEventType } from "../matrix/eventTypes.js";
import type { RoomEvent } from "../matrix/MatrixClientPort.js";
import type { ReactionContent, RedactionContent } from "../matrix/schemas/groupExtras.js";
import type { ParsedMembership } from "../matrix/schemas/membership.js";
import type { GroupCallEvent } from "./events.js";
import {
  buildReactionContent,
  buildReactionRedactionContent,
  EPHEMERAL_REACTION_TIMEOUT_MS,
  eventAgeMs,
  REACTION_THROTTLE,
} from "./reactions.js";
import { toVoipError, type GroupCallContext } from "./sessionWiring.js";

/** @internal What {@link GroupReactions} needs from its group call. */
export interface GroupReactionsHost {
  readonly ctx: Pick<GroupCallContext, "client" | "clock">;
  readonly log: Logger;
  readonly roomId: string;
  readonly groupCallId: string;
  readonly scope: string;
  /** Our participant (the sender of our reactions). */
  readonly local: CallParticipant;
  /** True while we are in the call. */
  entered(): boolean;
  /** Our current membership event id, which our reactions relate to. */
  membershipEventId(): string | undefined;
  /** The current membership of `${userId}:${deviceId}`, if any. */
  member(id: string): ParsedMembership | undefined;
  /** The participant of a membership (ours is the local participant). */
  toParticipant(member: ParsedMembership): CallParticipant;
  /** Emits a group call event. */
  emit(event: GroupCallEvent): void;
}

/**
 * @internal The reactions of one group call (hand raise, emoji; reference §3.5, §8.1), both ways: ours relate to
 * our current membership and are throttled (more than {@link REACTION_THROTTLE} ephemeral ones in flight, decaying
 * by one a second, are refused); inbound ones must relate to the sender's current membership and, when
 * ephemeral, be fresh. Removal is a redaction carrying the routing fields receivers need.
 */
export class GroupReactions {
  readonly #host: GroupReactionsHost;
  #inFlight = 0;
  #ticker: TimerHandle | undefined;

  public constructor(host: GroupReactionsHost) {
    this.#host = host;
  }

  /** We entered the call: the throttle starts decaying. */
  public start(): void {
    this.#ticker = this.#host.ctx.clock.setInterval(() => {
      this.#inFlight = Math.max(0, this.#inFlight - 1);
    }, 1_000);
  }

  /** The call ended: the throttle's timer stops. */
  public stop(): void {
    this.#host.ctx.clock.clearTimer(this.#ticker);
    this.#ticker = undefined;
  }

  /** `GroupCallSession.sendReaction`: resolves with the reaction's event id. */
  public async send(key: string, ephemeral: boolean): Promise<string> {
    if (typeof key !== "string" || key.length === 0) {
      throw new VoipError(VoipErrorCode.InvalidArgument, "a reaction needs a non-empty key");
    }
    if (ephemeral && this.#inFlight > REACTION_THROTTLE) {
      throw new VoipError(VoipErrorCode.InvalidState, "too many reactions; try again in a few seconds");
    }
    const membershipEventId = this.#host.membershipEventId();
    if (membershipEventId === undefined || !this.#host.entered()) {
      throw new VoipError(VoipErrorCode.InvalidState, "no membership of ours in this call to react from");
    }
    const eventId = await this.sendOn(key, ephemeral, membershipEventId);
    this.#inFlight++;
    return eventId;
  }

  /** Sends one reaction relating to `membershipEventId` (also used to carry reactions over to a new membership). */
  public async sendOn(key: string, ephemeral: boolean, membershipEventId: string): Promise<string> {
    const { ctx, roomId, groupCallId } = this.#host;
    const content = buildReactionContent({
      key,
      ephemeral,
      callId: groupCallId,
      deviceId: ctx.client.deviceId,
      membershipEventId,
    });
    try {
      return (await ctx.client.sendRoomEvent(roomId, GroupEventType.Reaction, content)).eventId;
    } catch (error) {
      throw toVoipError(error, "sending the reaction failed");
    }
  }

  /** `GroupCallSession.removeReaction`: redacts one of our reactions. */
  public async remove(eventId: string): Promise<void> {
    const { ctx, roomId, groupCallId, scope } = this.#host;
    const content = buildReactionRedactionContent({
      deviceId: ctx.client.deviceId,
      callId: groupCallId,
      scope,
    });
    try {
      await ctx.client.redactEvent(roomId, eventId, content);
    } catch (error) {
      throw toVoipError(error, "removing the reaction failed");
    }
  }

  /** An inbound reaction (validated): surfaced as `reactionAdded` when it fits the sender's current membership. */
  public received(event: RoomEvent, content: ReactionContent): void {
    const host = this.#host;
    if (content.is_ephemeral && eventAgeMs(event, host.ctx.clock.now()) > EPHEMERAL_REACTION_TIMEOUT_MS) {
      host.log.debug("dropped an old ephemeral reaction", { eventId: event.eventId });
      return;
    }
    const member = host.member(`${event.sender}:${content.device_id}`);
    const target = content["m.relates_to"].event_id;
    if (member?.eventId !== target) {
      host.log.debug("dropped a reaction not on the sender's current membership", { eventId: event.eventId });
      return;
    }
    host.emit({
      kind: "reactionAdded",
      reaction: {
        participant: host.toParticipant(member),
        key: content.key,
        eventId: event.eventId,
        membershipEventId: target,
        ephemeral: content.is_ephemeral,
      },
    });
  }

  /** An inbound reaction removal (validated), surfaced as `reactionRemoved`. */
  public redacted(event: RoomEvent, content: RedactionContent, redacts: string): void {
    const { local } = this.#host;
    const isLocal = event.sender === local.userId && content.device_id === local.deviceId;
    this.#host.emit({
      kind: "reactionRemoved",
      reaction: {
        participant: new CallParticipant(event.sender, content.device_id, isLocal),
        redactedEventId: redacts,
      },
    });
  }
}
