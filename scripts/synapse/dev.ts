// `npm run synapse:dev`: provisions and starts a throwaway Synapse on 127.0.0.1, registers two users, prints how
// to run the demo against it, and keeps running until Ctrl-C (then stops Synapse and deletes its data).
//   npm run synapse:dev                 # start and wait
//   npm run synapse:dev -- --run-demo   # start, run `npm run demo -- --homeserver …` once, stop; exit with its code
import { spawnSync } from "node:child_process";
import { createHmac, randomBytes } from "node:crypto";
import { parseArgs } from "node:util";
import { provisionSynapse, startSynapse, type SynapseServer } from "../../test/integration/synapse.js";

async function register(server: SynapseServer, username: string, password: string): Promise<string> {
  const url = `${server.baseUrl}/_synapse/admin/v1/register`;
  const { nonce } = (await (await fetch(url)).json()) as { nonce: string };
  const mac = createHmac("sha1", server.sharedSecret)
    .update(`${nonce}\0${username}\0${password}\0notadmin`)
    .digest("hex");
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ nonce, username, password, admin: false, mac, inhibit_login: true }),
  });
  if (!response.ok) {
    throw new Error(`register ${username}: ${response.status} ${await response.text()}`);
  }
  return ((await response.json()) as { user_id: string }).user_id;
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { "run-demo": { type: "boolean", default: false } } });
  console.log("provisioning Synapse (cached after the first run)…");
  const venv = await provisionSynapse();
  const server = await startSynapse(venv);
  const password = `pw-${randomBytes(6).toString("hex")}`;
  const alice = await register(server, "alice", password);
  const bob = await register(server, "bob", password);
  const demoArgs = [
    "--homeserver",
    server.baseUrl,
    "--user",
    "alice",
    "--password",
    password,
    "--peer-user",
    "bob",
    "--peer-password",
    password,
  ];
  console.log(
    `Synapse ${server.baseUrl} is up (started in ${server.startMs} ms); users ${alice} and ${bob}.`,
  );
  console.log(`Run the demo against it:\n  npm run demo -- ${demoArgs.join(" ")}`);
  if (values["run-demo"]) {
    const result = spawnSync("npx", ["tsx", "demo/cli.ts", ...demoArgs], { stdio: "inherit" });
    await server.stop();
    return result.status ?? 1;
  }
  console.log("Ctrl-C stops Synapse and deletes its data.");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  await server.stop();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
