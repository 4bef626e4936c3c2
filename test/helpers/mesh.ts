import {
  CallState,
  MeshBackend,
  type CallSession,
  type GroupCallSession,
  type MatrixClientPort,
  type VoipOptions,
} from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import { makePeer, until, type Peer } from "./calls.js";

/** One mesh member: a peer (client, delegate, VoIP) and its group call. */
export interface MeshMember extends Peer {
  group: GroupCallSession;
}

/** A homeserver, a room where everyone may publish a call membership, and a way to add members. */
export interface MeshWorld {
  hs: LocalHomeserver;
  roomId: string;
  members: MeshMember[];
  /** Creates a member (a peer and its group call, not entered). */
  add(userId: string, deviceId?: string, voip?: VoipOptions, client?: MatrixClientPort): Promise<MeshMember>;
  close(): Promise<void>;
}

/** Users `@u0:local` … allowed to publish memberships; audio-only delegates (video: false) by default. */
export async function meshWorld(
  userIds: readonly string[],
  opts: { hs?: LocalHomeserver; encrypted?: boolean; video?: boolean } = {},
): Promise<MeshWorld> {
  const hs = opts.hs ?? new LocalHomeserver();
  const [creator, ...rest] = userIds;
  const roomId = await hs.createRoom({
    creator: creator ?? "@u0:local",
    members: rest,
    encrypted: opts.encrypted ?? false,
    powerLevels: { events: { "com.famedly.call.member": 0 } },
  });
  const members: MeshMember[] = [];
  const world: MeshWorld = {
    hs,
    roomId,
    members,
    async add(userId, deviceId = "DEVICE", voip = {}, client) {
      const peer = makePeer(hs, userId, deviceId, {
        delegate: opts.video === true ? {} : { video: false },
        voip,
        ...(client ? { client } : {}),
      });
      const group = await peer.voip.fetchOrCreateGroupCall(roomId, roomId, new MeshBackend());
      const member = { ...peer, group };
      members.push(member);
      return member;
    },
    async close() {
      await Promise.all(members.map((m) => m.voip.dispose()));
      await hs.close();
    },
  };
  return world;
}

/** The connected leg of `from` to `to`, if any. */
export function legTo(from: MeshMember, to: MeshMember): CallSession | undefined {
  return from.group.calls.find(
    (leg) =>
      leg.remoteUserId === to.userId &&
      leg.remoteDeviceId === to.deviceId &&
      leg.state === CallState.Connected,
  );
}

/** Waits until every pair of `members` has a connected leg on both sides. */
export async function untilFullMesh(members: readonly MeshMember[], timeoutMs = 20_000): Promise<void> {
  await until(
    () => members.every((a) => members.every((b) => a === b || legTo(a, b) !== undefined)),
    `a full mesh of ${members.length}`,
    timeoutMs,
  );
}

/** Pairs `[a, b]` with a before b. */
export function pairsOf<T>(items: readonly T[]): [T, T][] {
  const pairs: [T, T][] = [];
  items.forEach((a, i) => {
    for (const b of items.slice(i + 1)) {
      pairs.push([a, b]);
    }
  });
  return pairs;
}

const SENDS = new Set([
  "sendRoomEvent",
  "sendStateEvent",
  "sendToDevice",
  "updateDelayedEvent",
  "redactEvent",
]);

/**
 * A client that can "crash": afterwards it delivers no sync batch and every send vanishes (resolves without
 * reaching the server), as when the app is killed. The device stays registered on the server.
 */
export function crashableClient(inner: MatrixClientPort): { client: MatrixClientPort; crash: () => void } {
  let dead = false;
  const client = new Proxy(inner, {
    get(target, prop) {
      const value: unknown = Reflect.get(target, prop, target);
      if (typeof value !== "function") {
        return value;
      }
      if (prop === "onSync") {
        return (listener: Parameters<MatrixClientPort["onSync"]>[0]) =>
          target.onSync((batch) => (dead ? undefined : listener(batch)));
      }
      if (typeof prop === "string" && SENDS.has(prop)) {
        return (...args: unknown[]) =>
          dead
            ? Promise.resolve({ eventId: "$lost" })
            : (value as (...a: unknown[]) => unknown).apply(target, args);
      }
      return (value as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return {
    client,
    crash: () => {
      dead = true;
    },
  };
}
