import { callDelegate } from "../webrtc/callDelegate.js";
import type { CallSession, CallSessionInit } from "../call/CallSession.js";
import { resolveGlare } from "../call/glare.js";
import { callTypeOfInvite } from "../call/sdp.js";
import { buildHangupContent, readStreamMetadata } from "../call/signalling.js";
import { CallDirection, CallErrorCode, CallState } from "../call/types.js";
import type { Clock } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { RandomSource } from "../core/random.js";
import type { RetryContext } from "../core/retry.js";
import { CallEventType, normalizeCallEventType } from "../matrix/eventTypes.js";
import type { MatrixClientPort, RoomEvent } from "../matrix/MatrixClientPort.js";
import type { AnyParsedSignalling } from "../matrix/parse.js";
import type { CallInviteContent } from "../matrix/schemas/signalling.js";
import type { WebRTCDelegate } from "./WebRTCDelegate.js";
import { dispatchSignalling } from "../call/dispatchSignalling.js";
import { sendRoomEvent } from "./roomSend.js";
import { checkSender, type CallBinding } from "./senderCheck.js";
import type { CallTimeouts } from "../call/timeouts.js";

/** What the router needs from `VoIP`. */
export interface RoomCallRouterDeps {
  client: MatrixClientPort;
  /** The library's retry layer (429 only). */
  retry: RetryContext;
  delegate: WebRTCDelegate;
  clock: Clock;
  random: RandomSource;
  timeouts: Readonly<CallTimeouts>;
  logger: Logger;
  sessionId: string;
  calls: ReadonlyMap<string, CallSession>;
  outgoingByRoom: ReadonlyMap<string, CallSession>;
  createCall: (init: CallSessionInit, roomId: string) => CallSession;
  emitIncoming: (call: CallSession) => void;
  emitMissed: (call: CallSession) => void;
}

/** How many ended call ids are remembered, so that a replayed invite never rings again. */
const ENDED_MEMORY = 256;

/**
 * Routes validated 1:1 room events (`m.call.*`) to their calls, after the checks of reference §5.1: our own
 * echoes (recognised by our party id, PROTOCOL D10), unknown call ids, wrong sender, wrong `party_id` once bound.
 * New invites go through the busy check (PROTOCOL D2) and glare (D6).
 */
export class RoomCallRouter {
  readonly #deps: RoomCallRouterDeps;
  readonly #log: Logger;
  readonly #ended: string[] = [];
  readonly #endedSet = new Set<string>();

  public constructor(deps: RoomCallRouterDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child("router");
  }

  /** True for the room event types this router handles (aliases included). */
  public isCallEvent(type: string): boolean {
    return normalizeCallEventType(type) !== undefined;
  }

  /** Remembers that a call ended, so a late or replayed invite for it is ignored. */
  public rememberEnded(roomId: string, callId: string): void {
    const key = `${roomId}:${callId}`;
    if (this.#endedSet.has(key)) {
      return;
    }
    this.#ended.push(key);
    this.#endedSet.add(key);
    if (this.#ended.length > ENDED_MEMORY) {
      const oldest = this.#ended.shift();
      if (oldest !== undefined) {
        this.#endedSet.delete(oldest);
      }
    }
  }

  /** What the router knows of a live call's peer, for the sender and party checks. */
  public binding(roomId: string, callId: string): CallBinding | undefined {
    const call = this.#deps.calls.get(`${roomId}:${callId}`);
    return call
      ? { direction: call.direction, remoteUserId: call.remoteUserId, remotePartyId: call.remotePartyId }
      : undefined;
  }

