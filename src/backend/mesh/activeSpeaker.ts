/**
 * Internal: active speaker of a mesh call (reference §6.7), as a pure core. The reference reads `audioLevel` from
 * `inbound-rtp` (remote) and `media-source` (local) stats. `@roamhq/wrtc` (measured) reports no `audioLevel` on
 * `inbound-rtp`; it has `audioLevel` and `totalAudioEnergy`/`totalSamplesDuration` on the receiving side's legacy
 * `track` entry and on the sender's `media-source`. Browsers put them on `inbound-rtp`. We therefore read the energy
 * counters wherever they are and take the level over the last interval, `sqrt(Δenergy / Δduration)` (the RMS the
 * WebRTC stats spec defines), which is also steadier than an instantaneous `audioLevel`.
 */

/** Cumulative audio energy counters of one stream. */
export interface EnergySample {
  totalAudioEnergy: number;
  totalSamplesDuration: number;
}

type StatsEntry = Record<string, unknown>;

function num(value: unknown): number | undefined {
  return typeof value === "number" && Number.isFinite(value) ? value : undefined;
}

function sampleOf(entry: StatsEntry): EnergySample | undefined {
  const energy = num(entry.totalAudioEnergy);
  const duration = num(entry.totalSamplesDuration);
  return energy === undefined || duration === undefined
    ? undefined
    : { totalAudioEnergy: energy, totalSamplesDuration: duration };
}

/**
 * The received audio's energy counters in a peer connection's stats (`inbound-rtp` audio, else the legacy
 * receiving `track` entry), or `undefined` when the report has none.
 */
export function receivedEnergy(report: RTCStatsReport): EnergySample | undefined {
  return findEnergy(
    report,
    (e) => e.type === "inbound-rtp",
    (e) => e.type === "track" && e.remoteSource === true,
  );
}

/** Our own audio's energy counters (`media-source` audio), or `undefined`. */
export function sentEnergy(report: RTCStatsReport): EnergySample | undefined {
  return findEnergy(
    report,
    (e) => e.type === "media-source",
    () => false,
  );
}

function findEnergy(
  report: RTCStatsReport,
  primary: (e: StatsEntry) => boolean,
  fallback: (e: StatsEntry) => boolean,
): EnergySample | undefined {
  let best: EnergySample | undefined;
  let second: EnergySample | undefined;
  report.forEach((value: unknown) => {
    const entry = value as StatsEntry;
    if ((entry.kind ?? entry.mediaType) !== "audio") {
      return;
    }
    const sample = sampleOf(entry);
    if (sample && primary(entry)) {
      best ??= sample;
    } else if (sample && fallback(entry)) {
      second ??= sample;
    }
  });
  return best ?? second;
}

/** Levels below this (RMS, 0..1) count as silence: nobody becomes the speaker by noise. */
export const SPEAKING_THRESHOLD = 0.01;

/**
 * Picks the active speaker from each participant's energy counters, one call of {@link ActiveSpeakerCore.update}
 * per interval: the loudest participant over the interval, if anyone spoke above {@link SPEAKING_THRESHOLD};
 * otherwise the speaker stays. A participant that is gone is forgotten.
 */
export class ActiveSpeakerCore {
  readonly #last = new Map<string, EnergySample>();
  #speaker: string | undefined;

  /** The current speaker's id. */
  public get speaker(): string | undefined {
    return this.#speaker;
  }

  /** Takes this interval's counters; returns the speaker's id when it changed, else `undefined`. */
  public update(samples: ReadonlyMap<string, EnergySample>): {
    changed: boolean;
    speaker: string | undefined;
  } {
    let loudest: string | undefined;
    let loudestLevel = SPEAKING_THRESHOLD;
    for (const [id, sample] of samples) {
      const level = this.#level(id, sample);
      if (level !== undefined && level >= loudestLevel) {
        loudest = id;
        loudestLevel = level;
      }
      this.#last.set(id, sample);
    }
    for (const id of [...this.#last.keys()]) {
      if (!samples.has(id)) {
        this.#last.delete(id);
      }
    }
    let next = loudest ?? this.#speaker;
    if (next !== undefined && !samples.has(next)) {
      next = loudest;
    }
    const changed = next !== this.#speaker;
    this.#speaker = next;
    return { changed, speaker: next };
  }

  /** Forgets a participant (its stream was removed); the speaker falls to nobody if it was them. */
  public remove(id: string): boolean {
    this.#last.delete(id);
    if (this.#speaker === id) {
      this.#speaker = undefined;
      return true;
    }
    return false;
  }

  #level(id: string, sample: EnergySample): number | undefined {
    const previous = this.#last.get(id);
    if (!previous) {
      return undefined;
    }
    const duration = sample.totalSamplesDuration - previous.totalSamplesDuration;
    const energy = sample.totalAudioEnergy - previous.totalAudioEnergy;
    return duration > 0 && energy >= 0 ? Math.sqrt(energy / duration) : undefined;
  }
}
