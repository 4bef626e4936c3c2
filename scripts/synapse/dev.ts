// `npm run synapse:dev`: provisions and starts a throwaway Synapse on 127.0.0.1, registers users (alice, bob, carol,
// dave unless --users N says otherwise), prints how to run the one-to-one and the mesh demo against it, and keeps
// running until Ctrl-C (then stops Synapse and deletes its data).
//   npm run synapse:dev                                   # start and wait
//   npm run synapse:dev -- --users 6                      # six accounts: the mesh command has six participants
//   npm run synapse:dev -- --run-demo                     # start, run the one-to-one demo once, stop; its exit code
//   npm run synapse:dev -- --run-demo --scenario mesh     # the same with the mesh demo between every account
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

const NAMES = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"];

/** The demo arguments that log `users` in (the first as `--user`, the others as peers sharing one password). */
function loginArgs(baseUrl: string, users: string[], password: string): string[] {
  const [first, ...peers] = users;
  return [
    "--homeserver",
    baseUrl,
    "--user",
    first ?? "",
    "--password",
    password,
    ...peers.flatMap((peer) => ["--peer-user", peer]),
    "--peer-password",
    password,
  ];
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      "run-demo": { type: "boolean", default: false },
      scenario: { type: "string", default: "one-to-one" },
      users: { type: "string", default: "4" },
    },
  });
  const count = Number(values.users);
  if (!Number.isInteger(count) || count < 2 || count > 16) {
    console.error(`synapse:dev: --users must be an integer from 2 to 16, got "${values.users}"`);
    return 2;
  }
  if (values.scenario !== "one-to-one" && values.scenario !== "mesh") {
    console.error(`synapse:dev: --scenario is one-to-one or mesh, got "${values.scenario}"`);
    return 2;
  }
  console.log("provisioning Synapse (cached after the first run)…");
  const venv = await provisionSynapse();
  const server = await startSynapse(venv);
  const password = `pw-${randomBytes(6).toString("hex")}`;
  const names = Array.from({ length: count }, (_, i) => NAMES[i] ?? `user${i + 1}`);
  const userIds: string[] = [];
  for (const name of names) {
    userIds.push(await register(server, name, password));
  }
  const oneToOne = loginArgs(server.baseUrl, names.slice(0, 2), password);
  const mesh = ["--scenario", "mesh", ...loginArgs(server.baseUrl, names, password)];
  console.log(
    `Synapse ${server.baseUrl} is up (started in ${server.startMs} ms); users ${userIds.join(", ")}.`,
  );
  console.log(`Run the one-to-one demo against it:\n  npm run demo -- ${oneToOne.join(" ")}`);
  console.log(`Or the mesh demo between all ${count}:\n  npm run demo -- ${mesh.join(" ")}`);
  if (values["run-demo"]) {
    const demoArgs = values.scenario === "mesh" ? [...mesh, "--timeout", "60000"] : oneToOne;
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
