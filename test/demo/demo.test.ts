import { describe, expect, it } from "vitest";
import type { DemoSummary } from "../../demo/summary.js";
import { lastJsonLine, runScript } from "./run.js";

describe("npm run demo", () => {
  it("runs the one-to-one scenario with real media and prints a JSON summary last", async () => {
    const run = await runScript("demo/cli.ts", ["--json"]);
    expect(run.code, run.stderr).toBe(0);
    const summary = lastJsonLine(run.stdout) as DemoSummary;
    expect(summary.scenario).toBe("one-to-one");
    expect(summary.ok).toBe(true);
    expect(summary.setupMs).toBeGreaterThan(0);
    expect(summary.hangupReason).toBe("user_hangup");
    expect(summary.participants).toHaveLength(2);
    for (const p of summary.participants) {
      expect(p.userId).toMatch(/^@.+:.+/);
      expect(p.deviceId).not.toBe("");
      expect(p.states).toContain("connected");
      expect(p.states.at(-1)).toBe("ended");
      expect(p.audioBytesReceived).toBeGreaterThan(0);
      expect(p.videoFramesReceived).toBeGreaterThan(0);
    }
    expect(summary.participants[0]!.states.slice(0, 3)).toEqual(["fledgling", "create_offer", "invite_sent"]);
    expect(summary.participants[1]!.states).toContain("ringing");
    expect(summary.events.length).toBeGreaterThan(0);
    for (const e of summary.events) {
      expect(typeof e.t).toBe("number");
      expect(e.who).not.toBe("");
      expect(e.what).not.toBe("");
    }
    // Every verified step is on the timeline, and the human-readable lines carry the milliseconds.
    const steps = summary.events.filter((e) => e.who === "demo" && e.what.startsWith("✓")).map((e) => e.what);
    for (const step of ["mute", "hold", "unhold", "screen share on", "screen share off", "hangup"]) {
      expect(
        steps.some((s) => s.startsWith(`✓ ${step}:`)),
        step,
      ).toBe(true);
    }
    expect(run.stdout).toMatch(/^ +\+\d+ ms {2}@bob:local:BOB +state ringing$/m);
  }, 60_000);

  it("runs the sfu scenario: 5 members exchange keys, one leaves and rejoins, keys consistent", async () => {
    const run = await runScript("demo/cli.ts", ["--scenario", "sfu", "--participants", "5", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const summary = lastJsonLine(run.stdout) as DemoSummary;
    expect(summary.scenario).toBe("sfu");
    expect(summary.ok).toBe(true);
    expect(summary.keysConsistent).toBe(true);
    const ids = summary.participants.map((p) => `${p.userId}:${p.deviceId}`);
    expect(ids).toHaveLength(5);
    expect(Object.keys(summary.keys ?? {}).sort()).toEqual([...ids].sort());
    for (const [holder, keys] of Object.entries(summary.keys ?? {})) {
      // Every member holds a key of every member (its own included).
      expect(new Set(keys.map(([p]) => p)), holder).toEqual(new Set(ids));
    }
    const steps = summary.events.filter((e) => e.who === "demo" && e.what.startsWith("✓")).map((e) => e.what);
    expect(steps.some((s) => s.includes("leaves: all 4 others use a new key"))).toBe(true);
    expect(steps.some((s) => s.includes("rejoins"))).toBe(true);
    expect(run.stdout).toMatch(/encrypting with own key #1/);
  }, 60_000);

  it("runs the mesh scenario: 4 members, every pair connects and carries audio both ways, one leaves and rejoins", async () => {
    const run = await runScript("demo/cli.ts", ["--scenario", "mesh", "--participants", "4", "--json"]);
    expect(run.code, run.stderr).toBe(0);
    const summary = lastJsonLine(run.stdout) as DemoSummary;
    expect(summary.scenario).toBe("mesh");
    expect(summary.ok).toBe(true);
    expect(summary.pairsConnected).toBe(6);
    const ids = summary.participants.map((p) => `${p.userId}:${p.deviceId}`).sort();
    expect(ids).toHaveLength(4);
    expect(summary.pairs?.map((p) => [p.a, p.b])).toEqual(
      ids.flatMap((a, i) => ids.slice(i + 1).map((b) => [a, b])),
    );
    for (const pair of summary.pairs ?? []) {
      expect(pair.connectedMs).toBeGreaterThan(0);
      expect(pair.bytesAtoB).toBeGreaterThan(0);
      expect(pair.bytesBtoA).toBeGreaterThan(0);
    }
    const steps = summary.events.filter((e) => e.who === "demo" && e.what.startsWith("✓")).map((e) => e.what);
    expect(steps.some((s) => s.includes("leaves: the other 3 dropped their legs"))).toBe(true);
    expect(steps.some((s) => s.includes("rejoins: full mesh again"))).toBe(true);
    expect(run.stdout).toMatch(/pairs connected: 6/);
  }, 60_000);

  it("rejects a participant count other than 2 for one-to-one", async () => {
    const run = await runScript("demo/cli.ts", ["--participants", "3"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/exactly 2 participants/);
  }, 30_000);
});
