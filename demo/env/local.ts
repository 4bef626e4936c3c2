// The embedded default: both participants on an in-process LocalHomeserver.
import { LocalHomeserver } from "../../src/testing/index.js";
import type { OneToOneEnv } from "../scenarios/oneToOne.js";

/** A call environment and how to tear it down. */
export interface DemoEnv {
  env: OneToOneEnv;
  /** A one-line description for the header. */
  description: string;
  close(): Promise<void>;
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
