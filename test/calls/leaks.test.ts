// Many calls in a row leave nothing behind: no timers, no live media sources, no registered calls.
import { describe, expect, it } from "vitest";
import { CallState, CallType } from "../../src/index.js";
import { connectedCall, twoPeers, until, untilState } from "../helpers/calls.js";

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("resource hygiene", () => {
  it("places and ends 10 calls without leaking timers or calls", async () => {
    const env = await twoPeers();
    env.hs.setTurnServers(undefined);
    await until(() => true, "settle");
    const baseline = timers();
    for (let i = 0; i < 10; i++) {
      const { outgoing, incoming } = await connectedCall(env, i % 2 === 0 ? CallType.Video : CallType.Voice);
      await (i % 2 === 0 ? outgoing : incoming).hangup();
      await untilState(outgoing, CallState.Ended);
      await untilState(incoming, CallState.Ended);
    }
    expect(env.alice.voip.calls.size + env.bob.voip.calls.size).toBe(0);
    // Candidate batches, gathering waits and invite timers are all cleared by the end path; allow the test's own
    // polling timer and a moment for in-flight sends to settle.
    await until(
      () => timers() <= baseline + 1,
      `timers back to the baseline (${baseline}), now ${timers()}`,
      5000,
    );
    await env.close();
  }, 60_000);
});
