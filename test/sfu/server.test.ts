/**
 * The LiveKit test server itself: it answers on 127.0.0.1, hands joining clients no ICE server but the loopback STUN
 * address of its config (never a public STUN or TURN server), and goes away when stopped or when the process that
 * started it dies.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { afterEach, describe, expect, inject, it } from "vitest";
import { readJoinResponse } from "./signal.js";
import { provisionLiveKit, startLiveKit, type LiveKitServer } from "./livekitServer.js";
import { mintToken } from "./tokens.js";

const livekit = inject("livekit");

/** True while `pid` runs (a zombie waiting for a parent that does not reap it counts as gone). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return true; // no /proc: signal 0 succeeded
  }
}

async function waitUntilGone(pid: number): Promise<void> {
  while (alive(pid)) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function answers(httpUrl: string): Promise<boolean> {
  try {
    return (await fetch(httpUrl, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

describe("LiveKit test server", () => {
  let extra: LiveKitServer | undefined;
  afterEach(async () => {
    await extra?.stop();
    extra = undefined;
  });

  it("answers OK on 127.0.0.1", async () => {
    expect(new URL(livekit.httpUrl).hostname).toBe("127.0.0.1");
    const response = await fetch(`${livekit.httpUrl}/`);
    expect(response.status).toBe(200);
    expect((await response.text()).trim()).toBe("OK");
  });

  it("hands a joining client only the loopback STUN server of its config, no TURN", async () => {
    const join = await readJoinResponse(livekit.wsUrl, await mintToken(livekit, "ice-probe", "ice-room"));
    const urls = join.iceServers.flatMap((server) => server.urls);
    expect(urls).toEqual(["stun:127.0.0.1:3478"]);
    expect(join.iceServers.every((server) => server.username === "" && server.credential === "")).toBe(true);
    expect(join.participant?.identity).toBe("ice-probe");
  });

  it("rejects a token signed with another secret", async () => {
    const forged = await mintToken(
      { ...livekit, apiSecret: "another-secret-of-at-least-32-chars!" },
      "x",
      "r",
    );
    await expect(readJoinResponse(livekit.wsUrl, forged)).rejects.toThrow(/HTTP 401/);
  });

  it("stop() ends the process and frees the port", async () => {
    extra = await startLiveKit(await provisionLiveKit());
    expect(await answers(extra.httpUrl)).toBe(true);
    const { pid, httpUrl } = extra;
    await extra.stop();
    extra = undefined;
    expect(alive(pid)).toBe(false);
    expect(await answers(httpUrl)).toBe(false);
  });

  it("goes away when the process that started it is killed", async () => {
    const bin = await provisionLiveKit();
    const child = spawn(process.execPath, ["--import", "tsx", "test/sfu/fixtures/startAndHang.ts", bin], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    const line = await new Promise<string>((resolveLine, reject) => {
      createInterface({ input: child.stdout }).once("line", resolveLine);
      child.once("exit", (code) => {
        reject(new Error(`fixture exited early (${String(code)})`));
      });
    });
    const [pidText, httpUrl] = line.split(" ");
    const pid = Number(pidText);
    expect(await answers(httpUrl!)).toBe(true);
    child.kill("SIGKILL");
    await waitUntilGone(pid);
    expect(await answers(httpUrl!)).toBe(false);
  });
});
