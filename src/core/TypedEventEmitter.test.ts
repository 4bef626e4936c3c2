import { describe, expect, it } from "vitest";
import type { Logger } from "./Logger.js";
import { TypedEventEmitter } from "./TypedEventEmitter.js";

interface Events {
  changed: (value: number) => void;
}

class Counter extends TypedEventEmitter<Events> {
  public value = 0;
  public readonly warnings: string[] = [];

  public constructor() {
    super();
    const log: Logger = {
      debug: () => undefined,
      info: () => undefined,
      warn: (m) => this.warnings.push(m),
      error: () => undefined,
      child: () => log,
    };
    this.emitterLogger = log;
  }

  public increment(): void {
    this.value++;
    this.emit("changed", this.value);
  }
}

describe("TypedEventEmitter", () => {
  it("calls listeners in order and unsubscribes with the returned function", () => {
    const c = new Counter();
    const seen: string[] = [];
    const off = c.on("changed", (v) => seen.push(`a${v}`));
    c.on("changed", (v) => seen.push(`b${v}`));
    c.increment();
    off();
    off();
    c.increment();
    expect(seen).toEqual(["a1", "b1", "b2"]);
  });

  it("isolates a throwing or rejecting listener: state stays consistent and later listeners still run", async () => {
    const c = new Counter();
    const seen: number[] = [];
    c.on("changed", () => {
      throw new Error("boom");
    });
    c.on("changed", () => Promise.reject(new Error("async boom")) as unknown as undefined);
    c.on("changed", (v) => seen.push(v));
    c.increment();
    c.increment();
    await Promise.resolve();
    expect(c.value).toBe(2);
    expect(seen).toEqual([1, 2]);
    expect(c.warnings.filter((w) => w === "event listener threw")).toHaveLength(2);
    expect(c.warnings.filter((w) => w === "event listener rejected")).toHaveLength(2);
  });

  it("once() fires a single time", () => {
    const c = new Counter();
    const seen: number[] = [];
    c.once("changed", (v) => seen.push(v));
    c.increment();
    c.increment();
    expect(seen).toEqual([1]);
    expect(c.listenerCount("changed")).toBe(0);
  });
});
