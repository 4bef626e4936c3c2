import { describe, expect, it } from "vitest";
import { KeyedSerialQueue } from "./KeyedSerialQueue.js";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe("KeyedSerialQueue", () => {
  it("runs one key's operations in order, and other keys meanwhile", async () => {
    const queue = new KeyedSerialQueue();
    const log: string[] = [];
    const gate = deferred();
    const a1 = queue.run("a", async () => {
      await gate.promise;
      log.push("a1");
    });
    const a2 = queue.run("a", () => log.push("a2"));
    await queue.run("b", () => log.push("b1"));
    expect(log).toEqual(["b1"]);
    await new Promise((r) => setTimeout(r, 0));
    expect(queue.size).toBe(1); // "b" is forgotten, "a" still waits
    gate.resolve();
    await Promise.all([a1, a2]);
    expect(log).toEqual(["b1", "a1", "a2"]);
  });

  it("a failure rejects its own promise only, and drained keys are forgotten", async () => {
    const queue = new KeyedSerialQueue();
    const failed = queue.run("a", () => {
      throw new Error("boom");
    });
    const next = queue.run("a", () => "ok");
    await expect(failed).rejects.toThrow("boom");
    await expect(next).resolves.toBe("ok");
    await new Promise((r) => setTimeout(r, 0));
    expect(queue.size).toBe(0);
  });
});
