// `npm run demo -- --homeserver …` against the suite's Synapse: the README's real-server path, end to end.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import type { DemoSummary } from "../../demo/summary.js";
import { registerUser, synapse } from "./clients.js";

function runDemo(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("npx", ["tsx", "demo/cli.ts", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => {
      resolve({ code, stdout, stderr });
    });
  });
}

describe("demo against Synapse", () => {
  it("runs the one-to-one scenario between two accounts and reports success as JSON", async () => {
    const [alice, bob] = await Promise.all([registerUser("demoa"), registerUser("demob")]);
    const { code, stdout, stderr } = await runDemo([
      "--homeserver",
      synapse().baseUrl,
      "--user",
      alice.localpart,
      "--password",
      alice.password,
      "--peer-user",
      bob.localpart,
      "--peer-password",
      bob.password,
      "--json",
    ]);
    expect(code, stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1)!) as {
      ok: boolean;
      hangupReason: string;
      participants: {
        userId: string;
        states: string[];
        audioBytesReceived: number;
        videoFramesReceived: number;
      }[];
    };
    expect(summary.ok).toBe(true);
    expect(summary.hangupReason).toBe("user_hangup");
    expect(summary.participants.map((p) => p.userId)).toEqual([alice.userId, bob.userId]);
    for (const p of summary.participants) {
      expect(p.states).toContain("connected");
      expect(p.audioBytesReceived).toBeGreaterThan(0);
      expect(p.videoFramesReceived).toBeGreaterThan(0);
    }
  }, 90_000);

  it("runs the mesh scenario between three accounts: every pair connects and carries audio both ways, one leaves and rejoins", async () => {
    const users = await Promise.all([registerUser("mesha"), registerUser("meshb"), registerUser("meshc")]);
    const [first, ...peers] = users;
    const { code, stdout, stderr } = await runDemo([
      "--scenario",
      "mesh",
      "--participants",
      "3",
      "--homeserver",
      synapse().baseUrl,
      "--user",
      first.localpart,
      "--password",
      first.password,
      ...peers.flatMap((p) => ["--peer-user", p.localpart, "--peer-password", p.password]),
      "--timeout",
      "90000",
      "--json",
    ]);
    expect(code, stderr.slice(-2000)).toBe(0);
    const summary = JSON.parse(stdout.trim().split("\n").at(-1)!) as DemoSummary;
    expect(summary.scenario).toBe("mesh");
    expect(summary.ok).toBe(true);
    expect(summary.participants.map((p) => p.userId)).toEqual(users.map((u) => u.userId));
    expect(summary.pairsConnected).toBe(3);
    const ids = summary.participants.map((p) => `${p.userId}:${p.deviceId}`).sort();
    expect(summary.pairs?.map((p) => [p.a, p.b]).sort()).toEqual([
      [ids[0], ids[1]],
      [ids[0], ids[2]],
      [ids[1], ids[2]],
    ]);
    for (const pair of summary.pairs ?? []) {
      expect(pair.connectedMs).toBeGreaterThan(0);
      expect(pair.bytesAtoB).toBeGreaterThan(0);
      expect(pair.bytesBtoA).toBeGreaterThan(0);
    }
    const steps = summary.events.filter((e) => e.who === "demo" && e.what.startsWith("✓")).map((e) => e.what);
    const leaver = `${summary.participants[2]!.userId}:${summary.participants[2]!.deviceId}`;
    expect(steps).toContain(`✓ ${leaver} leaves: the other 2 dropped their legs to it`);
    expect(steps).toContain(`✓ ${leaver} rejoins: full mesh again`);
    expect(summary.events.map((e) => e.what)).toContain("every device knows every other device's keys");
    expect(stdout).toMatch(/pairs connected: 3/);
  }, 180_000);

  it("fails the mesh scenario with exit code 1 and names the account whose login failed", async () => {
    const [a, b] = await Promise.all([registerUser("meshd"), registerUser("meshe")]);
    const { code, stderr } = await runDemo([
      "--scenario",
      "mesh",
      "--homeserver",
      synapse().baseUrl,
      "--user",
      a.localpart,
      "--password",
      a.password,
      "--peer-user",
      b.localpart,
      "--peer-password",
      "not-the-password",
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/could not set up the participants: .*meshe-/);
  }, 60_000);

  it("gives up on a setup past --timeout with exit code 1 and logs out the device it had logged in", async () => {
    const [a, b] = await Promise.all([registerUser("meshf"), registerUser("meshg")]);
    const { code, stderr } = await runDemo([
      "--scenario",
      "mesh",
      "--homeserver",
      synapse().baseUrl,
      "--user",
      a.localpart,
      "--password",
      a.password,
      "--peer-user",
      b.localpart,
      "--peer-password",
      b.password,
      "--timeout",
      "1",
    ]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/could not set up the participants: timed out after 1 ms: logging in/);
    // The first account had started logging in before the deadline; the demo logged that device out again.
    const login = (await (
      await fetch(`${synapse().baseUrl}/_matrix/client/v3/login`, {
        method: "POST",
        body: JSON.stringify({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: a.localpart },
          password: a.password,
        }),
      })
    ).json()) as { access_token: string; device_id: string };
    const { devices } = (await (
      await fetch(`${synapse().baseUrl}/_matrix/client/v3/devices`, {
        headers: { authorization: `Bearer ${login.access_token}` },
      })
    ).json()) as { devices: { device_id: string }[] };
    expect(devices.map((d) => d.device_id)).toEqual([login.device_id]);
  }, 60_000);
});
