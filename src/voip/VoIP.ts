import { callDelegate } from "../webrtc/callDelegate.js";
import { CallParticipant } from "../call/CallParticipant.js";
import type { CallContext, CallParty, SignallingTransport } from "../call/CallContext.js";
import { CallSession, type CallSessionInit } from "../call/CallSession.js";
import { CallDirection, CallErrorCode, CallState, type CallType } from "../call/types.js";
import { systemClock, type Clock } from "../core/Clock.js";
import { VoipError, VoipErrorCode } from "../core/errors.js";
import { silentLogger, type Logger } from "../core/Logger.js";
import { cryptoRandom, encodeBase64, randomAlphanumeric, type RandomSource } from "../core/random.js";
import { KeyedSerialQueue } from "../core/KeyedSerialQueue.js";
import { DEFAULT_RETRY_POLICY, waitOn, type RetryContext } from "../core/retry.js";
import { TypedEventEmitter } from "../core/TypedEventEmitter.js";
import type { MatrixClientPort, SyncBatch } from "../matrix/MatrixClientPort.js";
import type { GroupCallSession } from "../group/GroupCallSession.js";
import type { CallBackend } from "../group/CallBackend.js";
import { createBackendRuntime } from "../backend/createBackendRuntime.js";
import { GroupCallRegistry } from "./GroupCallRegistry.js";
import type { WebRTCDelegate } from "./WebRTCDelegate.js";
import { filterCallBatch } from "./batchFilter.js";
import { validateCallEvents, type ValidCallEvent } from "./validateBatch.js";
import { RoomCallRouter } from "./RoomCallRouter.js";
import { roomSignallingTransport } from "./roomSend.js";
import { resolveTimeouts, type CallTimeouts } from "../call/timeouts.js";
import { ToDeviceTransport } from "./ToDeviceTransport.js";
import { TurnCache } from "./TurnCache.js";
import type { VoipEvents, VoipOptions } from "./VoipOptions.js";
import type { MeshLegInit } from "../backend/mesh/legs.js";

/**
 * The entry point: a registry of calls and group calls for one Matrix client, and the router of their incoming
 * events. Create one per logged-in client; `dispose()` it on logout.
 *
 * ```ts
 * const voip = new VoIP(client, delegate);
 * voip.on("incomingCall", (call) => void call.answer());
 * const call = await voip.inviteToCall(roomId, CallType.Video, "@bob:example.org");
 * ```
 */
export class VoIP extends TypedEventEmitter<VoipEvents> {
  /** Our party id and membership id: 16 random bytes, padded base64. */
  public readonly sessionId: string;
  readonly #calls = new Map<string, CallSession>();
  readonly #groups: GroupCallRegistry;
  /** Our latest outgoing 1:1 call per room (glare). */
  readonly #outgoingByRoom = new Map<string, CallSession>();
  readonly #client: MatrixClientPort;
  readonly #delegate: WebRTCDelegate;
  readonly #options: VoipOptions;
  readonly #clock: Clock;
  readonly #random: RandomSource;
  /** The library's retry layer (429 only; see `roomSend.ts`). */
  readonly #retry: RetryContext;
  readonly #timeouts: Readonly<CallTimeouts>;
  readonly #log: Logger;
  readonly #turn: TurnCache;
  readonly #router: RoomCallRouter;
  /** Inbound events, one queue per call. */
  readonly #inbound = new KeyedSerialQueue();
  readonly #unsubscribeSync: () => void;
  readonly #previousDeviceChange: ((event: Event) => unknown) | null | undefined;
  readonly #deviceChangeHandler: (event: Event) => void;
  #disposed = false;

