// A real homeserver: matrix-js-sdk clients (Rust crypto) logged in with passwords; the one-to-one scenario's direct
// room (the mesh scenario's room: serverMesh.ts).
import { createClient, EventType, Preset, type MatrixClient } from "matrix-js-sdk";
import { logger } from "matrix-js-sdk/lib/logger.js";
import type { MatrixClientPort } from "../../src/index.js";
import { createMatrixJsSdkPort } from "../../src/matrix/adapters/matrixJsSdk/index.js";
import { startClientAndSync } from "../../src/matrix/adapters/matrixJsSdk/initialSync.js";
import type { AccountLogin, ServerArgs } from "../args.js";
import { waitFor } from "../scenarios/wait.js";
import type { DemoEnv } from "./local.js";

/** A logged-in account: its started client and the port the VoIP uses. */
export interface LoggedIn {
  client: MatrixClient;
  port: MatrixClientPort & { dispose(): void };
}

let quieted = false;

/**
 * Keeps the SDK's chatter out of the demo's timeline. The demo prints through `process.stdout` and `console.error`;
 * matrix-js-sdk logs through `console.*` from prefixed child loggers that each fix their level at debug, and
 * `initRustCrypto` turns Rust crypto's tracing on at debug level (also `console.*`). Errors stay, except
 * `MatrixRTCSessionManager`'s "room state event for unknown room", which it logs for every state event of a room
 * we were just invited to.
 */
function quietSdkLogs(): void {
  if (quieted) {
    return;
  }
  quieted = true;
  (logger as Partial<{ setLevel(level: string): void }>).setLevel?.("error");
  const quiet = (): void => undefined;
  console.debug = quiet;
  console.info = quiet;
  console.log = quiet;
  console.warn = quiet;
  const error = console.error.bind(console);
  console.error = (...args: unknown[]): void => {
    const [first] = args;
    if (!(typeof first === "string" && first.startsWith("[MatrixRTCSessionManager]"))) {
      error(...args);
    }
  };
}

/**
 * Logs `account` in with a fresh device (the crypto store is in memory), starts its client with Rust crypto and
 * the `famedly-calls/matrix-js-sdk` port, and waits for the initial sync.
 */
export async function logIn(
  homeserver: string,
  account: AccountLogin,
  note: (what: string) => void,
): Promise<LoggedIn> {
  quietSdkLogs();
  const response = await createClient({ baseUrl: homeserver })
    .loginRequest({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: account.user },
      password: account.password,
      initial_device_display_name: "famedly-calls demo",
    })
    .catch((error: unknown) => {
      throw new Error(`logging in ${account.user} failed: ${(error as Error).message}`, { cause: error });
    });
  const client = createClient({
    baseUrl: homeserver,
    userId: response.user_id,
    accessToken: response.access_token,
    deviceId: response.device_id,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  const port = createMatrixJsSdkPort(client);
  await startClientAndSync(client, 1);
  note(`logged in ${response.user_id} as device ${response.device_id}`);
  return { client, port };
}

/** What setting up a real-server environment gets from the CLI. */
export interface SetupContext {
  /** Adds a line to the timeline. */
  note: (what: string) => void;
  /** Aborted when the CLI gives up (`--timeout`): the setup stops and logs out whoever it logged in. */
  signal: AbortSignal;
}

/**
 * Logs every account in, one after the other, then runs `setUp` on them. `close()` of the result (and a failure or
 * an abort on the way) detaches the ports, stops the clients and logs the demo devices out again.
 */
export async function withAccounts<E>(
  server: ServerArgs,
  { note, signal }: SetupContext,
  setUp: (accounts: LoggedIn[]) => Promise<{ env: E; description: string }>,
): Promise<DemoEnv<E>> {
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
    for (const account of server.accounts) {
      signal.throwIfAborted();
      started.push(await logIn(server.homeserver, account, note));
    }
    signal.throwIfAborted();
    const env = await setUp(started);
    signal.throwIfAborted();
    return { ...env, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The one-to-one scenario's environment: the first two accounts in a direct room they share (found or created). */
export async function createServerEnv(server: ServerArgs, ctx: SetupContext): Promise<DemoEnv> {
  return withAccounts(server, ctx, async ([caller, callee]) => {
    if (caller === undefined || callee === undefined) {
      throw new Error("a one-to-one call needs two accounts");
    }
    const roomId = await findOrCreateDirectRoom(caller, callee, ctx);
    return {
      env: { caller: caller.port, callee: callee.port, roomId },
      description: `${server.homeserver}, room ${roomId}`,
    };
  });
}

/** A room both are joined to, just the two of them (a direct room preferred); else a new direct room. */
async function findOrCreateDirectRoom(
  caller: LoggedIn,
  callee: LoggedIn,
  { note, signal }: SetupContext,
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
  await waitFor(() => both(roomId), `both clients to see ${roomId} joined`, 15_000, signal);
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
