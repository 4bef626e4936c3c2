import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../core/Clock.js";
import { MatrixPortError } from "../core/errors.js";
import { silentLogger } from "../core/Logger.js";
import { CandidateBatcher, type WireCandidate } from "./CandidateBatcher.js";

const cand = (i: number): WireCandidate => ({
  candidate: `candidate:${i} 1 udp 1 127.0.0.1 ${5000 + i} typ host`,
  sdpMid: "0",
  sdpMLineIndex: 0,
});

describe("CandidateBatcher", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function make(send: (c: WireCandidate[]) => Promise<void>, onGiveUp = vi.fn()) {
    return {
      batcher: new CandidateBatcher({
        clock: systemClock,
        logger: silentLogger,
        delayMs: 200,
        send,
        onGiveUp,
      }),
      onGiveUp,
    };
  }

  it("holds candidates until enabled, then sends them in one batch after the delay", async () => {
    const sent: WireCandidate[][] = [];
    const { batcher } = make((c) => {
      sent.push(c);
      return Promise.resolve();
    });
    batcher.add(cand(1));
    batcher.add(cand(2));
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([]);
    batcher.enable();
    batcher.add(cand(3));
    await vi.advanceTimersByTimeAsync(199);
    expect(sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toEqual([[cand(1), cand(2), cand(3)]]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("keeps one flush timer at a time however many candidates arrive", async () => {
    const sent: WireCandidate[][] = [];
    const { batcher } = make((c) => {
      sent.push(c);
      return Promise.resolve();
    });
    batcher.enable();
    for (let i = 0; i < 10; i++) {
      batcher.add(cand(i));
      expect(vi.getTimerCount()).toBe(1);
    }
    await vi.advanceTimersByTimeAsync(200);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toHaveLength(10);
  });

  it("discards candidates that went out inside the SDP", async () => {
    const sent: WireCandidate[][] = [];
    const { batcher } = make((c) => {
      sent.push(c);
      return Promise.resolve();
    });
    batcher.add(cand(1));
    batcher.discardQueued();
    batcher.enable();
    await vi.advanceTimersByTimeAsync(1000);
    expect(sent).toEqual([]);
  });

  it("keeps the candidates of a failed send and retries with backoff, honouring retry_after_ms (D7)", async () => {
    const attempts: [number, WireCandidate[]][] = [];
    let fail = 2;
    const { batcher } = make((c) => {
      attempts.push([Date.now(), c]);
      if (fail-- > 0) {
        return Promise.reject(new MatrixPortError("M_LIMIT_EXCEEDED", 429, "slow down", 3000));
      }
      return Promise.resolve();
    });
    const start = Date.now();
    batcher.enable();
    batcher.add(cand(1));
    await vi.advanceTimersByTimeAsync(200);
    batcher.add(cand(2));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(attempts.map(([t]) => t - start)).toEqual([200, 3200, 6200]);
    expect(attempts[2]![1]).toEqual([cand(1), cand(2)]);
  });

  it("gives up after more than five failures in a row", async () => {
    const attempts: number[] = [];
    const start = Date.now();
    const { batcher, onGiveUp } = make(() => {
      attempts.push(Date.now() - start);
      return Promise.reject(new Error("offline"));
    });
    batcher.enable();
    batcher.add(cand(1));
    // Five failures (backoff 1, 2, 4, 8 s after the batch delay): still trying.
    await vi.advanceTimersByTimeAsync(200 + 1000 + 2000 + 4000 + 8000);
    expect(attempts).toEqual([200, 1200, 3200, 7200, 15200]);
    expect(onGiveUp).not.toHaveBeenCalled();
    // The sixth failure gives up: no further attempt, no timer left.
    await vi.advanceTimersByTimeAsync(16_000 + 64_000);
    expect(attempts).toEqual([200, 1200, 3200, 7200, 15200, 31200]);
    expect(onGiveUp).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stops sending and clears its timer on dispose", async () => {
    const send = vi.fn(() => Promise.resolve());
    const { batcher } = make(send);
    batcher.enable();
    batcher.add(cand(1));
    batcher.dispose();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(1000);
    expect(send).not.toHaveBeenCalled();
  });
});
