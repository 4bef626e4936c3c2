import type { CallSession } from "../../call/CallSession.js";
import type { Clock, TimerHandle } from "../../core/Clock.js";
import type { Logger } from "../../core/Logger.js";
import { KeyedSerialQueue } from "../../core/KeyedSerialQueue.js";
import { CallEventType } from "../../matrix/eventTypes.js";
import type { MatrixClientPort, ToDeviceEvent } from "../../matrix/MatrixClientPort.js";
import { parseContent, type AnyParsedSignalling, type MeshDialect } from "../../matrix/parse.js";
import type { ParsedMembership } from "../../matrix/schemas/membership.js";
import type { MeshFieldsContent } from "../../matrix/schemas/mesh.js";
import type { CallInviteContent } from "../../matrix/schemas/signalling.js";
import { dispatchSignalling } from "../../call/dispatchSignalling.js";
import { SeqOrderer } from "./SeqOrderer.js";

/** @internal What {@link MeshInbound} needs from its group call. */
export interface MeshInboundDeps {
  client: MatrixClientPort;
  clock: Clock;
  logger: Logger;
  /** Our session id: inbound signalling must carry it as `dest_session_id`. */
  sessionId: string;
  roomId: string;
  groupCallId: string;
  /** PROTOCOL G6: how long signalling from a device not (yet) known as a member is held. */
  holdMs: number;
  /** PROTOCOL G3: how long a gap in a sender's `seq` is waited for. */
  gapTimeoutMs: number;
  /** Whether the room is encrypted (plaintext group signalling is then ignored, G5). */
  roomEncrypted(): boolean;
  /** The current, non-expired membership of one device in this call. */
  membershipOf(userId: string, deviceId: string): ParsedMembership | undefined;
  /** True while we are in the call (invites are answered only then; before, they are held, G6). */
  entered(): boolean;
  /** Our leg with this `call_id`, if any. */
  leg(callId: string): CallSession | undefined;
  /** A valid invite from a current member while we are in the call. */
  onInvite(invite: InboundInvite): Promise<void>;
}

/** @internal A validated mesh invite. */
export interface InboundInvite {
  sender: string;
  deviceId: string;
  membership: ParsedMembership;
  content: CallInviteContent;
  /** The sender's session (`sender_session_id`), our leg's `dest_session_id`. */
  senderSessionId: string;
  /** The dialect the invite came in; the leg answers in it. */
  dialect: MeshDialect;
}

/** One inbound message after parsing and routing. */
interface Inbound {
  /** The stream it belongs to: one per sending call, user, Olm device and session (G3 orders within it). */
  stream: string;
  event: ToDeviceEvent;
  parsed: AnyParsedSignalling & { transport: "toDevice" };
  mesh: MeshFieldsContent;
  /** The sending device: Olm-verified, else claimed in the content (else, later, that of the leg). */
  deviceId: string | undefined;
  arrivedAt: number;
}

type Verdict = { go: true; membership: ParsedMembership } | { go: false; hold: boolean; why: string };

/**
 * @internal The inbound mesh signalling of one group call (reference §5.1, §6.11; PROTOCOL G3, G5, G6). To-device
 * events named for this call pass, in order: parsing; `room_id`/`conf_id`; `dest_session_id` equal to ours; not
 * from our own device; in an encrypted room, encrypted only; an Olm sender device equal to a claimed `device_id`.
 * Then they are put in `seq` order per sending device, session and call, duplicates dropped (G3). Each one in order
 * is then let through only from a current member of the call whose session is the sender's (G5); otherwise it is
 * held for `holdMs` and re-checked when memberships change (G6), as are invites that arrive before we entered.
 * Invites go to {@link MeshInboundDeps.onInvite}; everything else to the leg through the shared dispatch.
 *
 * Each stream (one sending call, user, device and session) is handled on its own serial queue: its messages are
 * delivered one at a time in `seq` order, while the streams of different legs never wait for each other (answering
 * one member's invite does not hold up another member's invite, answer or candidates).
 */
export class MeshInbound {
  readonly #deps: MeshInboundDeps;
  readonly #log: Logger;
  readonly #orderer: SeqOrderer<Inbound>;
  readonly #queues = new KeyedSerialQueue();
  #held: Inbound[] = [];
  #holdTimer: TimerHandle | undefined;
  #gapTimer: TimerHandle | undefined;
  #disposed = false;

