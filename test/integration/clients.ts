// Test-side helpers for the Synapse suite: users, js-sdk clients with Rust crypto, rooms, waiting.
import { createHmac, randomBytes } from "node:crypto";
import { createClient, KnownMembership, type MatrixClient } from "matrix-js-sdk";
import { inject } from "vitest";
import {
  createMatrixJsSdkPort,
  type MatrixJsSdkPortOptions,
} from "../../src/matrix/adapters/matrixJsSdk/index.js";
import type { MatrixClientPort, SyncBatch } from "../../src/matrix/MatrixClientPort.js";
import { startClientAndSync } from "../../src/matrix/adapters/matrixJsSdk/initialSync.js";
import type { SynapseInfo } from "./synapse.js";
import { DEFAULT_EVENT_LEVELS } from "../../src/testing/powerLevels.js";

/** The running Synapse (from globalSetup). */
export function synapse(): SynapseInfo {
  return inject("synapse");
}

/** A registered user. */
export interface TestUser {
  userId: string;
  localpart: string;
  password: string;
}

/** A unique lower-case localpart (Synapse lower-cases localparts, the register MAC uses the raw one). */
export function uniqueName(prefix: string): string {
  return `${prefix.toLowerCase()}-${randomBytes(4).toString("hex")}`;
}

/** A fresh device id, e.g. `ALICE3F9A1C`: never reuse one with a new in-memory crypto store. */
export function freshDeviceId(prefix: string): string {
  return `${prefix.toUpperCase()}${randomBytes(3).toString("hex").toUpperCase()}`;
}

/** Registers a user through the admin shared-secret API (not rate-limited), without creating a device. */
export async function registerUser(prefix: string, info: SynapseInfo = synapse()): Promise<TestUser> {
  const localpart = uniqueName(prefix);
  const password = `pw-${randomBytes(8).toString("hex")}`;
  const url = `${info.baseUrl}/_synapse/admin/v1/register`;
  const { nonce } = (await (await fetch(url)).json()) as { nonce: string };
  const mac = createHmac("sha1", info.sharedSecret)
    .update(`${nonce}\0${localpart}\0${password}\0notadmin`)
    .digest("hex");
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nonce, username: localpart, password, admin: false, mac, inhibit_login: true }),
  });
  if (!response.ok) {
    throw new Error(`register ${localpart}: ${response.status} ${await response.text()}`);
  }
  const { user_id: userId } = (await response.json()) as { user_id: string };
  return { userId, localpart, password };
}

/** A started js-sdk client with Rust crypto and its port. */
export interface TestClient {
  user: TestUser;
  deviceId: string;
  client: MatrixClient;
  port: MatrixClientPort & { dispose(): void };
  /** Every sync batch the port delivered, in order. */
  batches: SyncBatch[];
  /** Stops the client and detaches the port (a stopped client cannot be restarted). */
  stop(): void;
}

/** Options of {@link startClient}. */
export interface StartClientOptions {
  /** Talk to Synapse through this URL (a recording proxy) instead of directly. */
  baseUrl?: string;
  /** Prefix of the fresh device id. */
  devicePrefix?: string;
  portOptions?: MatrixJsSdkPortOptions;
  info?: SynapseInfo;
}

/**
 * Logs `user` in with a fresh device, initialises Rust crypto (in memory), creates the port *before* the first
 * sync (so the initial sync arrives as `initial` batches), starts the client and waits for `PREPARED`.
 */
export async function startClient(user: TestUser, opts: StartClientOptions = {}): Promise<TestClient> {
  const info = opts.info ?? synapse();
  const baseUrl = opts.baseUrl ?? info.baseUrl;
  const deviceId = freshDeviceId(opts.devicePrefix ?? user.localpart.slice(0, 5));
  const login = await createClient({ baseUrl }).loginRequest({
    type: "m.login.password",
    identifier: { type: "m.id.user", user: user.localpart },
    password: user.password,
    device_id: deviceId,
    initial_device_display_name: deviceId,
  });
  const client = createClient({ baseUrl, userId: login.user_id, accessToken: login.access_token, deviceId });
  await client.initRustCrypto({ useIndexedDB: false });
  const port = createMatrixJsSdkPort(client, opts.portOptions);
  const batches: SyncBatch[] = [];
  port.onSync((batch) => {
    batches.push(batch);
  });
  await startClientAndSync(client, 20);
  return {
    user,
    deviceId,
    client,
    port,
    batches,
    stop: () => {
      port.dispose();
      client.stopClient();
    },
  };
}