  /**
   * @param client the Matrix client (an adapter: `famedly-calls/matrix-js-sdk`, or `LocalHomeserver` in tests)
   * @param delegate the platform and the app's callbacks
   * @param options timings, clock, randomness, logger
   */
  public constructor(client: MatrixClientPort, delegate: WebRTCDelegate, options: VoipOptions = {}) {
    super();
    this.#client = client;
    this.#delegate = delegate;
    this.#options = { ...options };
    this.#log = (options.logger ?? silentLogger).child("voip");
    this.emitterLogger = this.#log;
    const timeouts = resolveTimeouts(options.timeouts);
    const clock = options.clock ?? systemClock;
    const random = options.random ?? cryptoRandom;
    this.#clock = clock;
    this.#random = random;
    this.#retry = { wait: waitOn(clock), random, logger: this.#log, policy: DEFAULT_RETRY_POLICY };
    this.#timeouts = timeouts;
    this.sessionId = encodeBase64(random.bytes(16));
    this.#turn = new TurnCache(client, clock, this.#log, () => this.#calls.size > 0);
    this.#router = new RoomCallRouter({
      client,
      retry: this.#retry,
      delegate,
      clock,
      random,
      timeouts,
      logger: this.#log,
      sessionId: this.sessionId,
      calls: this.#calls,
      outgoingByRoom: this.#outgoingByRoom,
      createCall: (init, roomId) => this.#createCall(init, this.#roomTransport(roomId)),
      emitIncoming: (call) => {
        this.emit("incomingCall", call);
      },
      emitMissed: (call) => {
        this.emit("missedCall", call);
      },
    });
    this.#groups = new GroupCallRegistry({
      client,
      delegate,
      clock,
      random,
      logger: this.#log,
      timeouts,
      sessionId: this.sessionId,
      options: {
        keyRingSize: options.keyRingSize ?? 16,
        enableSFUE2EEKeyRatcheting: options.enableSFUE2EEKeyRatcheting ?? false,
        allowPlaintextKeys: options.allowPlaintextKeys ?? false,
        dialect: options.dialect ?? "famedly-v2",
        useUnprotectedPerDeviceStateKeys: options.useUnprotectedPerDeviceStateKeys ?? false,
      },
      createRuntime: (ctx) => createBackendRuntime(ctx, this),
      prefetchIceServers: () => {
        this.#prefetchIceServers();
      },
      emitIncoming: (group) => {
        this.emit("incomingGroupCall", group);
      },
      emitEnded: (group) => {
        this.emit("groupCallEnded", group);
      },
    });
    this.#unsubscribeSync = client.onSync((batch) => {
      this.#onSync(batch);
    });
    // Chain onto whatever handler is there (the app's, or another VoIP's) and restore it on dispose.
    this.#previousDeviceChange = delegate.mediaDevices.ondevicechange;
    this.#deviceChangeHandler = (event: Event) => {
      this.#previousDeviceChange?.(event);
      if (!this.#disposed) {
        void this.#onDeviceChange();
      }
    };
    delegate.mediaDevices.ondevicechange = this.#deviceChangeHandler;
  }

  /** Live 1:1 calls and mesh legs, keyed `${roomId}:${callId}`; ended calls are removed. */
  public get calls(): ReadonlyMap<string, CallSession> {
    return this.#calls;
  }

  /** Known group calls, keyed `${roomId}:${groupCallId}`. */
  public get groupCalls(): ReadonlyMap<string, GroupCallSession> {
    return this.#groups.sessions;
  }

  /**
   * Calls `userId` in `roomId` (every device of theirs rings, or only `deviceId`). Resolves once local media is
   * acquired and the call is registered; the invite follows as soon as the offer is ready.
   * @throws {VoipError} `invalid_argument` for an unknown room or bad user id; `user_media_failed` when no media
   *   could be acquired (the call has then ended).
   */
  public async inviteToCall(
    roomId: string,
    type: CallType,
    userId: string,
    deviceId?: string,
  ): Promise<CallSession> {
    this.#assertAlive();
    if (typeof userId !== "string" || !userId.startsWith("@") || !userId.includes(":")) {
      throw new VoipError(VoipErrorCode.InvalidArgument, `not a Matrix user id: ${JSON.stringify(userId)}`);
    }
    const room = this.#client.getRoom(roomId);
    if (room?.myMembership !== "join") {
      throw new VoipError(VoipErrorCode.InvalidArgument, `not joined to room ${roomId}`);
    }
    this.#prefetchIceServers();
    const callId = this.newCallId();
    const call = this.#createCall(
      {
        callId,
        roomId,
        type,
        direction: CallDirection.Outgoing,
        remoteUserId: userId,
        ...(deviceId !== undefined ? { remoteDeviceId: deviceId } : {}),
      },
      this.#roomTransport(roomId),
    );
    this.#outgoingByRoom.set(roomId, call);
    await callDelegate(this.#log, () => this.#delegate.registerListeners?.(call));
    this.emit("outgoingCall", call);
    await call.initOutbound();
    if (call.state !== CallState.Ended) {
      void callDelegate(this.#log, () => this.#delegate.handleNewCall?.(call));
    }
    return call;
  }

  /**
   * The group call `groupCallId` in `roomId`: the known session, or a new one (not entered yet). Lets every member
   * join first when the room's power levels do not and we may change them. With `preShareKey` (default true) the
   * backend prepares before entering (LiveKit shares a key).
   * @param groupCallId the `call_id`; the room id (or `""`) makes a room-wide call
   * @param backend `new MeshBackend()` or `new LiveKitBackend({…})`; an existing session keeps its own
   * @throws {VoipError} `invalid_argument` when we are not joined to the room; `forbidden` when our power level
   *   does not allow publishing a call membership
   */
  public async fetchOrCreateGroupCall(
    groupCallId: string,
    roomId: string,
    backend: CallBackend,
    application = "m.call",
    scope = "m.room",
    opts: {
      /** Send our key to the members before entering (LiveKit; default true). */
      preShareKey?: boolean;
      /**
       * `"element"`: publish our membership as matrix-js-sdk's MatrixRTC does (`org.matrix.msc3401.call.member`,
       * Element Call rooms use the group call id `""`). LiveKit backends only.
       */
      membershipDialect?: "element";
      /**
       * How our media keys go to Element peers (LiveKit): `"room"` (one `io.element.call.encryption_keys` room
       * event, what matrix-js-sdk 37.5 reads by default), `"to-device"` (matrix-js-sdk ≥ 41.1), or `"auto"`
       * (default: room events, switching per peer to the way its keys arrive). Room events only where they are
       * encrypted (or with `allowPlaintextKeys`); elsewhere to-device. Applies to an existing session too.
       */
      elementKeyTransport?: "room" | "to-device" | "auto";
    } = {},
  ): Promise<GroupCallSession> {
    this.#assertAlive();
    if (typeof groupCallId !== "string") {
      throw new VoipError(VoipErrorCode.InvalidArgument, "groupCallId must be a string");
    }
    if (opts.membershipDialect === "element" && backend.type !== "livekit") {
      throw new VoipError(
        VoipErrorCode.InvalidArgument,
        "the element membership dialect needs a LiveKit backend",
      );
    }
    return this.#groups.fetchOrCreate(groupCallId, roomId, backend, {
      application,
      scope,
      preShareKey: opts.preShareKey ?? true,
      membershipDialect: opts.membershipDialect,
      elementKeyTransport: opts.elementKeyTransport,
    });
  }

  /**
   * Whether we may publish a call membership in `roomId` (joined, and our power level reaches the level for
   * `com.famedly.call.member`; a room without power levels lets every member). With `membershipDialect:
   * "element"`: the level for `org.matrix.msc3401.call.member`, and, unless `elementKeyTransport` is
   * `"to-device"`, for sending the key room event (`m.room.encrypted` in an encrypted room).
   */
  public canJoinGroupCall(
    roomId: string,
    opts: {
      /** As in {@link VoIP.fetchOrCreateGroupCall}. */
      membershipDialect?: "element";
      /** As in {@link VoIP.fetchOrCreateGroupCall}. */
      elementKeyTransport?: "room" | "to-device" | "auto";
    } = {},
  ): boolean {
    return this.#groups.canJoin(roomId, opts);
  }

  /**
   * Lets every member of `roomId` join group calls: sets the power level of `com.famedly.call.member` to
   * `users_default`. Does nothing when they already may.
   * @throws {VoipError} `forbidden` when we may not change the power levels; `invalid_argument` when not joined
   */
  public async enableGroupCalls(roomId: string): Promise<void> {
    this.#assertAlive();
    await this.#groups.enableGroupCalls(roomId);
  }

  /** Hangs up every call, unsubscribes from sync and clears every timer. Idempotent. */
  public async dispose(): Promise<void> {
    if (this.#disposed) {
      return;
    }
    this.#disposed = true;
    this.#unsubscribeSync();
    this.#turn.dispose();
    if (this.#delegate.mediaDevices.ondevicechange === this.#deviceChangeHandler) {
      this.#delegate.mediaDevices.ondevicechange = this.#previousDeviceChange ?? null;
    }
    await this.#groups.dispose();
    await Promise.all(
      [...this.#calls.values()].map((call) => call.hangup({ reason: CallErrorCode.UserHangup })),
    );
    this.#calls.clear();
    this.#outgoingByRoom.clear();
    this.removeAllListeners();
  }

  #assertAlive(): void {
    if (this.#disposed) {
      throw new VoipError(VoipErrorCode.InvalidState, "this VoIP instance was disposed");
    }
  }

  /** @internal A new `call_id`: as the reference's genCallID, milliseconds since the epoch and 16 alphanumerics. */
  public newCallId(): string {
    return `${this.#clock.now()}${randomAlphanumeric(this.#random, 16)}`;
  }

  /**
   * @internal Creates a mesh leg of a group call: a call signalled to one device with to-device messages
   * ({@link ToDeviceTransport}), sending clones of the group's media, without the app callbacks of 1:1 calls
   * (ringtone, `handleNewCall`, …). Registered in {@link VoIP.calls} like any call.
   */
  public createMeshLeg(leg: MeshLegInit): CallSession {
    this.#assertAlive();
    const transport = new ToDeviceTransport({
      client: this.#client,
      clock: this.#clock,
      retry: this.#retry,
      logger: this.#log.child(`leg:${leg.callId}`),
      roomId: leg.roomId,
      sessionId: this.sessionId,
      target: { userId: leg.remoteUserId, deviceId: leg.remoteDeviceId, sessionId: leg.remoteSessionId },
      dialect: leg.dialect,
      roomEncrypted: () => this.#client.getRoom(leg.roomId)?.encrypted ?? false,
    });
    const init: CallSessionInit = { ...leg };
    delete (init as Partial<MeshLegInit>).dialect;
    delete (init as Partial<MeshLegInit>).onPeerConnection;
    return this.#createCall(init, transport, platformOnly(this.#delegate, leg.onPeerConnection));
  }

  /**
   * Starts fetching the TURN credentials without waiting, where a call is about to acquire media (placing a 1:1
   * call, entering a mesh call): the request runs meanwhile, and the peer connection finds them cached.
   * `TurnCache.get` never rejects.
   */
  #prefetchIceServers(): void {
    void this.#turn.get();
  }

  #roomTransport(roomId: string): SignallingTransport {
    return roomSignallingTransport(this.#retry, this.#client, roomId);
  }

  /** The one way a call is created: 1:1 calls with room transport, mesh legs with to-device transport. */
  #createCall(
    init: CallSessionInit,
    transport: SignallingTransport,
    delegate: WebRTCDelegate = this.#delegate,
  ): CallSession {
    const clock = this.#clock;
    const roomId = init.roomId;
    const ctx: CallContext = {
      client: this.#client,
      delegate,
      clock,
      logger: this.#options.logger ?? silentLogger,
      random: this.#random,
      timeouts: this.#timeouts,
      sessionId: this.sessionId,
      fixedWaits: this.#options.fixedWaits ?? false,
      transport,
      getIceServers: () => this.#turn.get(),
      // Only ever called after the constructor below returned.
      onTerminated: (party, reason, shouldEmit) => {
        this.#onTerminated(call, party, reason, shouldEmit);
      },
    };
    const call: CallSession = new CallSession(ctx, init);
    this.#calls.set(`${roomId}:${init.callId}`, call);
    return call;
  }

  #onTerminated(call: CallSession, party: CallParty, reason: CallErrorCode, shouldEmit: boolean): void {
    this.#calls.delete(`${call.roomId}:${call.callId}`);
    this.#router.rememberEnded(call.roomId, call.callId);
    if (this.#outgoingByRoom.get(call.roomId) === call) {
      this.#outgoingByRoom.delete(call.roomId);
    }
    if (!shouldEmit || call.isGroupCall) {
      return;
    }
    void callDelegate(this.#log, () => this.#delegate.handleCallEnded?.(call));
    this.emit("callEnded", call);
    const missed =
      call.direction === CallDirection.Incoming &&
      !call.wasConnected &&
      !call.answeredByUs &&
      reason !== CallErrorCode.AnsweredElsewhere &&
      reason !== CallErrorCode.Replaced &&
      (party === "remote" || reason === CallErrorCode.InviteTimeout);
    if (missed) {
      void callDelegate(this.#log, () => this.#delegate.handleMissedCall?.(call));
      this.emit("missedCall", call);
    }
  }

  #onSync(batch: SyncBatch): void {
    if (this.#disposed) {
      return;
    }
    try {
      this.#handleBatch(batch);
    } catch (error) {
      // Never let bad input escape into the client's sync loop.
      this.#log.error("handling a sync batch failed", { error });
    }
  }

  /**
   * Hands one validated event to the router on its call's queue: the events of one call are handled in order,
   * while a slow step of one call (a permission prompt in `getUserMedia`, a slow app callback) never holds up
   * other calls, other rooms or the next sync batch.
   */
  #enqueue(item: ValidCallEvent): void {
    const key = `${item.event.roomId}:${item.callId}`;
    this.#inbound
      .run(key, async () => {
        if (!this.#disposed) {
          await this.#router.handleRoomEvent(item);
        }
      })
      .catch((error: unknown) => {
        this.#log.error("handling a call event failed", {
          type: item.type,
          eventId: item.event.eventId,
          error,
        });
      });
  }

  #handleBatch(batch: SyncBatch): void {
    const clock = this.#clock;
    const lifetime = this.#timeouts.callInviteLifetimeMs;
    for (const room of batch.rooms) {
      try {
        this.#groups.handleRoomState(room);
        if (!room.initial) {
          this.#groups.handleTimeline(room);
        }
      } catch (error) {
        this.#log.error("handling group call events failed", { roomId: room.roomId, error });
      }
      if (room.initial || room.timeline.length === 0) {
        continue;
      }
      const valid = validateCallEvents(
        room.timeline.filter((e) => this.#router.isCallEvent(e.type)),
        { userId: this.#client.userId, sessionId: this.sessionId },
        (roomId, callId) => this.#router.binding(roomId, callId),
        this.#log,
      );
      const { kept, dropped } = filterCallBatch(valid, clock.now(), lifetime);
      for (const { item, why } of dropped) {
        this.#log.debug("dropped call event", { type: item.type, eventId: item.event.eventId, why });
      }
      for (const item of kept) {
        this.#enqueue(item);
      }
    }
    if (batch.toDevice.length > 0) {
      // Group calls' to-device events keep their order on one queue of their own, off the sync loop.
      const events = batch.toDevice;
      this.#inbound
        .run("toDevice", () => (this.#disposed ? undefined : this.#groups.handleToDevice(events)))
        .catch((error: unknown) => {
          this.#log.error("handling to-device events failed", { error });
        });
    }
  }

  async #onDeviceChange(): Promise<void> {
    for (const call of this.#calls.values()) {
      if (call.state === CallState.Connected && !call.isGroupCall) {
        try {
          await call.updateMediaDevices();
        } catch (error) {
          this.#log.warn("switching media devices failed", { callId: call.callId, error });
        }
      }
    }
  }

  /** @internal Our own participant. */
  public get localParticipant(): CallParticipant {
    return new CallParticipant(this.#client.userId, this.#client.deviceId, true);
  }
}

/** The platform part of a delegate, without the app callbacks meant for 1:1 calls (mesh legs use this). */
function platformOnly(
  delegate: WebRTCDelegate,
  onPeerConnection?: (pc: RTCPeerConnection) => void,
): WebRTCDelegate {
  return {
    mediaDevices: delegate.mediaDevices,
    isWeb: delegate.isWeb,
    createPeerConnection: async (config) => {
      const pc = await delegate.createPeerConnection(config);
      onPeerConnection?.(pc);
      return pc;
    },
  };
}
