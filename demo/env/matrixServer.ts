// A real homeserver: two matrix-js-sdk clients (Rust crypto) logged in with passwords, in a direct room.
import { ClientEvent, createClient, EventType, Preset, SyncState, type MatrixClient } from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import type { MatrixClientPort } from "../../src/index.js";
import { createMatrixJsSdkPort } from "../../src/matrix/adapters/matrixJsSdk/index.js";
import { waitFor } from "../scenarios/wait.js";
import type { DemoEnv } from "./local.js";

/** How to reach the server and who calls whom. */
export interface ServerLogin {
  homeserver: string;
  user: string;
  password: string;
  peerUser: string;
  peerPassword: string;
}

interface LoggedIn {
  client: MatrixClient;
  port: MatrixClientPort & { dispose(): void };
}

/**
 * Logs both users in (each with a fresh device: the crypto store is in memory), starts their clients with Rust
 * crypto and the `famedly-calls/matrix-js-sdk` port, and finds a direct room they are both joined to, or creates
 * one. `close()` stops the clients and logs the demo devices out again.
 */
export async function createServerEnv(login: ServerLogin, note: (what: string) => void): Promise<DemoEnv> {
  // The SDK's logger is a loglevel logger; Rust crypto traces at debug level through console.debug.
  (logger as Partial<{ setLevel(level: string): void }>).setLevel?.("error");
  console.debug = (): void => undefined;

  const start = async (user: string, password: string): Promise<LoggedIn> => {
    const response = await createClient({ baseUrl: login.homeserver }).loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user },
      password,
      initial_device_display_name: "famedly-calls demo",
    });
    const client = createClient({
      baseUrl: login.homeserver,
      userId: response.user_id,
      accessToken: response.access_token,
      deviceId: response.device_id,
    });
    await client.initRustCrypto({ useIndexedDB: false });
    const port = createMatrixJsSdkPort(client);
    const prepared = new Promise<void>((resolve, reject) => {
      const onSync = (state: SyncState): void => {
        if (state === SyncState.Prepared) {
          client.off(ClientEvent.Sync, onSync);
          resolve();
        } else if (state === SyncState.Error) {
          client.off(ClientEvent.Sync, onSync);
          reject(new Error(`the initial sync of ${response.user_id} failed`));
        }
      };
      client.on(ClientEvent.Sync, onSync);
    });
    await client.startClient({ initialSyncLimit: 1 });
    await prepared;
    note(`logged in ${response.user_id} as device ${response.device_id}`);
    return { client, port };
  };

  const started: LoggedIn[] = [];
  const close = async (): Promise<void> => {
    await Promise.allSettled(
      started.map(async ({ client, port }) => {
        port.dispose();
        client.stopClient();
        await client.logout(true);
      }),
    );
  };
  try {
    const caller = await start(login.user, login.password);
    started.push(caller);
    const callee = await start(login.peerUser, login.peerPassword);
    started.push(callee);
    const roomId = await findOrCreateDirectRoom(caller, callee, note);
    return {
      env: { caller: caller.port, callee: callee.port, roomId },
      description: `${login.homeserver}, room ${roomId}`,
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A room both are joined to, just the two of them (a direct room preferred); else a new direct room. */
async function findOrCreateDirectRoom(
  caller: LoggedIn,
  callee: LoggedIn,
  note: (what: string) => void,
): Promise<string> {
  const both = (roomId: string): boolean => {
    const info = caller.port.getRoom(roomId);
    const members = info?.joinedMembers ?? [];
    return (
      info?.myMembership === "join" &&
      members.length === 2 &&
      members.includes(callee.port.userId) &&
      callee.port.getRoom(roomId)?.myMembership === "join"
    );
  };
  const candidates = caller.port.getJoinedRoomIds().filter(both);
  const existing = candidates.find((id) => caller.port.getRoom(id)?.isDirect === true) ?? candidates[0];
  if (existing !== undefined) {
    note(`using the existing room ${existing}`);
    return existing;
  }
  const { room_id: roomId } = await caller.client.createRoom({
    preset: Preset.TrustedPrivateChat,
    is_direct: true,
    invite: [callee.port.userId],
    name: "famedly-calls demo",
  });
  await callee.client.joinRoom(roomId);
  await Promise.allSettled([
    markDirect(caller.client, callee.port.userId, roomId),
    markDirect(callee.client, caller.port.userId, roomId),
  ]);
  await waitFor(() => both(roomId), `both clients to see ${roomId} joined`, 15_000);
  note(`created the direct room ${roomId}`);
  return roomId;
}

/** Adds `roomId` to the user's `m.direct` account data under `peer`. */
async function markDirect(client: MatrixClient, peer: string, roomId: string): Promise<void> {
  const current: Record<string, string[] | undefined> =
    client.getAccountData(EventType.Direct)?.getContent() ?? {};
  const rooms = current[peer] ?? [];
  if (!rooms.includes(roomId)) {
    const next: Record<string, string[]> = {};
    for (const [user, ids] of Object.entries(current)) {
      if (ids !== undefined) {
        next[user] = ids;
      }
    }
    next[peer] = [...rooms, roomId];
    await client.setAccountData(EventType.Direct, next);
  }
}