  /**
   * Handles one validated room event of a sync batch (through `validateCallEvents` and the batch filter). The
   * sender and party checks run again here, against the call as it is now. Never throws for bad input.
   */
  public async handleRoomEvent(item: { event: RoomEvent; parsed: AnyParsedSignalling }): Promise<void> {
    const { event, parsed } = item;
    const callId = parsed.content.call_id;
    const verdict = checkSender(
      { sender: event.sender, type: parsed.type, partyId: parsed.content.party_id },
      this.binding(event.roomId, callId),
      { userId: this.#deps.client.userId, sessionId: this.#deps.sessionId },
    );
    const call = this.#deps.calls.get(`${event.roomId}:${callId}`);
    switch (verdict) {
      case "invite":
        if (parsed.type === CallEventType.Invite) {
          await this.#handleInvite(event, parsed.content);
        }
        return;
      case "answered_elsewhere":
        call?.inbound.answeredElsewhere();
        return;
      case "peer":
        if (call) {
          await dispatchSignalling(call, parsed);
        }
        return;
      case "echo":
      case "own_device_ignored":
        return;
      case "unknown_call":
      case "wrong_sender":
      case "other_party":
        this.#log.debug("ignored call event", { type: parsed.type, callId, sender: event.sender, verdict });
        return;
    }
  }

  async #handleInvite(event: RoomEvent, content: CallInviteContent): Promise<void> {
    const { client, delegate } = this.#deps;
    const key = `${event.roomId}:${content.call_id}`;
    if (this.#deps.calls.has(key) || this.#endedSet.has(key)) {
      this.#log.debug("duplicate invite", { callId: content.call_id });
      return;
    }
    if (content.invitee !== undefined && content.invitee !== client.userId) {
      return;
    }
    if (content.invitee_device_id !== undefined && content.invitee_device_id !== client.deviceId) {
      return;
    }
    const metadata = readStreamMetadata(content);
    const init: CallSessionInit = {
      callId: content.call_id,
      roomId: event.roomId,
      type: callTypeOfInvite(content.offer.sdp, metadata),
      direction: CallDirection.Incoming,
      remoteUserId: event.sender,
      ...(content.device_id !== undefined ? { remoteDeviceId: content.device_id } : {}),
      ...(content.party_id !== undefined ? { remotePartyId: content.party_id } : {}),
    };
    if (!canHandleNewCall(delegate)) {
      await this.#rejectBusy(init);
      return;
    }
    const existing = this.#deps.outgoingByRoom.get(event.roomId);
    const competing =
      existing && (existing.remoteUserId === undefined || existing.remoteUserId === event.sender)
        ? existing
        : undefined;
    const decision = resolveGlare(
      competing ? { callId: competing.callId, inviteSent: competing.inviteOnTheWire } : undefined,
      content.call_id,
    );
    if (decision === "keep_existing") {
      this.#log.info("glare: our call survives", { ours: competing?.callId, theirs: content.call_id });
      this.rememberEnded(event.roomId, content.call_id);
      await this.#sendHangup(event.roomId, content.call_id, CallErrorCode.Replaced);
      return;
    }
    const call = this.#deps.createCall(init, event.roomId);
    if (decision === "keep_incoming" && competing) {
      this.#log.info("glare: the incoming call survives", {
        ours: competing.callId,
        theirs: content.call_id,
      });
      void competing.replaceWith(call);
    }
    await callDelegate(this.#log, () => delegate.playRingtone?.());
    await callDelegate(this.#log, () => delegate.registerListeners?.(call));
    await call.initWithInvite(content.offer, metadata);
    if (call.state === CallState.Ringing) {
      await callDelegate(this.#log, () => delegate.handleNewCall?.(call));
      this.#deps.emitIncoming(call);
    }
  }

  /** PROTOCOL D2: tell the caller we are busy, and report the missed call locally. */
  async #rejectBusy(init: CallSessionInit): Promise<void> {
    const call = this.#deps.createCall(init, init.roomId);
    call.endLocally(CallErrorCode.UserBusy, false);
    await this.#sendHangup(init.roomId, init.callId, CallErrorCode.UserBusy);
    await callDelegate(this.#log, () => this.#deps.delegate.handleMissedCall?.(call));
    this.#deps.emitMissed(call);
  }

  async #sendHangup(roomId: string, callId: string, reason: CallErrorCode): Promise<void> {
    const content = buildHangupContent({ callId, partyId: this.#deps.sessionId, reason });
    try {
      await sendRoomEvent(this.#deps.retry, this.#deps.client, roomId, CallEventType.Hangup, content);
    } catch (error) {
      this.#log.warn("could not send hangup", { callId, reason, error });
    }
  }
}

function canHandleNewCall(delegate: WebRTCDelegate): boolean {
  const value = delegate.canHandleNewCall;
  if (typeof value === "function") {
    return value();
  }
  return value ?? true;
}
