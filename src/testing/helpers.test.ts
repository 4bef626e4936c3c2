import { describe, expect, it } from "vitest";
import { TypedEventEmitter } from "../core/TypedEventEmitter.js";
import { captureEvents, waitFor } from "./helpers.js";

interface DemoEvents {
  ping: (n: number) => void;
  pong: (label: string, ok: boolean) => void;
}

class Demo extends TypedEventEmitter<DemoEvents> {
  public fire<K extends keyof DemoEvents>(event: K, ...args: Parameters<DemoEvents[K]>): void {
    this.emit(event, ...args);
  }
}

describe("waitFor", () => {
  it("resolves with the first truthy value", async () => {
    let n = 0;
    const timer = setInterval(() => n++, 2);
    const value = await waitFor(() => (n >= 3 ? `n=${n}` : undefined));
    clearInterval(timer);
    expect(value).toMatch(/^n=\d+$/);
  });

  it("rejects after the timeout with the given message and the predicate's last error", async () => {
    const error = await waitFor(
      () => {
        throw new Error("not yet");
      },
      { timeoutMs: 30, message: "the answer" },
    ).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect(error.message).toBe("waitFor timed out after 30 ms: the answer");
    expect((error.cause as Error).message).toBe("not yet");
  });

  it("accepts async predicates", async () => {
    await expect(waitFor(async () => Promise.resolve(42))).resolves.toBe(42);
  });
});

describe("captureEvents", () => {
  it("records emissions in order, per event", () => {
    const demo = new Demo();
    const capture = captureEvents(demo, ["ping", "pong"]);
    demo.fire("ping", 1);
    demo.fire("pong", "a", true);
    demo.fire("ping", 2);
    expect(capture.events.map((e) => e.event)).toEqual(["ping", "pong", "ping"]);
    expect(capture.of("ping")).toEqual([[1], [2]]);
    expect(capture.of("pong")).toEqual([["a", true]]);
    capture.stop();
  });

  it("next() returns buffered emissions first, then waits for new ones", async () => {
    const demo = new Demo();
    const capture = captureEvents(demo, ["ping"]);
    demo.fire("ping", 1);
    await expect(capture.next("ping")).resolves.toEqual([1]);
    const pending = capture.next("ping");
    setTimeout(() => {
      demo.fire("ping", 2);
    }, 5);
    await expect(pending).resolves.toEqual([2]);
    capture.stop();
  });

  it("next() times out, and stop() unsubscribes and rejects waiters", async () => {
    const demo = new Demo();
    const capture = captureEvents(demo, ["ping", "pong"]);
    await expect(capture.next("pong", { timeoutMs: 20 })).rejects.toThrow('no "pong" within 20 ms');
    const waiting = capture.next("ping", { timeoutMs: 1000 });
    capture.stop();
    await expect(waiting).rejects.toThrow("stopped");
    expect(demo.listenerCount("ping")).toBe(0);
    demo.fire("ping", 3);
    expect(capture.events).toHaveLength(0);
  });

  it("works with any emitter that has on() → unsubscribe, given its event map", async () => {
    const listeners = new Set<(n: number) => void>();
    const plain = {
      on: (_event: "tick", listener: (n: number) => void): (() => void) => {
        listeners.add(listener);
        return () => listeners.delete(listener);
      },
    };
    const capture = captureEvents<{ tick: (n: number) => void }>(plain, ["tick"]);
    for (const listener of listeners) {
      listener(7);
    }
    await expect(capture.next("tick")).resolves.toEqual([7]);
    capture.stop();
    expect(listeners.size).toBe(0);
  });

  it("clear() forgets what was captured", () => {
    const demo = new Demo();
    const capture = captureEvents(demo, ["ping"]);
    demo.fire("ping", 1);
    capture.clear();
    expect(capture.events).toHaveLength(0);
    capture.stop();
  });
});
