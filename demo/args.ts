// The demo's command line (node:util parseArgs).
import { parseArgs } from "node:util";
import { SCENARIOS, type ScenarioName } from "./summary.js";

/** The `--help` text. */
export const USAGE = `Usage: npm run demo -- [options]

  --scenario one-to-one|mesh|sfu   what to run (default one-to-one)
  --participants N                 how many participants (one-to-one: 2; sfu: default 2, e.g. 5)
  --livekit                        sfu: real encrypted media through a local LiveKit server (built with Go,
                                     cached); per participant the frames decoded and the key index in use
  --json                           print a JSON summary as the last line
  --timeout MS                     overall time limit (default 30000)
  --homeserver URL                 run against a real homeserver instead of the in-process one, with
    --user U --password P            the caller's login and
    --peer-user U2 --peer-password P2  the callee's login
  --help                           this text

Exit code: 0 when every step succeeded, 1 when a step failed, 2 for bad arguments.`;

/** The parsed command line. */
export interface DemoArgs {
  scenario: ScenarioName;
  participants: number;
  json: boolean;
  /** sfu: real media through a local LiveKit server. */
  livekit: boolean;
  timeoutMs: number;
  server?: { homeserver: string; user: string; password: string; peerUser: string; peerPassword: string };
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
      "peer-user": { type: "string" },
      "peer-password": { type: "string" },
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
  const participants =
    values.participants === undefined ? (values.livekit ? 3 : 2) : Number(values.participants);
  if (!Number.isInteger(participants) || participants < 2) {
    throw new UsageError(`--participants must be an integer >= 2, got "${values.participants ?? ""}"`);
  }
  const timeoutMs = Number(values.timeout);
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new UsageError(`--timeout must be a positive number of milliseconds, got "${values.timeout}"`);
  }
  const login = {
    homeserver: values.homeserver,
    user: values.user,
    password: values.password,
    peerUser: values["peer-user"],
    peerPassword: values["peer-password"],
  };
  const given = Object.entries(login).filter(([, v]) => v !== undefined);
  const args: DemoArgs = {
    scenario: scenario as ScenarioName,
    participants,
    json: values.json,
    livekit: values.livekit,
    timeoutMs,
  };
  if (given.length > 0) {
    const missing = Object.entries(login)
      .filter(([, v]) => v === undefined)
      .map(([k]) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
    if (missing.length > 0) {
      throw new UsageError(
        `a real server needs --homeserver, --user, --password, --peer-user and --peer-password; missing ${missing.join(", ")}`,
      );
    }
    args.server = {
      homeserver: login.homeserver!,
      user: login.user!,
      password: login.password!,
      peerUser: login.peerUser!,
      peerPassword: login.peerPassword!,
    };
  }
  return args;
}
