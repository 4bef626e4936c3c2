import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SeqOrderer } from "./SeqOrderer.js";

describe("SeqOrderer (PROTOCOL G3)", () => {
  it("delivers in seq order and holds a message until the gap before it closes", () => {
    const o = new SeqOrderer<string>(1000);
    expect(o.accept("a", 1, "one", 0).deliver).toEqual([]);
    expect(o.accept("a", 2, "two", 0).deliver).toEqual([]);
    expect(o.heldCount).toBe(2);
    expect(o.accept("a", 0, "zero", 5).deliver).toEqual(["zero", "one", "two"]);
    expect(o.heldCount).toBe(0);
    expect(o.nextDeadline()).toBeUndefined();
  });

  it("drops duplicates, held or already delivered", () => {
    const o = new SeqOrderer<string>(1000);
    expect(o.accept("a", 0, "zero", 0)).toEqual({ deliver: ["zero"], duplicate: false });
    expect(o.accept("a", 0, "zero again", 0)).toEqual({ deliver: [], duplicate: true });
    expect(o.accept("a", 2, "two", 0).duplicate).toBe(false);
    expect(o.accept("a", 2, "two again", 0)).toEqual({ deliver: [], duplicate: true });
    expect(o.accept("a", 1, "one", 0).deliver).toEqual(["one", "two"]);
  });

  it("keeps streams apart: each key has its own sequence", () => {
    const o = new SeqOrderer<string>(1000);
    expect(o.accept("a", 0, "a0", 0).deliver).toEqual(["a0"]);
    expect(o.accept("b", 0, "b0", 0).deliver).toEqual(["b0"]);
    expect(o.accept("b", 1, "b1", 0).deliver).toEqual(["b1"]);
    expect(o.accept("a", 1, "a1", 0).deliver).toEqual(["a1"]);
  });

  it("delivers a message without seq at once", () => {
    const o = new SeqOrderer<string>(1000);
    o.accept("a", 3, "three", 0);
    expect(o.accept("a", undefined, "plain", 0).deliver).toEqual(["plain"]);
  });

  it("releases held messages once a gap has been open for the timeout, and drops a late copy of the gap", () => {
    const o = new SeqOrderer<string>(1000);
    o.accept("a", 0, "zero", 0);
    o.accept("a", 2, "two", 100);
    o.accept("a", 3, "three", 200);
    expect(o.nextDeadline()).toBe(1100);
    expect(o.expire(1099)).toEqual([]);
    expect(o.expire(1100)).toEqual([{ key: "a", deliver: ["two", "three"], skipped: 1 }]);
    expect(o.nextDeadline()).toBeUndefined();
    expect(o.accept("a", 1, "one, too late", 1200)).toEqual({ deliver: [], duplicate: true });
    expect(o.accept("a", 4, "four", 1200).deliver).toEqual(["four"]);
  });

  it("times a second gap after a release from the release", () => {
    const o = new SeqOrderer<string>(1000);
    o.accept("a", 1, "one", 0);
    o.accept("a", 3, "three", 0);
    expect(o.expire(1000)).toEqual([{ key: "a", deliver: ["one"], skipped: 1 }]);
    expect(o.nextDeadline()).toBe(2000);
    expect(o.expire(2000)).toEqual([{ key: "a", deliver: ["three"], skipped: 1 }]);
  });

  it("forgets streams by prefix and bounds how many it remembers", () => {
    const o = new SeqOrderer<string>(1000, 2);
    o.accept("call1|a", 0, "x", 0);
    o.forget("call1|");
    expect(o.accept("call1|a", 0, "x again", 0).deliver).toEqual(["x again"]);
    o.accept("b", 0, "b0", 0);
    o.accept("c", 0, "c0", 0); // evicts call1|a (least recently used)
    expect(o.accept("call1|a", 0, "x third", 0).deliver).toEqual(["x third"]);
  });

  it("any interleaving with duplicates delivers every message exactly once, in order", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 30 }).chain((n) =>
          fc.tuple(
            fc.constant(n),
            fc.shuffledSubarray(
              [...Array(n).keys()].flatMap((i) => [i, i]),
              { minLength: 2 * n, maxLength: 2 * n },
            ),
          ),
        ),
        ([n, arrivals]) => {
          const o = new SeqOrderer<number>(1000);
          const delivered: number[] = [];
          for (const seq of arrivals) {
            delivered.push(...o.accept("k", seq, seq, 0).deliver);
          }
          expect(delivered).toEqual([...Array(n).keys()]);
        },
      ),
    );
  });
});
