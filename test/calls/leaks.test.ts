// Many calls in a row leave nothing behind: no timers, no live media sources or tracks, no open peer connections,
// no registered calls.
import { describe, expect, it } from "vitest";
import { CallState, CallType } from "../../src/index.js";
import { activeSourceCount } from "../../src/node/syntheticMedia.js";
import { connectedCall, recordDelegateResources, twoPeers, until, untilState } from "../helpers/calls.js";

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("resource hygiene", () => {
  it("places and ends 10 calls without leaking timers, media sources, tracks, peer connections or calls", async () => {
    const env = await twoPeers();
    env.hs.setTurnServers(undefined);
    const resources = [recordDelegateResources(env.alice), recordDelegateResources(env.bob)];
    const baseline = timers();
    expect(activeSourceCount()).toBe(0);
    for (let i = 0; i < 10; i++) {
      const video = i % 2 === 0;
      const { outgoing, incoming } = await connectedCall(env, video ? CallType.Video : CallType.Voice);
      if (i === 0) {
        // Mid-call the counters see the call: two peer connections, a microphone and a camera on each side.
        expect(resources.map((r) => r.openPeerConnections().length)).toEqual([1, 1]);
        expect(resources.map((r) => r.liveTracks().length)).toEqual([2, 2]);
        expect(activeSourceCount()).toBe(4);
      }
      await (i % 2 === 0 ? outgoing : incoming).hangup();
      await untilState(outgoing, CallState.Ended);
      await untilState(incoming, CallState.Ended);
      // The end path closes the peer connection and stops the tracks at once.
      expect(resources.map((r) => r.openPeerConnections().length)).toEqual([0, 0]);
      expect(resources.map((r) => r.liveTracks().map((t) => t.kind))).toEqual([[], []]);
    }
    expect(resources.map((r) => r.handedOut())).toEqual([
      { tracks: 15, peerConnections: 10 },
      { tracks: 15, peerConnections: 10 },
    ]);
    expect(activeSourceCount()).toBe(0);
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