/** Polls `check` until it returns a value other than `undefined`/`false`, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Waits until `client`'s crypto tracks `deviceId` of `userId` (the readiness rule for Olm, notes §4.3). */
export async function waitForDevice(client: MatrixClient, userId: string, deviceId: string): Promise<void> {
  await waitFor(`${client.getUserId() ?? "?"} to know ${userId}/${deviceId}`, async () => {
    const devices = await client.getCrypto()?.getUserDeviceInfo([userId]);
    return devices?.get(userId)?.has(deviceId) === true;
  });
}

/** The call member state type, which members (PL 0) may send in rooms made by {@link createRoom}. */
export const CALL_MEMBER_TYPE = "com.famedly.call.member";

/**
 * Creates a private room (room version 10) where members may send call member state (notes §2.2: `events`
 * replaces Synapse's whole default map, so the defaults are copied in), invites `members`, lets each join, and
 * waits until the creator's client sees them joined.
 */
export async function createRoom(
  creator: TestClient,
  members: TestClient[],
  opts: { encrypted?: boolean; name?: string } = {},
): Promise<string> {
  const { room_id: roomId } = await creator.client.createRoom({
    preset: "private_chat" as never,
    name: opts.name,
    room_version: "10",
    invite: [...new Set(members.map((m) => m.user.userId))],
    initial_state: opts.encrypted
      ? [{ type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } }]
      : [],
    power_level_content_override: {
      events: {
        ...DEFAULT_EVENT_LEVELS,
        [CALL_MEMBER_TYPE]: 0,
        "org.matrix.msc3401.call.member": 0,
      },
    },
  });
  for (const member of members) {
    await waitFor(
      `${member.user.userId} to see the invite`,
      () => member.client.getRoom(roomId) ?? undefined,
    );
    await member.client.joinRoom(roomId);
  }
  const everyone = [creator, ...members];
  for (const viewer of everyone) {
    await waitFor(`${viewer.deviceId} to see everyone joined in ${roomId}`, () => {
      const room = viewer.client.getRoom(roomId);
      if (room?.getMyMembership() !== (KnownMembership.Join as string)) {
        return false;
      }
      const joined = new Set(room.getJoinedMembers().map((m) => m.userId));
      return everyone.every((c) => joined.has(c.user.userId));
    });
  }
  return roomId;
}

/** Waits until each client's crypto tracks every other client's device: Olm works both ways between all of them. */
export async function waitForEachOther(clients: readonly TestClient[]): Promise<void> {
  for (const a of clients) {
    for (const b of clients) {
      if (a !== b) {
        await waitForDevice(a.client, b.user.userId, b.deviceId);
      }
    }
  }
}

/** Options of {@link startRoomWith}. */
export interface StartRoomOptions {
  /** An encrypted room (then every client also waits until Olm works with every other). */
  encrypted?: boolean;
  /** The first client talks to Synapse through this URL (a recording proxy). */
  firstBaseUrl?: string;
}

/**
 * One fresh user per prefix, each with one started client (the first through `firstBaseUrl` when given), all
 * joined to a new room that the first creates ({@link createRoom}); in an encrypted room every pair is Olm-ready.
 */
export async function startRoomWith(
  prefixes: readonly string[],
  opts: StartRoomOptions = {},
): Promise<{ clients: TestClient[]; roomId: string }> {
  const clients: TestClient[] = [];
  for (const [i, prefix] of prefixes.entries()) {
    const user = await registerUser(prefix);
    clients.push(
      await startClient(
        user,
        i === 0 && opts.firstBaseUrl !== undefined ? { baseUrl: opts.firstBaseUrl } : {},
      ),
    );
  }
  const [creator, ...members] = clients;
  if (creator === undefined) {
    throw new Error("startRoomWith needs at least one prefix");
  }
  const roomId = await createRoom(creator, members, { encrypted: opts.encrypted === true });
  if (opts.encrypted === true) {
    await waitForEachOther(clients);
  }
  return { clients, roomId };
}

/** Every timeline event of `roomId` that `tc`'s port delivered, in order. */
export function timelineOf(tc: TestClient, roomId: string): SyncBatch["rooms"][number]["timeline"] {
  return tc.batches.flatMap((b) => b.rooms.filter((r) => r.roomId === roomId).flatMap((r) => r.timeline));
}

/** Every state event of `roomId` that `tc`'s port delivered, in order. */
export function stateOf(tc: TestClient, roomId: string): SyncBatch["rooms"][number]["state"] {
  return tc.batches.flatMap((b) => b.rooms.filter((r) => r.roomId === roomId).flatMap((r) => r.state));
}

/** Every to-device event that `tc`'s port delivered, in order. */
export function toDeviceOf(tc: TestClient): SyncBatch["toDevice"] {
  return tc.batches.flatMap((b) => b.toDevice);
}
