// `npm run demo -- --homeserver …` against the suite's Synapse: the README's real-server path, end to end.
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
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
});
