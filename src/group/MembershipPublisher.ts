/**
 * Publishes our membership in one group call (reference §6.5, §6.10): the delayed leave first (MSC4140, when the
 * server has it), then our entry with `expires_ts = now + expireTsBumpMs`, re-published every
 * `updateExpireTsIntervalMs`; on leave our entry is removed (other entries untouched) and the delayed leave
 * cancelled. Publications run one at a time. Entering schedules the delayed leave ahead ({@link
 * MembershipPublisher.prepare}) while the session acquires its media; the first publication then only sends the
 * membership.
 */
import type { Clock, TimerHandle } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import { SerialQueue } from "../core/SerialQueue.js";
import { GroupEventType } from "../matrix/eventTypes.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";
import { DelayedLeave } from "./DelayedLeave.js";
import { buildElementEntry, elementStateKey } from "./elementMembership.js";
import { OwnStateCache } from "./OwnStateCache.js";
import { buildOwnEntry, rawMemberships, withoutOwnEntry } from "./membershipContent.js";
import { isPerDeviceMode, membershipStateKey, type StateKeyMode } from "./stateKey.js";

/** @internal What a {@link MembershipPublisher} needs. */
export interface PublisherDeps {
  client: MatrixClientPort;
  clock: Clock;
  log: Logger;
  roomId: string;
  groupCallId: string;
  application: string;
  scope: string;
  sessionId: string;
  expireTsBumpMs: number;
  refreshMs: number;
  delayedLeaveMs: number;
  delayedLeaveRestartMs: number;
  /** The state key mode of the room now. */
  stateKeyMode(): StateKeyMode;
  backendJson(): Record<string, unknown>;
  /** Write only `backend` (VoipOptions.dialect "famedly-v1"). */
  v1Only?: boolean;
  /** Write Element's `org.matrix.msc3401.call.member` instead; returns the room version now (for the state key). */
  elementRoomVersion?: () => string;
  feeds(): { purpose: string }[] | undefined;
  /** Whether the server has MSC4140 (asked once per VoIP). */
  delayedEventsSupported(): Promise<boolean>;
  /** What we last wrote per state key, shared by the publishers of one VoIP (default: this publisher's own). */
  ownState?: OwnStateCache;
  /** Permanent reactions to carry over: collected before a re-publication, re-sent after it. */
  carryOver?: {
    collect(previousEventId: string): Promise<string[]>;
    resend(keys: readonly string[], newEventId: string): Promise<void>;
  };
  /** A background re-publication failed. */
  onRefreshError(error: unknown): void;
}

/** @internal Our membership in one group call. */
export class MembershipPublisher {
  readonly #queue = new SerialQueue();
  readonly #delayed: DelayedLeave;
  readonly #ownState: OwnStateCache;
  #refresh: TimerHandle | undefined;
  #active = false;
  #eventId: string | undefined;
  #expiresTs = 0;
  #publishing = 0;
  #createdTs: number | undefined;
  /** `prepare()` scheduled (or tried to schedule) the delayed leave the next publication would otherwise. */
  #leavePrepared = false;

