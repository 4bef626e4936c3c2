// The demo's command line (node:util parseArgs).
import { parseArgs } from "node:util";
import { SCENARIOS, type ScenarioName } from "./summary.js";

/** The `--help` text. */
export const USAGE = `Usage: npm run demo -- [options]

  --scenario one-to-one|mesh|sfu   what to run (default one-to-one)
  --participants N                 how many participants (one-to-one: 2; mesh and sfu: default 2, e.g. 4;
                                     with --homeserver: 1 + the number of --peer-user, may be left out)
  --livekit                        sfu: real encrypted media through a local LiveKit server (built with Go,
                                     cached); per participant the frames decoded and the key index in use
  --json                           print a JSON summary as the last line
  --timeout MS                     time limit of the run, and with --homeserver also of the login and room
                                     setup before it (default 30000)
  --homeserver URL                 run against a real homeserver instead of the in-process one (one-to-one
                                     and mesh), one account per participant:
    --user U --password P            the first account (one-to-one: the caller)
    --peer-user U2 ...               every other account, repeated for a mesh: --peer-user bob --peer-user carol
    --peer-password P2 ...           once for every peer, or once per --peer-user in the same order
  --help                           this text

Examples:
  npm run demo -- --scenario mesh --participants 4 --json
  npm run demo -- --scenario mesh --homeserver http://127.0.0.1:8008 --user alice --password pw \\
    --peer-user bob --peer-user carol --peer-user dave --peer-password pw

Exit code: 0 when every step succeeded, 1 when a step failed, 2 for bad arguments.`;

/** One account on a real homeserver. */
export interface AccountLogin {
  /** The user's localpart or full user id. */
  user: string;
  password: string;
}

/** A real homeserver and the accounts of the participants. */
export interface ServerArgs {
  homeserver: string;
  /** One per participant; the first is `--user` (one-to-one: the caller), then the `--peer-user`s in order. */
  accounts: AccountLogin[];
}

/** The parsed command line. */
export interface DemoArgs {
  scenario: ScenarioName;
  participants: number;
  json: boolean;
  /** sfu: real media through a local LiveKit server. */
  livekit: boolean;
  timeoutMs: number;
  server?: ServerArgs;
}

/** A usage error: the CLI prints it with the usage and exits with code 2. */
export class UsageError extends Error {}

/**
 * Parses and validates `argv` (without the node and script entries).
 * @throws {UsageError} for unknown options and bad values; `parseArgs` errors pass through (also usage errors).
 */
export function parseDemoArgs(argv: string[]): DemoArgs | "help" {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      scenario: { type: "string", default: "one-to-one" },
      participants: { type: "string" },
      json: { type: "boolean", default: false },
      livekit: { type: "boolean", default: false },
      timeout: { type: "string", default: "30000" },
      homeserver: { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      "peer-user": { type: "string", multiple: true },
      "peer-password": { type: "string", multiple: true },
      help: { type: "boolean", default: false },
    },
  });
  if (values.help) {
    return "help";
  }
  const scenario = values.scenario;
  if (!(SCENARIOS as readonly string[]).includes(scenario)) {
    throw new UsageError(`unknown scenario "${scenario}" (one of ${SCENARIOS.join(", ")})`);
  }
  if (values.livekit && scenario !== "sfu") {
    throw new UsageError("--livekit needs --scenario sfu");
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`--timeout must be a positive number of milliseconds, got "${values.timeout}"`);
  }
  const server = parseServer(values);
  if (server !== undefined && scenario === "one-to-one" && server.accounts.length !== 2) {
    throw new UsageError(
      `a one-to-one call is between --user and one --peer-user, got ${server.accounts.length - 1} peers (more: --scenario mesh)`,
    );
  }
  const participants =
    values.participants === undefined
      ? (server?.accounts.length ?? (values.livekit ? 3 : 2))
      : Number(values.participants);
  if (!Number.isInteger(participants) || participants < 2) {
    throw new UsageError(`--participants must be an integer >= 2, got "${values.participants ?? ""}"`);
  }
  if (server !== undefined && participants !== server.accounts.length) {
    throw new UsageError(
      `--participants ${participants} needs as many accounts, got ${server.accounts.length} ` +
        `(--user and ${server.accounts.length - 1} --peer-user)`,
    );
  }
  const args: DemoArgs = {
    scenario: scenario as ScenarioName,
    participants,
    json: values.json,
    livekit: values.livekit,
    timeoutMs,
  };
  if (server !== undefined) {
    args.server = server;
  }
  return args;
}

/** The login options as parsed. */
interface LoginValues {
  homeserver?: string | undefined;
  user?: string | undefined;
  password?: string | undefined;
  "peer-user"?: string[] | undefined;
  "peer-password"?: string[] | undefined;
}

/** The real-server accounts, or undefined when no login option is given. */
function parseServer(values: LoginValues): ServerArgs | undefined {
  const peerUsers = values["peer-user"] ?? [];
  const peerPasswords = values["peer-password"] ?? [];
  const options = {
    homeserver: values.homeserver !== undefined,
    user: values.user !== undefined,
    password: values.password !== undefined,
    "peer-user": peerUsers.length > 0,
    "peer-password": peerPasswords.length > 0,
  };
  if (!Object.values(options).some(Boolean)) {
    return undefined;
  }
  const missing = Object.entries(options)
    .filter(([, given]) => !given)
    .map(([name]) => `--${name}`);
  if (missing.length > 0) {
    throw new UsageError(
      `a real server needs --homeserver, --user, --password, --peer-user and --peer-password; missing ${missing.join(", ")}`,
    );
  }
  if (peerPasswords.length !== 1 && peerPasswords.length !== peerUsers.length) {
    throw new UsageError(
      `give --peer-password once for every peer or once per --peer-user; got ${peerPasswords.length} for ${peerUsers.length} peers`,
    );
  }
  const accounts: AccountLogin[] = [
    { user: values.user ?? "", password: values.password ?? "" },
    ...peerUsers.map((user, i) => ({ user, password: peerPasswords[i] ?? peerPasswords[0] ?? "" })),
  ];
  const seen = new Set<string>();
  for (const { user } of accounts) {
    if (seen.has(user)) {
      throw new UsageError(`every participant needs its own account; "${user}" is given twice`);
    }
    seen.add(user);
  }
  return { homeserver: values.homeserver ?? "", accounts };
}
