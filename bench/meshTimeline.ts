// Where the time of a mesh setup goes, per pair: each member's client port is wrapped (like bench/instrument.ts
// does for 1:1 calls) so that seeing a member's membership, sending and receiving the pair's invite, answer and
// candidates, and each side's leg reaching `connected` are marked in ms after t0 (all members call enter()).
import { performance } from "node:perf_hooks";
import {
  CallDirection,
  CallState,
  type CallSession,
  type GroupCallSession,
  type MatrixClientPort,
  type SyncBatch,
} from "../src/index.js";
import { median } from "./stats.js";

/** The phases of one pair, in the order a pair goes through them. */
export const PAIR_PHASES = [
  "caller sees callee's membership",
  "caller's leg created",
  "invite sent",
  "invite received",
  "callee's leg created",
  "answer sent",
  "answer received",
  "callee connected",
  "caller connected",
] as const;

/** One phase of a pair. */
export type PairPhase = (typeof PAIR_PHASES)[number];

/** One phase over every pair of a run: the median pair and the last pair, ms after t0. */
export interface PhaseSummary {
  phase: PairPhase;
  medianMs: number;
  maxMs: number;
}

/** The marks of one mesh run: `"<caller>→<callee>"` → phase → ms after t0. */
export class MeshTimeline {
  #t0 = performance.now();
  readonly #pairs = new Map<string, Map<PairPhase, number>>();
  /** call_id → pair key. */
  readonly #calls = new Map<string, string>();
  /** Legs that ended during the run: pair, side and reason. */
  readonly #ended: string[] = [];

  /** t0: every member calls enter() now. */
  public start(): void {
    this.#t0 = performance.now();
    this.#pairs.clear();
    this.#calls.clear();
    this.#ended.length = 0;
  }

