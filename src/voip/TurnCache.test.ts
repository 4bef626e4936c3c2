import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "../core/Clock.js";
import { silentLogger } from "../core/Logger.js";
import type { MatrixClientPort, TurnServers } from "../matrix/MatrixClientPort.js";
import { TurnCache } from "./TurnCache.js";

function portWith(answers: (TurnServers | undefined | Error)[]) {
  let i = 0;
  const getTurnServers = vi.fn(() => {
    const a = answers[Math.min(i++, answers.length - 1)];
    return a instanceof Error ? Promise.reject(a) : Promise.resolve(a);
  });
  return { port: { getTurnServers } as unknown as MatrixClientPort, getTurnServers };
}

describe("TurnCache", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("maps the answer to RTCIceServer and shares one request between concurrent callers", async () => {
    const { port, getTurnServers } = portWith([
      { uris: ["turn:a", "turns:b"], username: "u", password: "p", ttl: 100 },
    ]);
    const cache = new TurnCache(port, systemClock, silentLogger, () => false);
    const [a, b] = await Promise.all([cache.get(), cache.get()]);
    expect(a).toEqual([{ urls: ["turn:a", "turns:b"], username: "u", credential: "p" }]);
    expect(b).toBe(a);
    expect(getTurnServers).toHaveBeenCalledTimes(1);
    cache.dispose();
  });

  it("refetches once 90% of the ttl has passed, proactively while calls run (D11)", async () => {
    const { port, getTurnServers } = portWith([
      { uris: ["turn:a"], username: "u1", password: "p1", ttl: 100 },
      { uris: ["turn:a"], username: "u2", password: "p2", ttl: 100 },
    ]);
    const cache = new TurnCache(port, systemClock, silentLogger, () => true);
    await cache.get();
    await vi.advanceTimersByTimeAsync(89_000);
    expect(getTurnServers).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(getTurnServers).toHaveBeenCalledTimes(2);
    expect((await cache.get())[0]?.username).toBe("u2");
    cache.dispose();
    expect(vi.getTimerCount()).toBe(0);

    // Without a running call nothing is fetched at 90%; the next get() fetches.
    const idle = portWith([
      { uris: ["turn:a"], username: "u1", password: "p1", ttl: 100 },
      { uris: ["turn:a"], username: "u2", password: "p2", ttl: 100 },
    ]);
    const lazy = new TurnCache(idle.port, systemClock, silentLogger, () => false);
    await lazy.get();
    await vi.advanceTimersByTimeAsync(95_000);
    expect(idle.getTurnServers).toHaveBeenCalledTimes(1);
    expect((await lazy.get())[0]?.username).toBe("u2");
    expect(idle.getTurnServers).toHaveBeenCalledTimes(2);
    lazy.dispose();
  });

  it("tolerates an empty uris list and a missing answer", async () => {
    const { port } = portWith([{ uris: [] }]);
    expect(await new TurnCache(port, systemClock, silentLogger, () => false).get()).toEqual([]);
    const none = portWith([undefined]);
    expect(await new TurnCache(none.port, systemClock, silentLogger, () => false).get()).toEqual([]);
  });

  it("never rejects: a failed fetch gives the last good answer while it is valid", async () => {
    const { port } = portWith([{ uris: ["turn:a"], ttl: 100 }, new Error("down")]);
    const cache = new TurnCache(port, systemClock, silentLogger, () => false);
    await cache.get();
    await vi.advanceTimersByTimeAsync(95_000);
    expect(await cache.get()).toEqual([{ urls: ["turn:a"] }]);
    cache.dispose();
  });
});
