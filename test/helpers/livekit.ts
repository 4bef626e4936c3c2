import { expect } from "vitest";
import {
  GroupCallState,
  LiveKitBackend,
  VoIP,
  type GroupCallEvent,
  type GroupCallSession,
  type MatrixClientPort,
  type VoipOptions,
} from "../../src/index.js";
import { MatrixPortError } from "../../src/core/errors.js";
import { encodeBase64 } from "../../src/core/random.js";
import { GroupEventType, KeyEventType } from "../../src/matrix/eventTypes.js";
import { createNodeDelegate } from "../../src/node/index.js";
import {
  LocalHomeserver,
  ManualClock,
  RecordingKeyProvider,
  type LocalHomeserverOptions,
  type TranscriptEntry,
} from "../../src/testing/index.js";

/** The group call id of every test call. */
export const CALL_ID = "sfu-call";

/** One SFU participant: its client, VoIP, key provider, and once fetched its session and events. */
export interface SfuPeer {
  id: string;
  userId: string;
  deviceId: string;
  client: MatrixClientPort;
  voip: VoIP;
  keys: RecordingKeyProvider;
  group?: GroupCallSession;
  events: GroupCallEvent[];
}

/** A LiveKit backend like the apps use. */
export function livekitBackend(e2eeEnabled?: boolean): LiveKitBackend {
  return new LiveKitBackend({
    livekitServiceUrl: "https://livekit-jwt.local",
    livekitAlias: "sfu-room",
    ...(e2eeEnabled === undefined ? {} : { e2eeEnabled }),
  });
}

/** A homeserver on a manual clock with SFU participants in one room. */
export class SfuWorld {
  public readonly clock = new ManualClock();
  public readonly hs: LocalHomeserver;
  public readonly peers: SfuPeer[] = [];
  public roomId = "";

  public constructor(options: Omit<LocalHomeserverOptions, "clock"> = {}) {
    this.hs = new LocalHomeserver({ ...options, clock: this.clock });
  }

  /** Creates the call's room (TURN off) and remembers its id. */
  public async createRoom(opts: Parameters<LocalHomeserver["createRoom"]>[0]): Promise<string> {
    this.hs.setTurnServers(undefined);
    this.roomId = await this.hs.createRoom(opts);
    return this.roomId;
  }

  /**
   * A room created by `@p0:local` with `members`, where members may publish both famedly's and Element's call
   * membership (the mixed-call tests).
   */
  public createMixedCallRoom(members: string[], encrypted = true): Promise<string> {
    return this.createRoom({
      creator: "@p0:local",
      members,
      encrypted,
      powerLevels: { events: { [GroupEventType.Member]: 0, [GroupEventType.ElementMember]: 0 } },
    });
  }

  /** Creates `n` users `@p<i>:local` (device `P<i>`), a room with all of them, and their VoIPs. */
  public async setup(
    n: number,
    opts: { encrypted: boolean; voip?: VoipOptions; countFirst?: boolean },
  ): Promise<SfuPeer[]> {
    const users = Array.from({ length: n }, (_, i) => `@p${i}:local`);
    await this.createRoom({
      creator: users[0]!,
      members: users.slice(1),
      encrypted: opts.encrypted,
      powerLevels: { events: { "com.famedly.call.member": 0 } },
    });
    return users.map((userId, i) =>
      this.peer(userId, `P${i}`, opts.voip, i === 0 && opts.countFirst === true ? countingPort : undefined),
    );
  }

  /** Adds a participant (a user already in the room). */
  public peer(
    userId: string,
    deviceId: string,
    voip: VoipOptions = {},
    wrap: (client: MatrixClientPort) => MatrixClientPort = (c) => c,
  ): SfuPeer {
    const client = wrap(this.hs.createClient(userId, deviceId));
    const keys = new RecordingKeyProvider();
    const delegate = createNodeDelegate({ keyProvider: keys });
    const peer: SfuPeer = {
      id: `${userId}:${deviceId}`,
      userId,
      deviceId,
      client,
      voip: new VoIP(client, delegate, { clock: this.clock, ...voip }),
      keys,
      events: [],
    };
    this.peers.push(peer);
    return peer;
  }

  /** `fetchOrCreateGroupCall` (pre-sharing a key, as by default) then `enter()`, then lets everything settle. */
  public async join(
    peer: SfuPeer,
    backend = livekitBackend(),
    preShareKey = true,
  ): Promise<GroupCallSession> {
    const group = await peer.voip.fetchOrCreateGroupCall(CALL_ID, this.roomId, backend, "m.call", "m.room", {
      preShareKey,
    });
    if (peer.group !== group) {
      peer.group = group;
      group.on("event", (event) => peer.events.push(event));
    }
    await group.enter();
    await this.settle();
    return group;
  }

  /** Leaves and lets everything settle. */
  public async leave(peer: SfuPeer): Promise<void> {
    await peer.group?.leave();
    peer.group = undefined;
    await this.settle();
  }