  public constructor(deps: MeshInboundDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child("mesh-inbound");
    this.#orderer = new SeqOrderer(deps.gapTimeoutMs);
  }

  /** How many messages wait for a membership (G6). */
  public get heldCount(): number {
    return this.#held.length;
  }

  /** Takes one to-device event addressed to this call. Never throws for bad input. */
  public handle(event: ToDeviceEvent): Promise<void> {
    const item = this.#route(event);
    if (!item) {
      return Promise.resolve();
    }
    const { deliver, duplicate } = this.#orderer.accept(item.stream, item.mesh.seq, item, item.arrivedAt);
    if (duplicate) {
      this.#log.debug("duplicate or stale seq dropped", { type: item.parsed.type, seq: item.mesh.seq });
    }
    this.#armGapTimer();
    return this.#queues.run(item.stream, () => this.#gateAll(deliver));
  }

  /**
   * Memberships changed: held messages whose sender is now a member go through, in arrival order per stream (each
   * on its stream's queue, behind what that stream is doing).
   */
  public async membershipsChanged(): Promise<void> {
    const now = this.#deps.clock.now();
    const byStream = new Map<string, Inbound[]>();
    for (const item of this.#held.splice(0)) {
      byStream.set(item.stream, [...(byStream.get(item.stream) ?? []), item]);
    }
    this.#armHoldTimer();
    await Promise.all(
      [...byStream].map(([stream, items]) => this.#queues.run(stream, () => this.#recheck(items, now))),
    );
  }

  /** Stops the timers and drops what is held. */
  public dispose(): void {
    this.#disposed = true;
    this.#deps.clock.clearTimer(this.#holdTimer);
    this.#deps.clock.clearTimer(this.#gapTimer);
    this.#held = [];
  }

  #route(event: ToDeviceEvent): Inbound | undefined {
    const deps = this.#deps;
    const parsed = parseContent(event.type, event.content, this.#log, { transport: "toDevice" });
    if (!parsed.ok || parsed.kind !== "signalling" || parsed.transport !== "toDevice") {
      return undefined;
    }
    const { mesh } = parsed;
    const drop = (why: string): undefined => {
      this.#log.debug(`mesh signalling dropped: ${why}`, { type: parsed.type, sender: event.sender });
      return undefined;
    };
    if (mesh.room_id !== deps.roomId || mesh.conf_id !== deps.groupCallId) {
      drop("room_id / conf_id of another call");
      return;
    }
    if (mesh.dest_session_id !== deps.sessionId) {
      drop("dest_session_id is not ours");
      return;
    }
    if (
      event.senderDevice !== undefined &&
      mesh.device_id !== undefined &&
      mesh.device_id !== event.senderDevice
    ) {
      drop("device_id differs from the Olm sender device");
      return;
    }
    if (!event.encrypted && deps.roomEncrypted()) {
      drop("plaintext signalling in an encrypted room");
      return;
    }
    const deviceId = event.senderDevice ?? mesh.device_id;
    if (event.sender === deps.client.userId && (deviceId ?? deps.client.deviceId) === deps.client.deviceId) {
      drop("from our own device");
      return;
    }
    // The Olm sender device when known (the claimed one may be absent from all but the invite).
    const stream = [
      parsed.content.call_id,
      event.sender,
      event.senderDevice ?? "",
      mesh.sender_session_id ?? "",
    ].join("|");
    return { stream, event, parsed, mesh, deviceId, arrivedAt: deps.clock.now() };
  }

  async #gateAll(items: readonly Inbound[]): Promise<void> {
    for (const item of items) {
      await this.#gate(item);
    }
  }