  /** Marks `phase` of the pair `caller`→`callee` (user ids), unless marked already. */
  public mark(caller: string, callee: string, phase: PairPhase): void {
    const key = `${short(caller)}→${short(callee)}`;
    let marks = this.#pairs.get(key);
    if (!marks) {
      marks = new Map();
      this.#pairs.set(key, marks);
    }
    if (!marks.has(phase)) {
      marks.set(phase, performance.now() - this.#t0);
    }
  }

  /** Marks `phase` of the pair whose leg has `callId`, once the leg is known. */
  public markCall(callId: unknown, phase: PairPhase): void {
    const key = typeof callId === "string" ? this.#calls.get(callId) : undefined;
    const marks = key === undefined ? undefined : this.#pairs.get(key);
    if (marks && !marks.has(phase)) {
      marks.set(phase, performance.now() - this.#t0);
    }
  }

  /** Follows the legs of one member's group call: creation and `connected`, for both directions. */
  public watch(group: GroupCallSession, self: string): void {
    group.on("callAdded", (leg: CallSession) => {
      const peer = leg.remoteUserId ?? "";
      const outgoing = leg.direction === CallDirection.Outgoing;
      const [caller, callee] = outgoing ? [self, peer] : [peer, self];
      this.#calls.set(leg.callId, `${short(caller)}→${short(callee)}`);
      this.mark(caller, callee, outgoing ? "caller's leg created" : "callee's leg created");
      leg.on("ended", (reason) => {
        this.#ended.push(`${short(caller)}→${short(callee)} at ${short(self)}: ${reason}`);
      });
      leg.on("stateChanged", (state) => {
        if (state === CallState.Connected) {
          this.mark(caller, callee, outgoing ? "caller connected" : "callee connected");
        }
      });
    });
  }

  /** Per phase: the median over pairs and the latest pair (ms after t0), for the phases every pair reached. */
  public summary(): PhaseSummary[] {
    return summarizePairs([...this.#pairs.values()]);
  }

  /** Where each member's legs are (for a run that timed out): state per peer, and legs that ended and why. */
  public describe(groups: readonly GroupCallSession[], users: readonly string[]): string {
    return groups
      .map((group, i) => {
        const legs = group.calls.map((leg) => `${short(leg.remoteUserId ?? "?")} ${leg.state}`);
        return `  ${short(users[i] ?? "?")}: ${legs.join(", ")}`;
      })
      .concat(this.#ended.map((e) => `  ended: ${e}`))
      .join("\n");
  }

  /** Every pair's marks, for `--json`. */
  public pairs(): Record<string, Partial<Record<PairPhase, number>>> {
    return Object.fromEntries([...this.#pairs].map(([key, marks]) => [key, Object.fromEntries(marks)]));
  }
}

/**
 * Wraps a member's client port: a membership of another member in a sync batch marks "caller sees callee's
 * membership" when we place that pair's call (G2: the smaller `user:device` calls); sent and received invites and
 * answers mark their phases by `call_id`.
 */
export function traceMeshPort(inner: MatrixClientPort, timeline: MeshTimeline): MatrixClientPort {
  const self = inner.userId;
  const selfKey = `${self}:${inner.deviceId}`;
  const phaseOf = (type: string, sent: boolean): PairPhase | undefined => {
    if (type.endsWith(".invite")) {
      return sent ? "invite sent" : "invite received";
    }
    if (type.endsWith(".answer")) {
      return sent ? "answer sent" : "answer received";
    }
    return undefined;
  };
  const sendToDevice: MatrixClientPort["sendToDevice"] = async (type, messages, opts) => {
    await inner.sendToDevice(type, messages, opts);
    const phase = phaseOf(type, true);
    if (phase !== undefined) {
      for (const byDevice of Object.values(messages)) {
        for (const content of Object.values(byDevice)) {
          timeline.markCall((content as { call_id?: unknown }).call_id, phase);
        }
      }
    }
  };
  const onSync: MatrixClientPort["onSync"] = (listener) =>
    inner.onSync((batch: SyncBatch) => {
      for (const room of batch.rooms) {
        for (const event of room.state) {
          if (event.sender === self || !event.type.endsWith("call.member")) {
            continue;
          }
          const list: unknown = event.content.memberships;
          for (const entry of Array.isArray(list) ? list : [event.content]) {
            const deviceId = (entry as { device_id?: unknown }).device_id;
            if (typeof deviceId === "string" && selfKey < `${event.sender}:${deviceId}`) {
              timeline.mark(self, event.sender, "caller sees callee's membership");
            }
          }
        }
      }
      for (const event of batch.toDevice) {
        const phase = phaseOf(event.type, false);
        if (phase === "invite received") {
          timeline.mark(event.sender, self, phase);
        } else if (phase !== undefined) {
          timeline.markCall(event.content.call_id, phase);
        }
      }
      return listener(batch);
    });
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "sendToDevice") {
        return sendToDevice;
      }
      if (prop === "onSync") {
        return onSync;
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * Per phase over `pairs` (each a phase → ms after t0 map): the median pair and the latest pair, for the phases
 * every connected pair reached.
 */
export function summarizePairs(pairs: readonly ReadonlyMap<PairPhase, number>[]): PhaseSummary[] {
  const connected = pairs.filter((m) => m.has("caller connected"));
  return PAIR_PHASES.filter((phase) => connected.length > 0 && connected.every((m) => m.has(phase))).map(
    (phase) => {
      const times = connected.map((m) => m.get(phase) ?? 0);
      return { phase, medianMs: median(times), maxMs: Math.max(...times) };
    },
  );
}

/**
 * Merges the marks that several processes (one per member) took of the same pairs: each phase's earliest mark.
 */
export function mergePairs(
  reports: readonly Record<string, Partial<Record<PairPhase, number>>>[],
): Map<PairPhase, number>[] {
  const merged = new Map<string, Map<PairPhase, number>>();
  for (const report of reports) {
    for (const [key, marks] of Object.entries(report)) {
      let into = merged.get(key);
      if (!into) {
        into = new Map();
        merged.set(key, into);
      }
      for (const [phase, ms] of Object.entries(marks) as [PairPhase, number][]) {
        into.set(phase, Math.min(ms, into.get(phase) ?? Number.POSITIVE_INFINITY));
      }
    }
  }
  return [...merged.values()];
}

function short(userId: string): string {
  return userId.replace(/^@/, "").replace(/:.*$/, "");
}
