// The benchmark's building blocks: rows (one kind of call, measured once per round), groups of rows that share a
// setup, and the interleaved runner (A, B, C, A, B, C …) so that the machine's noise hits every row alike.
import type { PhaseRecorder } from "./instrument.js";
import { median, percentile } from "./stats.js";

/** One measured call setup. */
export interface CallSample {
  /** t0 (the call is placed) → both sides connected, in ms. */
  setupMs: number;
  /** Process CPU time (user + system, every thread: both sides and the WebRTC threads) over the same span. */
  cpuMs: number;
  /** Named marks of the call (ms after t0), for the per-phase timeline. */
  marks: Record<string, number>;
}

/** One kind of call. */
export interface BenchRow {
  /** Stable id, e.g. `synapse.plain.turn.ours-ours` (JSON, ratios). */
  id: string;
  /** How the row reads in the table. */
  label: string;
  /** Places one call, waits until both sides are connected, then ends it on both sides. */
  call(): Promise<CallSample>;
}

/** `numerator p50 / denominator p50`, printed beside the table; `target` is the largest ratio we aim for. */
export interface BenchRatio {
  name: string;
  numerator: string;
  denominator: string;
  target?: number;
  /** Compare CPU time instead of setup time. */
  cpu?: boolean;
}

/** Rows that share one setup (a homeserver, clients, rooms). */
export interface RowGroup {
  name: string;
  /** One line on what the rows measure and under which conditions. */
  description: string;
  rows: BenchRow[];
  ratios: BenchRatio[];
  /** Row ids whose per-phase timeline is printed (every row's is in the JSON). */
  timelines?: string[];
  /** Releases everything the group holds. */
  close(): Promise<void>;
}

/** The summary of one row. */
export interface RowResult {
  id: string;
  label: string;
  group: string;
  samples: number[];
  p50: number;
  p95: number;
  min: number;
  max: number;
  /** CPU ms per call setup: p50 and every sample. */
  cpuP50: number;
  cpuSamples: number[];
  /** Median time of each mark seen in every measured call, in time order. */
  phases: [name: string, medianMs: number][];
}

/** A computed {@link BenchRatio}. */
export interface RatioResult extends BenchRatio {
  value: number;
  /** Undefined without a target. */
  met?: boolean;
}

/** Options of {@link runInterleaved}. */
export interface InterleaveOptions {
  calls: number;
  warmup: number;
  /** After each call: the round (negative while warming up) and the row. */
  onCall?: (round: number, row: BenchRow, sample: CallSample) => void;
}

/**
 * Runs `warmup + calls` rounds; each round places one call of every row of every group, in order. Warm-up rounds
 * are not counted.
 */
export async function runInterleaved(groups: RowGroup[], opts: InterleaveOptions): Promise<RowResult[]> {
  const rows = groups.flatMap((group) => group.rows.map((row) => ({ group: group.name, row })));
  const samples = new Map<string, CallSample[]>(rows.map(({ row }) => [row.id, []]));
  for (let round = -opts.warmup; round < opts.calls; round++) {
    for (const { row } of rows) {
      const sample = await row.call();
      opts.onCall?.(round, row, sample);
      if (round >= 0) {
        samples.get(row.id)?.push(sample);
      }
    }
  }
  return rows.map(({ group, row }) => summarize(group, row, samples.get(row.id) ?? []));
}

function summarize(group: string, row: BenchRow, all: CallSample[]): RowResult {
  const setup = all.map((s) => s.setupMs);
  const cpu = all.map((s) => s.cpuMs);
  return {
    id: row.id,
    label: row.label,
    group,
    samples: setup,
    p50: percentile(setup, 50),
    p95: percentile(setup, 95),
    min: Math.min(...setup),
    max: Math.max(...setup),
    cpuP50: percentile(cpu, 50),
    cpuSamples: cpu,
    phases: phaseMedians(all.map((s) => s.marks)),
  };
}

/** Computes the ratios of every group from the results; ratios whose rows did not run are left out. */
export function computeRatios(groups: RowGroup[], results: RowResult[]): RatioResult[] {
  const byId = new Map(results.map((r) => [r.id, r]));
  const out: RatioResult[] = [];
  for (const ratio of groups.flatMap((g) => g.ratios)) {
    const num = byId.get(ratio.numerator);
    const den = byId.get(ratio.denominator);
    if (num === undefined || den === undefined) {
      continue;
    }
    const value = ratio.cpu === true ? num.cpuP50 / den.cpuP50 : num.p50 / den.p50;
    out.push({ ...ratio, value, ...(ratio.target !== undefined ? { met: value <= ratio.target } : {}) });
  }
  return out;
}

/** Medians of the marks present in every call, sorted by time. */
export function phaseMedians(all: Record<string, number>[]): [string, number][] {
  const first = all[0];
  if (first === undefined) {
    return [];
  }
  const names = Object.keys(first).filter((name) => all.every((marks) => marks[name] !== undefined));
  const phases = names.map((name): [string, number] => [name, median(all.map((marks) => marks[name]!))]);
  return phases.sort((x, y) => x[1] - y[1]);
}

/** Rejects with `what()` when `promise` has not settled after `ms`. */
export async function deadline<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          reject(new Error(`${what()} within ${ms} ms`));
        }, ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Ends a call placed by {@link measureCall}'s `place`. */
export type HangUp = () => Promise<void> | void;

/**
 * Measures one call on `rec`: starts it, runs `place` (which places the call and returns how to end it), waits for
 * `caller.state.connected` and `callee.state.connected`, reads the CPU time, then ends the call and waits for
 * `caller.state.ended` and `callee.state.ended`.
 */
export async function measureCall(
  rec: PhaseRecorder,
  place: () => Promise<HangUp>,
  timeoutMs = 20_000,
): Promise<CallSample> {
  rec.start();
  const connected = Promise.all([rec.when("caller.state.connected"), rec.when("callee.state.connected")]);
  const hangUp = await place();
  try {
    const [a, b] = await deadline(
      connected,
      timeoutMs,
      () => `the call did not connect (marks ${JSON.stringify(rec.marks())})`,
    );
    const cpuMs = rec.cpuMs();
    const marks = rec.marks();
    const ended = Promise.all([rec.when("caller.state.ended"), rec.when("callee.state.ended")]);
    await hangUp();
    await deadline(
      ended,
      timeoutMs,
      () => `the call did not end on both sides (marks ${JSON.stringify(rec.marks())})`,
    );
    return { setupMs: Math.max(a, b), cpuMs, marks };
  } catch (error) {
    await hangUp();
    throw error;
  }
}