  async #gate(item: Inbound): Promise<void> {
    if (this.#disposed) {
      return;
    }
    const verdict = this.#check(item);
    if (verdict.go) {
      await this.#deliver(item, verdict.membership);
      return;
    }
    if (!verdict.hold) {
      this.#log.debug(`mesh signalling dropped: ${verdict.why}`, { type: item.parsed.type });
      return;
    }
    this.#log.debug(`mesh signalling held: ${verdict.why}`, { type: item.parsed.type });
    this.#held.push(item);
    this.#armHoldTimer();
  }

  #check(item: Inbound): Verdict {
    const { event, parsed, mesh } = item;
    // Reference peers name their device in the invite only: later events take the device of the leg.
    const leg = this.#deps.leg(parsed.content.call_id);
    const deviceId = item.deviceId ?? (leg?.remoteUserId === event.sender ? leg.remoteDeviceId : undefined);
    if (deviceId === undefined) {
      // No device named and no leg to take it from: an event of a call we do not have (yet).
      return parsed.type === CallEventType.Invite
        ? { go: false, hold: false, why: "invite without device_id" }
        : { go: false, hold: true, why: "no device known for the sender yet" };
    }
    const membership = this.#deps.membershipOf(event.sender, deviceId);
    if (!membership) {
      return { go: false, hold: true, why: "sender is not a member (yet)" };
    }
    if (mesh.sender_session_id !== undefined && mesh.sender_session_id !== membership.membershipId) {
      return { go: false, hold: true, why: "sender session differs from its membership" };
    }
    if (parsed.type === CallEventType.Invite && !this.#deps.entered()) {
      return { go: false, hold: true, why: "invite before we entered" };
    }
    return { go: true, membership };
  }

  /** Delivers one message; after an invite, its stream's held messages are looked at again (`recheck`). */
  async #deliver(item: Inbound, membership: ParsedMembership, recheck = true): Promise<void> {
    const { event, parsed, mesh } = item;
    try {
      if (parsed.type === CallEventType.Invite) {
        await this.#deps.onInvite({
          sender: event.sender,
          deviceId: membership.deviceId,
          membership,
          content: parsed.content,
          senderSessionId: mesh.sender_session_id ?? membership.membershipId,
          dialect: parsed.dialect,
        });
        if (recheck && this.#held.some((held) => held.stream === item.stream)) {
          // Events of the new leg that came without a device may wait for it (they are of the same stream).
          const held = this.#held.filter((h) => h.stream === item.stream);
          this.#held = this.#held.filter((h) => h.stream !== item.stream);
          await this.#recheck(held, this.#deps.clock.now());
        }
        return;
      }
      const leg = this.#deps.leg(parsed.content.call_id);
      if (!leg) {
        this.#log.debug("mesh signalling for an unknown call", { type: parsed.type });
        return;
      }
      if (leg.remoteUserId !== event.sender || leg.remoteDeviceId !== membership.deviceId) {
        this.#log.debug("mesh signalling from another device than the leg's", { type: parsed.type });
        return;
      }
      const partyId = parsed.content.party_id;
      if (leg.remotePartyId !== undefined && partyId !== leg.remotePartyId) {
        this.#log.debug("mesh signalling from another party", { type: parsed.type });
        return;
      }
      await dispatchSignalling(leg, parsed);
    } catch (error) {
      this.#log.warn("handling mesh signalling failed", { type: parsed.type, error });
    }
  }

  /** Looks at held messages of one stream again, in order: delivered, held again, or dropped (expired). */
  async #recheck(held: readonly Inbound[], now: number): Promise<void> {
    for (const item of held) {
      if (this.#disposed) {
        return;
      }
      if (now - item.arrivedAt >= this.#deps.holdMs) {
        this.#log.debug("held mesh signalling expired", { type: item.parsed.type });
        continue;
      }
      const verdict = this.#check(item);
      if (verdict.go) {
        await this.#deliver(item, verdict.membership, false);
      } else if (verdict.hold) {
        this.#held.push(item);
      }
    }
    this.#armHoldTimer();
  }

  #armHoldTimer(): void {
    const { clock, holdMs } = this.#deps;
    clock.clearTimer(this.#holdTimer);
    this.#holdTimer = undefined;
    const first = this.#held[0];
    if (!first || this.#disposed) {
      return;
    }
    const due = Math.max(0, first.arrivedAt + holdMs - clock.now());
    this.#holdTimer = clock.setTimeout(() => {
      this.#holdTimer = undefined;
      void this.membershipsChanged();
    }, due);
  }

  #armGapTimer(): void {
    const { clock } = this.#deps;
    clock.clearTimer(this.#gapTimer);
    this.#gapTimer = undefined;
    const deadline = this.#orderer.nextDeadline();
    if (deadline === undefined || this.#disposed) {
      return;
    }
    this.#gapTimer = clock.setTimeout(
      () => {
        this.#gapTimer = undefined;
        for (const { key, deliver, skipped } of this.#orderer.expire(clock.now())) {
          this.#log.debug("gave up waiting for lost mesh signalling", { skipped });
          void this.#queues.run(key, () => this.#gateAll(deliver));
        }
        this.#armGapTimer();
      },
      Math.max(0, deadline - clock.now()),
    );
  }
}
