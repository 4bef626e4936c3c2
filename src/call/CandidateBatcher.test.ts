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

  it("does not retry on its own: a failed send keeps its candidates, is logged and gives up once (D7)", async () => {
    const attempts: WireCandidate[][] = [];
    const { batcher, onGiveUp } = make((c) => {
      attempts.push(c);
      return Promise.reject(new MatrixPortError("M_UNKNOWN", 502, "bad gateway"));
    });
    batcher.enable();
    batcher.add(cand(1));
    await vi.advanceTimersByTimeAsync(200);
    batcher.add(cand(2));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(attempts).toEqual([[cand(1)]]);
    expect(onGiveUp).toHaveBeenCalledTimes(1);
    expect(batcher.pending).toEqual([cand(1), cand(2)]);
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
