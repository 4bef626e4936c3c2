// `npm run demo`: participants in one process, real WebRTC, a readable timeline; `--json` for machines.
import { installExitGuard } from "../src/node/index.js";
import { parseDemoArgs, USAGE, type DemoArgs, type ServerArgs } from "./args.js";
import { createLocalEnv, createLocalMeshEnv, type DemoEnv } from "./env/local.js";
import type { SetupContext } from "./env/matrixServer.js";
import { OneToOneScenario } from "./scenarios/oneToOne.js";
import { MeshScenario } from "./scenarios/mesh.js";
import { SfuScenario } from "./scenarios/sfu.js";
import type { SfuMediaScenario } from "./scenarios/sfuMedia.js";
import type { Scenario } from "./scenarios/steps.js";
import { withTimeout } from "./scenarios/wait.js";
import type { ScenarioOutcome } from "./summary.js";
import { Timeline } from "./timeline.js";

async function main(): Promise<number> {
  let args: DemoArgs | "help";
  try {
    args = parseDemoArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`demo: ${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  if (args.scenario === "sfu") {
    return runSfu(args);
  }
  if (args.scenario === "mesh") {
    return runMesh(args);
  }
  if (args.participants !== 2) {
    console.error(
      `demo: a one-to-one call has exactly 2 participants, got --participants ${args.participants}`,
    );
    return 2;
  }
  installExitGuard();
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const timeline = new Timeline(print);
  print(`famedly-calls demo: ${args.scenario}, real WebRTC (@roamhq/wrtc)`);

  const demoEnv = await setUpEnv(args, timeline, createLocalEnv, async (server, ctx) => {
    const { createServerEnv } = await import("./env/matrixServer.js");
    return createServerEnv(server, ctx);
  });
  if (demoEnv === undefined) {
    return 1;
  }

  const scenario = new OneToOneScenario(demoEnv.env, { timeline });
  let outcome: ScenarioOutcome;
  try {
    outcome = await withTimeout(scenario.run(), `the whole scenario (${args.timeoutMs} ms)`, args.timeoutMs);
  } catch (error) {
    const failure = { step: scenario.currentStep, message: (error as Error).message };
    timeline.add("demo", `✗ step "${failure.step}" failed: ${failure.message}`);
    outcome = scenario.snapshot(failure);
  }
  await withTimeout(Promise.allSettled([scenario.dispose(), demoEnv.close()]), "cleanup", 5000).catch(
    () => undefined,
  );

  const { summary } = outcome;
  print("");
  for (const p of summary.participants) {
    print(`  ${p.userId}:${p.deviceId}  states ${p.states.join(" → ")}`);
    print(`    received ${p.audioBytesReceived} audio bytes, ${p.videoFramesReceived} video frames`);
  }
  print(
    `  setup ${summary.setupMs} ms, hangup reason ${summary.hangupReason === undefined || summary.hangupReason === "" ? "-" : summary.hangupReason}`,
  );
  return finish(outcome, scenario, "not every step ran", args.json, print);
}

/**
 * `--scenario mesh`: a mesh group call of `--participants` members on the in-process homeserver, or with
 * `--homeserver` between the given accounts on a real one.
 */
async function runMesh(args: DemoArgs): Promise<number> {
  installExitGuard();
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const timeline = new Timeline(print, 26);
  print(`famedly-calls demo: mesh, ${args.participants} participants, real WebRTC (@roamhq/wrtc)`);
  const demoEnv = await setUpEnv(
    args,
    timeline,
    () => createLocalMeshEnv(args.participants),
    async (server, ctx) => {
      const { createServerMeshEnv } = await import("./env/serverMesh.js");
      return createServerMeshEnv(server, ctx);
    },
  );
  if (demoEnv === undefined) {
    return 1;
  }
  const scenario = new MeshScenario(demoEnv.env, { timeline });
  const outcome = await runWithDeadline(scenario, timeline, args.timeoutMs);
  await withTimeout(demoEnv.close(), "cleanup", 5000).catch(() => undefined);
  const { summary } = outcome;
  print("");
  for (const p of summary.pairs ?? []) {
    print(
      `  ${p.a} ⇄ ${p.b}  connected ${p.connectedMs ?? "-"} ms, audio bytes ${p.bytesAtoB} → / ← ${p.bytesBtoA}`,
    );
  }
  print(`  pairs connected: ${summary.pairsConnected ?? 0}, full mesh after ${summary.setupMs} ms`);
  return finish(outcome, scenario, "not every pair carried audio", args.json, print);
}

/** `--scenario sfu`: key distribution among `--participants` members on the in-process homeserver. */
async function runSfu(args: DemoArgs): Promise<number> {
  if (args.server !== undefined) {
    console.error("demo: the sfu scenario runs on the in-process homeserver only (no --homeserver)");
    return 2;
  }
  installExitGuard();
  const print = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  const timeline = new Timeline(print, 26);
  print(
    `famedly-calls demo: sfu, ${args.participants} participants, LiveKit end-to-end media keys` +
      (args.livekit ? ", encrypted media through a local LiveKit server" : ""),
  );
  let scenario: SfuScenario | SfuMediaScenario;
  if (args.livekit) {
    // @livekit/rtc-node logs at debug level unless NODE_ENV=production; it reads that when first imported.
    process.env.NODE_ENV ??= "production";
    const media = await import("./scenarios/sfuMedia.js");
    scenario = new media.SfuMediaScenario({ timeline, participants: args.participants });
  } else {
    scenario = new SfuScenario({ timeline, participants: args.participants });
  }
  const outcome = await runWithDeadline(scenario, timeline, args.timeoutMs);
  const { summary } = outcome;
  print("");
  for (const p of args.livekit ? summary.participants : []) {
    print(
      `  ${p.userId}:${p.deviceId} decoded ${p.videoFramesReceived} video and ${p.audioFramesDecoded ?? 0} audio frames` +
        ` of the others, encrypts with key #${p.keyIndex ?? "?"}`,
    );
  }
  for (const [who, keys] of Object.entries(summary.keys ?? {})) {
    print(`  ${who} holds ${keys.map(([p, i]) => `${p}#${i}`).join(" ")}`);
  }
  print(`  keys consistent: ${String(summary.keysConsistent)}, setup ${summary.setupMs} ms`);
  return finish(outcome, scenario, "keys are not consistent", args.json, print);
}

