// How a scenario runs: its steps in order, then a snapshot and the cleanup, whatever happened. Shared by the
// scenarios and by the CLI, which also bounds the whole run in time.
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

/** What {@link runSteps} needs of a scenario. */
export interface StepRunner {
  /** Runs every step; throws on the first failure (a {@link StepError} names its step). */
  steps(): Promise<void>;
  /** The step running now. */
  currentStep(): string;
  /** Marks the run as complete. */
  done(): void;
  /** The result, given the failure if there was one. */
  snapshot(failure?: StepFailure): ScenarioOutcome;
  /** Releases everything. */
  dispose(): Promise<void>;
}

/** Runs the steps, puts a failing step on the timeline, then takes the snapshot and disposes. Never throws. */
export async function runSteps(timeline: Timeline, runner: StepRunner): Promise<ScenarioOutcome> {
  let failure: StepFailure | undefined;
  try {
    await runner.steps();
    runner.done();
  } catch (error) {
    const step = error instanceof StepError ? error.step : runner.currentStep();
    failure = { step, message: error instanceof Error ? error.message : String(error) };
    timeline.add("demo", `✗ step "${step}" failed: ${failure.message}`);
  }
  const outcome = runner.snapshot(failure);
  await runner.dispose();
  return outcome;
}
