import { describe, expect, it } from "vitest";
import { sleep } from "../core/Clock.js";
import { MANUAL_CLOCK_START, ManualClock } from "./ManualClock.js";

describe("ManualClock", () => {
  it("starts at the configured time and only moves when advanced", async () => {
    expect(new ManualClock().now()).toBe(MANUAL_CLOCK_START);
    const clock = new ManualClock(5_000);
    expect(clock.now()).toBe(5_000);
    await clock.advance(250);
    expect(clock.now()).toBe(5_250);
  });

  it("runs due timers in time order, and ties in scheduling order", async () => {
    const clock = new ManualClock(0);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push("c@30"), 30);
    clock.setTimeout(() => ran.push("a@10"), 10);
    clock.setTimeout(() => ran.push("b1@20"), 20);
    clock.setTimeout(() => ran.push("b2@20"), 20);
    clock.setTimeout(() => ran.push("late@100"), 100);
    await clock.advance(30);
    expect(ran).toEqual(["a@10", "b1@20", "b2@20", "c@30"]);
    expect(clock.pendingTimers()).toBe(1);
  });

  it("sets now() to each timer's due time while it runs", async () => {
    const clock = new ManualClock(1_000);
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 40);
    clock.setTimeout(() => seen.push(clock.now()), 15);
    await clock.advance(100);
    expect(seen).toEqual([1_015, 1_040]);
    expect(clock.now()).toBe(1_100);
  });

  it("repeats intervals until cleared", async () => {
    const clock = new ManualClock(0);
    let ticks = 0;
    const handle = clock.setInterval(() => ticks++, 10);
    await clock.advance(35);
    expect(ticks).toBe(3);
    clock.clearTimer(handle);
    expect(clock.pendingTimers()).toBe(0);
    await clock.advance(100);
    expect(ticks).toBe(3);
  });

  it("runs timers scheduled by timers when they fall due inside the window", async () => {
    const clock = new ManualClock(0);
    const ran: number[] = [];
    clock.setTimeout(() => {
      ran.push(clock.now());
      clock.setTimeout(() => ran.push(clock.now()), 5);
      clock.setTimeout(() => ran.push(clock.now()), 500);
    }, 10);
    await clock.advance(20);
    expect(ran).toEqual([10, 15]);
    expect(clock.pendingTimers()).toBe(1);
  });

  it("settles promise chains between timers", async () => {
    const clock = new ManualClock(0);
    const steps: string[] = [];
    const flow = (async () => {
      await sleep(clock, 10);
      steps.push("first");
      await Promise.resolve();
      await sleep(clock, 10);
      steps.push("second");
    })();
    await clock.advance(20);
    expect(steps).toEqual(["first", "second"]);
    await flow;
  });

  it("clearTimer ignores unknown and undefined handles", () => {
    const clock = new ManualClock(0);
    const handle = clock.setTimeout(() => undefined, 5);
    clock.clearTimer(undefined);
    clock.clearTimer(handle);
    clock.clearTimer(handle);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("reports a throwing timer after running the others", async () => {
    const clock = new ManualClock(0);
    let after = false;
    clock.setTimeout(() => {
      throw new Error("boom");
    }, 1);
    clock.setTimeout(() => {
      after = true;
    }, 2);
    await expect(clock.advance(5)).rejects.toThrow("boom");
    expect(after).toBe(true);
    await clock.advance(1);
  });

  it("serialises concurrent advances and tells when the next timer is due", async () => {
    const clock = new ManualClock(0);
    expect(clock.nextTimerIn()).toBeUndefined();
    const seen: number[] = [];
    clock.setTimeout(() => seen.push(clock.now()), 15);
    expect(clock.nextTimerIn()).toBe(15);
    await Promise.all([clock.advance(10), clock.advance(10)]);
    expect(seen).toEqual([15]);
    expect(clock.now()).toBe(20);
  });

  it("treats negative and non-finite delays as zero and runs them on runDue()", async () => {
    const clock = new ManualClock(0);
    let ran = 0;
    clock.setTimeout(() => ran++, -5);
    clock.setTimeout(() => ran++, Number.NaN);
    await clock.runDue();
    expect(ran).toBe(2);
  });
});