  public constructor(private readonly deps: PublisherDeps) {
    this.#ownState = deps.ownState ?? new OwnStateCache();
    this.#delayed = new DelayedLeave({
      client: deps.client,
      clock: deps.clock,
      log: deps.log,
      roomId: deps.roomId,
      delayMs: deps.delayedLeaveMs,
      restartMs: deps.delayedLeaveRestartMs,
      eventType: deps.elementRoomVersion === undefined ? GroupEventType.Member : GroupEventType.ElementMember,
    });
  }

  /** The event id of our latest membership, once published. */
  public get eventId(): string | undefined {
    return this.#eventId;
  }

  /** True while a publication is queued or running. */
  public get publishing(): boolean {
    return this.#publishing > 0;
  }

  /** The delayed leave (for tests and the session's rejoin). */
  public get delayedLeave(): DelayedLeave {
    return this.#delayed;
  }

  /** Our state key in the room now. */
  public stateKey(): string {
    const { client, elementRoomVersion } = this.deps;
    if (elementRoomVersion !== undefined) {
      return elementStateKey(elementRoomVersion(), client.userId, client.deviceId);
    }
    return membershipStateKey(this.deps.stateKeyMode(), client.userId, client.deviceId);
  }

  /**
   * Schedules the delayed leave (and asks whether the server has MSC4140) ahead of the first publication, on the
   * publication queue, so that it runs while the session acquires its media: the `start()` queued after it sends
   * only the membership. Never rejects: a failure is logged and that publication goes without a delayed leave,
   * as it would have. Call {@link MembershipPublisher.abandon} when entering fails before `start()`.
   */
  public prepare(): Promise<void> {
    this.#leavePrepared = true;
    return this.#queue
      .run(async () => {
        if (!this.#leavePrepared) {
          return;
        }
        if (this.deps.elementRoomVersion !== undefined) {
          await this.#scheduleLeave(this.stateKey(), {});
          return;
        }
        await this.#ownState.serial(this.deps.roomId, async () => {
          const key = this.stateKey();
          await this.#scheduleLeave(
            key,
            this.#leaveContent(withoutOwnEntry(this.#read(key).raw, ...this.#ownIds())),
          );
        });
      })
      .catch((error: unknown) => {
        this.deps.log.warn("preparing the delayed leave failed", { error });
      });
  }

  /**
   * Entering failed or was given up before the first publication: cancels the delayed leave
   * {@link MembershipPublisher.prepare} scheduled (after it is through), so none stays on the server.
   */
  public abandon(): Promise<void> {
    this.#leavePrepared = false;
    return this.#queue.run(() => this.#delayed.cancel());
  }

  /** Publishes our membership and starts the refresh; resolves with the event id. */
  public async start(): Promise<string | undefined> {
    this.#active = true;
    this.#createdTs ??= this.deps.clock.now();
    const eventId = await this.publish();
    this.deps.clock.clearTimer(this.#refresh);
    this.#refresh = this.deps.clock.setInterval(() => {
      this.publish().catch((error: unknown) => {
        this.deps.onRefreshError(error);
      });
    }, this.deps.refreshMs);
    return eventId;
  }

  /** (Re-)publishes our entry now; no-op once stopped. */
  public publish(): Promise<string | undefined> {
    this.#publishing++;
    return this.#queue
      .run(async () => (this.#active ? this.#publishNow() : undefined))
      .finally(() => {
        this.#publishing--;
      });
  }

  /** The server published (or dropped) our delayed leave: forget it; the next publication schedules a new one. */
  public forgetDelayedLeave(): void {
    this.#delayed.forget();
  }

  /** Stops refreshing, removes our entry and cancels the delayed leave. */
  public stop(): Promise<void> {
    this.#active = false;
    this.deps.clock.clearTimer(this.#refresh);
    this.#refresh = undefined;
    return this.#queue.run(async () => {
      if (this.deps.elementRoomVersion !== undefined) {
        await this.#leaveElement();
        return;
      }
      try {
        await this.#ownState.serial(this.deps.roomId, async () => {
          const key = this.stateKey();
          const current = this.#read(key);
          const others = withoutOwnEntry(current.raw, ...this.#ownIds());
          await this.#write(key, current.baseEventId, { memberships: others });
        });
      } finally {
        await this.#delayed.cancel();
      }
    });
  }

  /**
   * Clears timers without any request (VoIP disposal after a failed leave) — except a delayed leave prepared for a
   * membership never published, which is cancelled ({@link MembershipPublisher.abandon}).
   */
  public dispose(): void {
    this.#active = false;
    this.deps.clock.clearTimer(this.#refresh);
    this.#refresh = undefined;
    if (this.#leavePrepared) {
      void this.abandon();
    } else {
      this.#delayed.forget();
    }
  }

  async #leaveElement(): Promise<void> {
    this.#createdTs = undefined;
    if (!(await this.#delayed.sendNow())) {
      await this.deps.client.sendStateEvent(
        this.deps.roomId,
        GroupEventType.ElementMember,
        this.stateKey(),
        {},
      );
    }
  }

  async #publishElement(prepared: boolean): Promise<string | undefined> {
    const { client, clock, roomId, log } = this.deps;
    const key = this.stateKey();
    if (!prepared) {
      await this.#scheduleLeave(key, {});
    }
    const createdTs = this.#createdTs ?? clock.now();
    const expiresAt = clock.now() + this.deps.expireTsBumpMs;
    const content = buildElementEntry({
      callId: this.deps.groupCallId,
      application: this.deps.application,
      scope: this.deps.scope,
      deviceId: client.deviceId,
      userId: client.userId,
      backend: this.deps.backendJson(),
      createdTs,
      expiresAt,
    });
    const { eventId } = await client.sendStateEvent(roomId, GroupEventType.ElementMember, key, content);
    this.#eventId = eventId;
    this.#expiresTs = expiresAt;
    log.debug("element membership published", { eventId, expiresAt });
    return eventId;
  }

  async #publishNow(): Promise<string | undefined> {
    const prepared = this.#leavePrepared;
    this.#leavePrepared = false;
    if (this.deps.elementRoomVersion !== undefined) {
      return this.#publishElement(prepared);
    }
    const { client, clock, roomId, log } = this.deps;
    const key = this.stateKey();
    const previous = this.#eventId;
    const carry =
      previous !== undefined &&
      clock.now() < this.#expiresTs + this.deps.expireTsBumpMs &&
      this.deps.carryOver
        ? await this.deps.carryOver.collect(previous).catch((error: unknown) => {
            log.warn("fetching our reactions to carry over failed", { error });
            return [];
          })
        : [];
    const eventId = await this.#ownState.serial(roomId, async () => {
      const current = this.#read(key);
      const others = withoutOwnEntry(current.raw, ...this.#ownIds());
      if (!prepared) {
        await this.#scheduleLeave(key, this.#leaveContent(others));
      }
      const expiresTs = clock.now() + this.deps.expireTsBumpMs;
      const entry = buildOwnEntry({
        callId: this.deps.groupCallId,
        application: this.deps.application,
        scope: this.deps.scope,
        backend: this.deps.backendJson(),
        deviceId: client.deviceId,
        expiresTs,
        membershipId: this.deps.sessionId,
        feeds: this.deps.feeds(),
        v1Only: this.deps.v1Only === true,
      });
      const sent = await this.#write(key, current.baseEventId, { memberships: [...others, entry] });
      this.#eventId = sent;
      this.#expiresTs = expiresTs;
      log.debug("membership published", { eventId: sent, expiresTs });
      return sent;
    });
    if (eventId !== undefined && carry.length > 0 && this.deps.carryOver) {
      await this.deps.carryOver.resend(carry, eventId).catch((error: unknown) => {
        log.warn("re-sending our reactions failed", { error });
      });
    }
    return eventId;
  }

  /** Schedules the delayed leave `content` under `key` unless one is scheduled or the server lacks MSC4140. */
  async #scheduleLeave(key: string, content: Record<string, unknown>): Promise<void> {
    if ((await this.deps.delayedEventsSupported()) && this.#delayed.delayId === undefined) {
      try {
        await this.#delayed.schedule(key, content);
      } catch (error) {
        this.deps.log.warn("scheduling the delayed leave failed; leaving will be explicit only", { error });
      }
    }
  }

  /** Famedly's leave: nothing under a per-device key; under a shared key, the other entries as they are now. */
  #leaveContent(others: unknown[]): Record<string, unknown> {
    return { memberships: isPerDeviceMode(this.deps.stateKeyMode()) ? [] : others };
  }

  async #write(
    key: string,
    baseEventId: string | undefined,
    content: Record<string, unknown>,
  ): Promise<string | undefined> {
    const { eventId } = await this.deps.client.sendStateEvent(
      this.deps.roomId,
      GroupEventType.Member,
      key,
      content,
    );
    this.#ownState.wrote(this.deps.roomId, key, baseEventId, content, eventId);
    return eventId;
  }

  #ownIds(): [string, string, string] {
    return [this.deps.client.deviceId, this.deps.groupCallId, this.deps.scope];
  }

  /** Our state key's memberships as they stand (our last write until the view shows it), and the view's event. */
  #read(stateKey: string): { raw: unknown[]; baseEventId: string | undefined } {
    const event = this.deps.client
      .getStateEvents(this.deps.roomId, GroupEventType.Member)
      .find((candidate) => candidate.stateKey === stateKey);
    const content = this.#ownState.current(this.deps.roomId, stateKey, event);
    return { raw: rawMemberships(content), baseEventId: event?.eventId };
  }
}
