// How a scenario runs: named steps in order, then a snapshot and the cleanup, whatever happened. The group scenarios
// extend StepScenario; the CLI also bounds the whole run in time.
import type { ScenarioOutcome, StepFailure } from "../summary.js";
import type { Timeline } from "../timeline.js";
import { StepError } from "./wait.js";

/** What the CLI needs of every scenario. */
export interface Scenario {
  /** The step running now (or the last one). */
  readonly currentStep: string;
  /** Runs every step, then disposes everything; never throws. */
  run(): Promise<ScenarioOutcome>;
  /** The result so far. */
  snapshot(failure?: StepFailure): ScenarioOutcome;
  /** Releases everything the scenario made. */
  dispose(): Promise<void>;
}

/** Options every group scenario takes. */
export interface StepScenarioOptions {
  /** Where steps and events are recorded. */
  timeline: Timeline;
  /** How many members take part. */
  participants: number;
  /** The longest wait of one step (ms). */
  stepTimeoutMs?: number;
}

/** A scenario made of named steps: {@link run} runs {@link steps}, records a failing step, snapshots, disposes. */
export abstract class StepScenario implements Scenario {
  protected readonly timeline: Timeline;
  /** How many members take part. */
  protected readonly n: number;
  protected readonly stepTimeoutMs: number;
  /** The step running now; `done` once every step succeeded. */
  protected step = "setup";

  protected constructor(opts: StepScenarioOptions, defaultStepTimeoutMs: number) {
    this.timeline = opts.timeline;
    this.n = opts.participants;
    this.stepTimeoutMs = opts.stepTimeoutMs ?? defaultStepTimeoutMs;
  }

  /** The step running now (or the last one). */
  public get currentStep(): string {
    return this.step;
  }

  /** Runs every step, then disposes everything. Never throws. */
  public async run(): Promise<ScenarioOutcome> {
    let failure: StepFailure | undefined;
    try {
      await this.steps();
      this.step = "done";
    } catch (error) {
      const step = error instanceof StepError ? error.step : this.step;
      failure = { step, message: error instanceof Error ? error.message : String(error) };
      this.timeline.add("demo", `✗ step "${step}" failed: ${failure.message}`);
    }
    const outcome = this.snapshot(failure);
    await this.dispose();
    return outcome;
  }

  /** The result so far. */
  public abstract snapshot(failure?: StepFailure): ScenarioOutcome;

  /** Releases everything the scenario made. */
  public abstract dispose(): Promise<void>;

  /** Every step in order; throws on the first failure (see {@link doStep}). */
  protected abstract steps(): Promise<void>;

  /** Runs one named step: records it on the timeline, or throws a {@link StepError} naming it. */
  protected async doStep(name: string, body: () => Promise<string>): Promise<void> {
    this.step = name;
    try {
      const result = await body();
      this.timeline.add("demo", `✓ ${name}: ${result}`);
    } catch (error) {
      throw new StepError(name, error instanceof Error ? error.message : String(error), { cause: error });
    }
  }
}
