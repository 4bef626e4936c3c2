// A real homeserver for the mesh scenario: one account per participant, all joined to an encrypted room where every
// member may publish call memberships, every device known to every other's crypto (to-device signalling is Olm).
import { randomBytes } from "node:crypto";
import { Preset } from "matrix-js-sdk";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { canPublishMembership } from "../../src/voip/groupPowerLevels.js";
import type { ServerArgs } from "../args.js";
import { waitFor } from "../scenarios/wait.js";
import type { DemoEnv, MeshEnv } from "./local.js";
import { withAccounts, type LoggedIn, type SetupContext } from "./matrixServer.js";
import { DEFAULT_EVENT_LEVELS } from "../../src/testing/powerLevels.js";

/** The name of the rooms the mesh demo creates. */
const ROOM_NAME = "famedly-calls mesh demo";

/** How long joining and learning each other's devices may take (ms). */
const SETUP_WAIT_MS = 20_000;

/**
 * Logs every account in (fresh devices, Rust crypto), finds an encrypted room joined by exactly these users where
 * each may publish call memberships, or creates one and lets the others join, then waits until every client's
 * crypto knows every other demo device. The group call id is fresh per run, so memberships left in a reused room
 * by an earlier run that died are not part of this call.
 */
export async function createServerMeshEnv(server: ServerArgs, ctx: SetupContext): Promise<DemoEnv<MeshEnv>> {
  return withAccounts(server, ctx, async (accounts) => {
    const roomId = await findOrCreateMeshRoom(accounts, ctx);
    await waitForEachOthersDevices(accounts, ctx.signal);
    ctx.note(`every device knows every other device's keys`);
    return {
      env: {
        members: accounts.map((a) => a.port),
        roomId,
        callId: `demo-mesh-${randomBytes(4).toString("hex")}`,
      },
      description: `${server.homeserver}, encrypted room ${roomId}`,
    };
  });
}

/** An encrypted room joined by exactly `accounts`, each allowed to publish call memberships; else a new one. */
async function findOrCreateMeshRoom(accounts: LoggedIn[], { note, signal }: SetupContext): Promise<string> {
  const [creator, ...others] = accounts;
  if (creator === undefined) {
    throw new Error("a mesh needs accounts");
  }
  const users = accounts.map((a) => a.port.userId);
  const usable = (roomId: string): boolean => {
    const info = creator.port.getRoom(roomId);
    const joined = new Set(info?.joinedMembers ?? []);
    return (
      info?.encrypted === true &&
      joined.size === users.length &&
      users.every((u) => joined.has(u) && canPublishMembership(info.powerLevels, u)) &&
      accounts.every((a) => a.port.getRoom(roomId)?.myMembership === "join")
    );
  };
  const existing = creator.port.getJoinedRoomIds().find(usable);
  if (existing !== undefined) {
    note(`using the existing encrypted room ${existing}`);
    return existing;
  }
  const { room_id: roomId } = await creator.client.createRoom({
    preset: Preset.PrivateChat,
    name: ROOM_NAME,
    invite: others.map((a) => a.port.userId),
    initial_state: [
      { type: "m.room.encryption", state_key: "", content: { algorithm: "m.megolm.v1.aes-sha2" } },
    ],
    // `events` replaces the server's whole default map: keep its defaults, let members publish call memberships.
    power_level_content_override: {
      events: {
        ...DEFAULT_EVENT_LEVELS,
        [GroupEventType.Member]: 0,
      },
    },
  });
  for (const other of others) {
    await waitFor(
      () => other.port.getRoom(roomId)?.myMembership === "invite",
      `${other.port.userId} to see the invite to ${roomId}`,
      SETUP_WAIT_MS,
      signal,
    );
    await other.client.joinRoom(roomId);
  }
  await waitFor(() => usable(roomId), `everyone to see everyone joined in ${roomId}`, SETUP_WAIT_MS, signal);
  note(`created the encrypted room ${roomId} and everyone joined`);
  return roomId;
}

/** Waits until every client's crypto tracks every other demo device, so that to-device messages go out as Olm. */
async function waitForEachOthersDevices(accounts: LoggedIn[], signal: AbortSignal): Promise<void> {
  for (const a of accounts) {
    for (const b of accounts) {
      if (a === b) {
        continue;
      }
      const [userId, deviceId] = [b.port.userId, b.port.deviceId];
      await waitFor(
        async () =>
          (await a.client.getCrypto()?.getUserDeviceInfo([userId]))?.get(userId)?.has(deviceId) === true,
        `${a.port.userId} to know the keys of ${userId}/${deviceId}`,
        SETUP_WAIT_MS,
        signal,
      );
    }
  }
}
