// Call setup latency: `inviteToCall` called → both sides `connected`, over LocalHomeserver with real media.
import { CallState, CallType, VoIP, type CallSession, type VoipOptions } from "../src/index.js";
import { createNodeDelegate } from "../src/node/index.js";
import { LocalHomeserver } from "../src/testing/index.js";
import { instrumentDelegate, instrumentPort, PhaseRecorder } from "./instrument.js";
import { median, percentile } from "./stats.js";

/** Options of {@link measureSetupLatency}. */
export interface SetupLatencyOptions {
  /** Measured calls. */
  calls: number;
  /** Calls before the measured ones, not counted. */
  warmup: number;
  /** Options of both `VoIP`s (timeouts, fixedWaits). */
  voip: VoipOptions;
  /** The longest one call may take to connect or to end; default 15000 ms. */
  callTimeoutMs?: number;
  /** Called after each call with its index (negative for warm-up calls) and setup time. */
  onCall?: (index: number, setupMs: number) => void;
}

/** The result of one run. */
export interface SetupLatencyResult {
  /** Setup time of each measured call, in order (ms). */
  samples: number[];
  p50: number;
  p95: number;
  min: number;
  max: number;
  /** Median time (ms after `inviteToCall`) of each mark seen in every measured call, in time order. */
  phases: [name: string, medianMs: number][];
}

/**
 * Places `warmup + calls` video calls one after the other between the same two participants (alice calls, bob
 * answers as soon as `incomingCall` fires), hanging up and waiting for both sides to end between calls. No TURN,
 * no injected latency, 320×240 video at 15 fps and a tone.
 */
export async function measureSetupLatency(opts: SetupLatencyOptions): Promise<SetupLatencyResult> {
  const timeoutMs = opts.callTimeoutMs ?? 15_000;
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const rec = new PhaseRecorder();
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], isDirect: true });
  const media = { video: { width: 320, height: 240, fps: 15 } };
  const alice = new VoIP(
    instrumentPort(hs.createClient("@alice:local", "ALICE"), "caller", rec),
    instrumentDelegate(createNodeDelegate(media), "caller", rec),
    opts.voip,
  );
  const bob = new VoIP(
    instrumentPort(hs.createClient("@bob:local", "BOB"), "callee", rec),
    instrumentDelegate(createNodeDelegate(media), "callee", rec),
    opts.voip,
  );
  bob.on("incomingCall", (call) => {
    rec.mark("callee.incomingCall");
    call.answer().then(
      () => {
        rec.mark("callee.answer()");
      },
      (error: unknown) => {
        rec.mark("callee.answerFailed");
        console.error("bench: answer failed", error);
      },
    );
  });
  const samples: number[] = [];
  const allMarks: Record<string, number>[] = [];
  try {
    for (let i = -opts.warmup; i < opts.calls; i++) {
      const { setupMs, marks } = await oneCall(alice, roomId, rec, timeoutMs);
      opts.onCall?.(i, setupMs);
      if (i >= 0) {
        samples.push(setupMs);
        allMarks.push(marks);
      }
    }
  } finally {
    await Promise.allSettled([alice.dispose(), bob.dispose()]);
    await hs.close();
  }
  return {
    samples,
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    min: Math.min(...samples),
    max: Math.max(...samples),
    phases: phaseMedians(allMarks),
  };
}

async function oneCall(
  alice: VoIP,
  roomId: string,
  rec: PhaseRecorder,
  timeoutMs: number,
): Promise<{ setupMs: number; marks: Record<string, number> }> {
  rec.start();
  let call: CallSession | undefined;
  try {
    const connected = Promise.all([rec.when("caller.state.connected"), rec.when("callee.state.connected")]);
    call = await alice.inviteToCall(roomId, CallType.Video, "@bob:local");
    rec.mark("caller.inviteToCall()");
    const [a, b] = await deadline(
      connected,
      timeoutMs,
      () => `call ${call?.callId ?? "?"} did not connect`,
      rec,
    );
    const marks = rec.marks();
    const ended = Promise.all([rec.when("caller.state.ended"), rec.when("callee.state.ended")]);
    await call.hangup();
    await deadline(ended, timeoutMs, () => `call ${call?.callId ?? "?"} did not end on both sides`, rec);
    return { setupMs: Math.max(a, b), marks };
  } catch (error) {
    if (call !== undefined && call.state !== CallState.Ended) {
      await call.hangup();
    }
    throw error;
  }
}

async function deadline<T>(
  promise: Promise<T>,
  ms: number,
  what: () => string,
  rec: PhaseRecorder,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`${what()} within ${ms} ms; marks: ${JSON.stringify(rec.marks())}`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Medians of the marks present in every call, sorted by time. */
function phaseMedians(all: Record<string, number>[]): [string, number][] {
  const first = all[0];
  if (first === undefined) {
    return [];
  }
  const names = Object.keys(first).filter((name) => all.every((marks) => marks[name] !== undefined));
  const phases = names.map((name): [string, number] => [name, median(all.map((marks) => marks[name]!))]);
  return phases.sort((x, y) => x[1] - y[1]);
}
