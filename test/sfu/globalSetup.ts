// vitest globalSetup of the SFU suite: builds (cached) and starts one LiveKit server for all test files and stops it
// at the end, also when tests fail (teardown) or the process dies (exit handler, PR_SET_PDEATHSIG through setpriv).
// A server that cannot be built or started fails the suite; it never skips.
import type { TestProject } from "vitest/node";
import { provisionLiveKit, startLiveKit, type LiveKitInfo, type LiveKitServer } from "./livekitServer.js";

declare module "vitest" {
  export interface ProvidedContext {
    livekit: LiveKitInfo;
  }
}

let server: LiveKitServer | undefined;

/** Provisions and starts the server, then provides its {@link LiveKitInfo} to the test files. */
export async function setup(project: TestProject): Promise<void> {
  if (process.env.FAMEDLY_CALLS_NO_LIVEKIT === "1") {
    console.log("[livekit] not started (FAMEDLY_CALLS_NO_LIVEKIT=1: only test/browser runs)");
    return;
  }
  const t0 = Date.now();
  const bin = await provisionLiveKit();
  const provisionMs = Date.now() - t0;
  server = await startLiveKit(bin);
  console.log(
    `[livekit] provisioned in ${provisionMs} ms, started in ${server.startMs} ms at ${server.wsUrl}`,
  );
  const { wsUrl, httpUrl, apiKey, apiSecret, stunServers } = server;
  project.provide("livekit", { wsUrl, httpUrl, apiKey, apiSecret, stunServers });
}

/** Stops the server and deletes its folder. */
export async function teardown(): Promise<void> {
  const t0 = Date.now();
  await server?.stop();
  server = undefined;
  console.log(`[livekit] stopped in ${Date.now() - t0} ms`);
}
