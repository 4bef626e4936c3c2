// The embedded default: every participant on an in-process LocalHomeserver.
import type { MatrixClientPort } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import type { OneToOneEnv } from "../scenarios/oneToOne.js";

/** A call environment (`OneToOneEnv` or {@link MeshEnv}) and how to tear it down. */
export interface DemoEnv<E = OneToOneEnv> {
  env: E;
  /** A one-line description for the header. */
  description: string;
  /** Stops every client (and the in-process homeserver). */
  close(): Promise<void>;
}

/** What the mesh scenario runs in: one Matrix client per participant, all joined to an encrypted room. */
export interface MeshEnv {
  /** One client per participant, each its own user and device. */
  members: MatrixClientPort[];
  /** The encrypted room everyone is joined to and may send call member state in. */
  roomId: string;
  /** The group call's id: fixed in-process; fresh per run on a real server, where the room may be reused. */
  callId: string;
}

/** Alice (caller) and Bob (callee) in a direct room on a fresh in-memory homeserver, without TURN. */
export async function createLocalEnv(): Promise<DemoEnv> {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], isDirect: true });
  const caller = hs.createClient("@alice:local", "ALICE");
  const callee = hs.createClient("@bob:local", "BOB");
  return {
    env: { caller, callee, roomId },
    description: `in-process homeserver, room ${roomId}`,
    close: () => hs.close(),
  };
}

/** `n` users (`@user1:local` … with devices `DEV1` …) in an encrypted room on a fresh in-memory homeserver. */
export async function createLocalMeshEnv(n: number): Promise<DemoEnv<MeshEnv>> {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const users = Array.from({ length: n }, (_, i) => `@user${i + 1}:local`);
  const roomId = await hs.createRoom({
    creator: users[0] ?? "@user1:local",
    members: users.slice(1),
    encrypted: true,
    powerLevels: { events: { "com.famedly.call.member": 0 } },
  });
  return {
    env: {
      members: users.map((userId, i) => hs.createClient(userId, `DEV${i + 1}`)),
      roomId,
      callId: "demo-mesh-call",
    },
    description: `in-process homeserver, encrypted room ${roomId}`,
    close: () => hs.close(),
  };
}