/**
 * The participants' environment: the in-process one, or with `--homeserver` the accounts logged in on the real
 * server within `--timeout` (past it the setup is aborted and, for up to 10 s, left to log out whom it logged in).
 * Undefined (after printing why) when that fails.
 */
async function setUpEnv<E>(
  args: DemoArgs,
  timeline: Timeline,
  local: () => Promise<DemoEnv<E>>,
  server: (server: ServerArgs, ctx: SetupContext) => Promise<DemoEnv<E>>,
): Promise<DemoEnv<E> | undefined> {
  const abort = new AbortController();
  let pending: Promise<DemoEnv<E>> | undefined;
  try {
    if (args.server === undefined) {
      pending = local();
    } else {
      const note = (what: string): void => {
        timeline.add("demo", what);
      };
      pending = server(args.server, { note, signal: abort.signal });
    }
    const demoEnv = await withTimeout(
      pending,
      `logging in and setting up the room on ${args.server?.homeserver ?? "the in-process homeserver"}`,
      args.timeoutMs,
    );
    timeline.add("demo", `set up: ${demoEnv.description}`);
    return demoEnv;
  } catch (error) {
    console.error(`demo: could not set up the participants: ${(error as Error).message}`);
    abort.abort(new Error("the demo gave up on the setup"));
    const cleanup = pending?.then((env) => env.close()).catch(() => undefined);
    await withTimeout(Promise.resolve(cleanup), "cleanup", 10_000).catch(() => undefined);
    return undefined;
  }
}

/** Runs `scenario` within `timeoutMs`; past it, the failing step is recorded and everything is disposed. */
async function runWithDeadline(
  scenario: Scenario,
  timeline: Timeline,
  timeoutMs: number,
): Promise<ScenarioOutcome> {
  try {
    return await withTimeout(scenario.run(), `the whole scenario (${timeoutMs} ms)`, timeoutMs);
  } catch (error) {
    const failure = { step: scenario.currentStep, message: (error as Error).message };
    timeline.add("demo", `✗ step "${failure.step}" failed: ${failure.message}`);
    const outcome = scenario.snapshot(failure);
    await withTimeout(scenario.dispose(), "cleanup", 5000).catch(() => undefined);
    return outcome;
  }
}

/**
 * Prints the verdict (and the JSON summary with `--json`) and returns the exit code: 0 iff the summary is ok.
 * `notOk` explains a failure that no step reported.
 */
function finish(
  outcome: ScenarioOutcome,
  scenario: Pick<Scenario, "currentStep">,
  notOk: string,
  json: boolean,
  print: (line: string) => void,
): number {
  const { summary, failure } = outcome;
  if (failure === undefined && summary.ok) {
    print("OK: every step succeeded");
  } else {
    const why = failure ?? { step: scenario.currentStep, message: notOk };
    console.error(`FAILED at step "${why.step}": ${why.message}`);
  }
  if (json) {
    print(JSON.stringify(summary));
  }
  return summary.ok ? 0 : 1;
}

// Exit code 1 unless main says otherwise, so that a run stuck on nothing (an empty event loop) cannot pass.
process.exitCode = 1;
main().then(
  (code) => {
    process.exit(code);
  },
  (error: unknown) => {
    console.error("demo: unexpected error", error);
    process.exit(1);
  },
);