  /** Lets the homeserver deliver everything in flight, and due timers run. */
  public async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.hs.flush();
      await this.clock.advance(0);
    }
  }

  /** Advances the clock and lets the homeserver deliver what that caused. */
  public async advance(ms: number): Promise<void> {
    await this.clock.advance(ms);
    await this.settle();
  }

  /** Peers currently in the call. */
  public inCall(): SfuPeer[] {
    return this.peers.filter((p) => p.group?.state === GroupCallState.Entered);
  }

  /** Every to-device key event the server accepted (any dialect). */
  public keyEvents(): TranscriptEntry[] {
    return this.hs
      .transcript()
      .filter(
        (e) => e.kind === "toDevice" && (e.type === KeyEventType.KeysV1 || e.type === KeyEventType.KeysV2),
      );
  }

  public async dispose(): Promise<void> {
    for (const peer of this.peers) {
      await peer.voip.dispose();
    }
    await this.hs.close();
  }
}

/** Expects every peer in the call to hold every other one's current key (the one it encrypts with). */
export function expectKeysConsistent(world: SfuWorld): void {
  const inCall = world.inCall();
  for (const owner of inCall) {
    const index = owner.keys.currentLocalIndex;
    expect(index, `${owner.id} uses a key`).toBeDefined();
    const key = owner.keys.keyOf(owner.id, index!);
    for (const other of inCall) {
      if (other !== owner) {
        expect(other.keys.keyOf(owner.id, index!), `${other.id} holds ${owner.id}'s key ${index}`).toEqual(
          key,
        );
      }
    }
  }
}

/** Every key (base64, as on the wire) any provider was given. */
export function allKeysBase64(world: SfuWorld): string[] {
  return world.peers.flatMap((p) => p.keys.log.map((entry) => encodeBase64(entry.key)));
}

/** A port whose `sendToDevice` calls are counted and can be made to fail. */
export type CountingPort = MatrixClientPort & {
  toDeviceCalls: { type: string; encrypted: boolean; devices: number }[];
  failNext: number;
  /** The HTTP status of the injected failures: 500 (what the port rejects with once its retries are spent) or 429. */
  failStatus: 500 | 429;
};

/** Wraps a port into a {@link CountingPort}. */
export function countingPort(client: MatrixClientPort): CountingPort {
  const state = {
    toDeviceCalls: [] as { type: string; encrypted: boolean; devices: number }[],
    failNext: 0,
    failStatus: 500 as 500 | 429,
  };
  return new Proxy(client, {
    get(target, property) {
      if (property === "toDeviceCalls") {
        return state.toDeviceCalls;
      }
      if (property === "failNext") {
        return state.failNext;
      }
      if (property === "failStatus") {
        return state.failStatus;
      }
      if (property === "sendToDevice") {
        return async (
          type: string,
          messages: Record<string, Record<string, object>>,
          opts?: { encrypted?: boolean },
        ) => {
          const devices = Object.values(messages).reduce(
            (n, byDevice) => n + Object.keys(byDevice).length,
            0,
          );
          state.toDeviceCalls.push({ type, encrypted: opts?.encrypted === true, devices });
          if (state.failNext > 0) {
            state.failNext--;
            throw state.failStatus === 429
              ? new MatrixPortError("M_LIMIT_EXCEEDED", 429, "injected rate limit")
              : new MatrixPortError("M_UNKNOWN", 500, "injected failure");
          }
          await target.sendToDevice(type, messages, opts);
        };
      }
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    set(target, property, value) {
      if (property === "failNext") {
        state.failNext = value as number;
        return true;
      }
      if (property === "failStatus") {
        state.failStatus = value as 500 | 429;
        return true;
      }
      return Reflect.set(target, property, value);
    },
  }) as CountingPort;
}

/** Publishes a famedly membership for `client` in the call, written in `dialect` (an app other than ours). */
export async function publishRawMembership(
  world: SfuWorld,
  client: MatrixClientPort,
  dialect: "famedly-v1" | "famedly-v2",
  membershipID = "raw-session",
): Promise<void> {
  const focus = {
    type: "livekit",
    livekit_service_url: "https://livekit-jwt.local",
    livekit_alias: "sfu-room",
  };
  const entry = {
    call_id: CALL_ID,
    application: "m.call",
    scope: "m.room",
    ...(dialect === "famedly-v1" ? { backend: focus } : { foci_active: [focus] }),
    device_id: client.deviceId,
    expires_ts: world.clock.now() + 6 * 60_000,
    membershipID,
  };
  await client.sendStateEvent(world.roomId, "com.famedly.call.member", client.userId, {
    memberships: [entry],
  });
  await world.settle();
}

/** Sends a famedly key event from `client` to `to` (encrypted), as another app would. */
export async function sendRawKeys(
  world: SfuWorld,
  client: MatrixClientPort,
  to: SfuPeer[],
  keys: { index: number; key: string }[],
  type: string = KeyEventType.KeysV2,
): Promise<void> {
  const content = {
    keys,
    call_id: CALL_ID,
    conf_id: CALL_ID,
    device_id: client.deviceId,
    room_id: world.roomId,
  };
  const messages: Record<string, Record<string, object>> = {};
  for (const peer of to) {
    (messages[peer.userId] ??= {})[peer.deviceId] = content;
  }
  await client.sendToDevice(type, messages, { encrypted: true });
  await world.settle();
}
