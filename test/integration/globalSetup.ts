// vitest globalSetup of the integration suite: provisions and starts one Synapse for all test files and stops
// it at the end, also when tests fail (teardown) or the process dies (exit handler, PR_SET_PDEATHSIG).
import type { TestProject } from "vitest/node";
import { provisionSynapse, startSynapse, type SynapseInfo, type SynapseServer } from "./synapse.js";

declare module "vitest" {
  export interface ProvidedContext {
    synapse: SynapseInfo;
  }
}

let server: SynapseServer | undefined;

/** Provisions (cached) and starts Synapse, then provides its {@link SynapseInfo} to the test files. */
export async function setup(project: TestProject): Promise<void> {
  const t0 = Date.now();
  const venv = await provisionSynapse();
  const provisionMs = Date.now() - t0;
  server = await startSynapse(venv);
  console.log(
    `[synapse] provisioned in ${provisionMs} ms, started in ${server.startMs} ms at ${server.baseUrl}`,
  );
  const { baseUrl, serverName, sharedSecret, turnUris, turnSecret, dbPath } = server;
  project.provide("synapse", { baseUrl, serverName, sharedSecret, turnUris, turnSecret, dbPath });
}

/** Stops Synapse and deletes its data folder. */
export async function teardown(): Promise<void> {
  const t0 = Date.now();
  await server?.stop();
  server = undefined;
  console.log(`[synapse] stopped in ${Date.now() - t0} ms`);
}
