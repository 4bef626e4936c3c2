// The demo's timeline: what happened, to whom, in milliseconds since the start of the run.
import { performance } from "node:perf_hooks";

/** One entry of the timeline, as in the `--json` summary. */
export interface TimelineEvent {
  /** Milliseconds since the timeline started (integer). */
  t: number;
  /** A participant id (`@user:server:DEVICE`) or `demo` for the scenario's own steps. */
  who: string;
  /** What happened, e.g. `state ringing`. */
  what: string;
}

/** Where printed lines go (`null`: nowhere, for `--json` runs that print only the summary). */
export type LineSink = ((line: string) => void) | null;

/**
 * An append-only list of {@link TimelineEvent}s that also prints each entry as it happens, as
 * `  +123 ms  @bob:local:BOB  state ringing`.
 */
export class Timeline {
  readonly #start: number;
  readonly #events: TimelineEvent[] = [];
  readonly #sink: LineSink;
  readonly #whoWidth: number;

  /**
   * @param sink where lines are printed as they happen; `null` records silently
   * @param whoWidth the column width of the `who` field (names are padded to it)
   */
  public constructor(sink: LineSink, whoWidth = 22) {
    this.#start = performance.now();
    this.#sink = sink;
    this.#whoWidth = whoWidth;
  }

  /** Milliseconds since the timeline started (fractional). */
  public elapsed(): number {
    return performance.now() - this.#start;
  }

  /** Records (and prints) one event. */
  public add(who: string, what: string): TimelineEvent {
    const event: TimelineEvent = { t: Math.round(this.elapsed()), who, what };
    this.#events.push(event);
    this.#sink?.(formatEvent(event, this.#whoWidth));
    return event;
  }

  /** Every event so far, in order (a copy). */
  public events(): TimelineEvent[] {
    return this.#events.map((e) => ({ ...e }));
  }
}

/** Formats one event as a timeline line: `  +123 ms  who  what`. */
export function formatEvent(event: TimelineEvent, whoWidth = 22): string {
  const t = `+${event.t}`.padStart(7);
  return `${t} ms  ${event.who.padEnd(whoWidth)}  ${event.what}`;
}
