// `npm run bench:sfu`: end-to-end encrypted media through a real LiveKit server (built with Go, cached), keys only
// from our key manager over the in-process homeserver, with the library's default key timings. Measures, p50 of N:
//   join  → first decoded frame: a member enters the group call until every pair with it decodes video both ways;
//   leave → new key decoded:     a member leaves until every remaining member encrypts with a new key and every
//                                 other remaining member has decoded a frame sent after that switch.
// The leave figure includes the key manager's deliberate delays (DEFAULT_TIMEOUTS: 4 s debounce + 4 s before use).
import { parseArgs } from "node:util";
import { dispose } from "@livekit/rtc-node";
import { SfuCall, type SfuMember } from "../demo/livekit/sfuCall.js";
import { DEFAULT_TIMEOUTS, systemClock } from "../src/index.js";
import { provisionLiveKit, startLiveKit } from "../test/sfu/livekitServer.js";
import { percentile } from "./stats.js";

const POLL_MS = 5;

async function until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<number> {
  const end = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  return performance.now();
}

/** Resolves when every pair of `members` that involves `joiner` decodes video (colour frames) both ways. */
function pairsDecode(members: SfuMember[], joiner: SfuMember): boolean {
  return members.every(
    (m) =>
      m === joiner || (m.media.from(joiner.id).colourFrames > 0 && joiner.media.from(m.id).colourFrames > 0),
  );
}

async function measureLeave(call: SfuCall, leaver: SfuMember): Promise<number> {
  const staying = call.members.filter((m) => m !== leaver && !left.has(m));
  const before = new Map(staying.map((m) => [m.id, m.bridge.keyIndex(m.id)]));
  const switchedAt = new Map<string, number>();
  const t0 = performance.now();
  const leaving = call.leave(leaver, true);
  left.add(leaver);
  await until(() => {
    for (const m of staying) {
      if (!switchedAt.has(m.id) && m.bridge.keyIndex(m.id) !== before.get(m.id)) {
        switchedAt.set(m.id, performance.now());
      }
    }
    return switchedAt.size === staying.length;
  }, "every remaining member to switch keys");
  const allSwitched = Math.max(...switchedAt.values());
  const done = await until(
    () =>
      staying.every((r) =>
        staying.every((s) => r === s || (r.media.from(s.id).lastColourAt ?? 0) > allSwitched),
      ),
    "frames with the new keys",
  );
  await leaving;
  return done - t0;
}

const left = new Set<SfuMember>();

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: "string", default: "5" }, json: { type: "boolean", default: false } },
  });
  const runs = Number(values.runs);
  const server = await startLiveKit(await provisionLiveKit());
  const call = new SfuCall(server, systemClock, 3 + runs);
  const joins: number[] = [];
  const leaves: number[] = [];
  try {
    await call.setup();
    for (let i = 0; i < 3; i++) {
      await call.join(i);
    }
    await until(() => call.members.every((m) => pairsDecode(call.members, m)), "the first three to decode");
    for (let run = 0; run < runs; run++) {
      const t0 = performance.now();
      const joiner = await call.join(3 + run);
      const inCall = call.members.filter((m) => !left.has(m));
      joins.push((await until(() => pairsDecode(inCall, joiner), "the joiner's pairs to decode")) - t0);
      const leaver = inCall[0]!;
      leaves.push(await measureLeave(call, leaver));
      process.stderr.write(
        `run ${run + 1}/${runs}: join ${joins.at(-1)!.toFixed(0)} ms, leave ${leaves.at(-1)!.toFixed(0)} ms\n`,
      );
    }
  } finally {
    await call.dispose();
    await server.stop();
    await dispose();
  }
  const result = {
    runs,
    joinToFirstDecodedFrameMs: { p50: percentile(joins, 50), all: joins },
    leaveToNewKeyDecodedMs: { p50: percentile(leaves, 50), all: leaves },
    keyDelaysMs: {
      leaveDebounce: DEFAULT_TIMEOUTS.makeKeyOnLeaveDelayMs,
      useKey: DEFAULT_TIMEOUTS.useKeyDelayMs,
    },
  };
  console.log(`SFU media through a real LiveKit server, ${runs} runs (p50)`);
  console.log(
    `  join  → first decoded frame (every pair, both ways): ${result.joinToFirstDecodedFrameMs.p50.toFixed(0)} ms`,
  );
  console.log(
    `  leave → every remaining member decodes the new keys:  ${result.leaveToNewKeyDecodedMs.p50.toFixed(0)} ms` +
      ` (of which ${result.keyDelaysMs.leaveDebounce + result.keyDelaysMs.useKey} ms are the key manager's deliberate delays)`,
  );
  if (values.json) {
    console.log(JSON.stringify(result));
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error("bench:sfu failed:", error);
    process.exit(1);
  },
);
