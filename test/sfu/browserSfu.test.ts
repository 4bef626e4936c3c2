/**
 * The web demo's SFU page in headless Chromium: alice and bob (livekit-client, our LiveKitKeyBridge fed by our key
 * manager over an in-page LocalHomeserver) join the real LiveKit server with E2EE and render each other's video.
 * Saves a screenshot (docs/sfu-demo.png when UPDATE_SCREENSHOTS=1).
 */
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { livekitRoutes } from "../../demo/web/livekitRoutes.js";
import type { SfuParticipantState, SfuWho } from "../../demo/web/sfuApi.js";
import { haveChromium } from "../browser/chromium.js";
import { openDemoPage, type DemoPage } from "../browser/demoPage.js";

const chromiumPresent = haveChromium("the SFU page browser test");
const livekit = inject("livekit");

let demo: DemoPage | undefined;
let page: Page;

async function states(): Promise<Record<SfuWho, SfuParticipantState>> {
  return page.evaluate(() => window.sfu!.state());
}

/** Polls the page until `check` accepts both participants' states. */
async function until(
  what: string,
  check: (s: Record<SfuWho, SfuParticipantState>) => boolean,
  timeoutMs = 30_000,
): Promise<Record<SfuWho, SfuParticipantState>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const s = await states();
    if (check(s)) {
      return s;
    }
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s)}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe.skipIf(!chromiumPresent)("SFU page in headless Chromium with a real LiveKit server", () => {
  beforeAll(async () => {
    demo = await openDemoPage("sfu.html", "sfu", { width: 1100, height: 560 }, livekitRoutes(livekit));
    page = demo.page;
  });

  afterAll(async () => {
    await demo?.close();
  });

  it("alice and bob join with E2EE, get keys only from the key manager, and render each other's video", async () => {
    await page.evaluate(() => window.sfu!.join("alice"));
    await page.evaluate(() => window.sfu!.join("bob"));
    const joined = await until(
      "both decoding",
      (s) => s.alice.remoteFramesRendered >= 30 && s.bob.remoteFramesRendered >= 30,
    );
    for (const who of ["alice", "bob"] as const) {
      expect(joined[who]).toMatchObject({ groupState: "entered", connection: "connected" });
      expect(joined[who].keyIndex).toBeDefined();
      expect(joined[who].keysSet).toBeGreaterThanOrEqual(2); // its own key and the other's
      expect(joined[who].remoteVideoWidth).toBeGreaterThan(0);
    }
    // Decoded video changes from frame to frame (the fake camera animates).
    const first = joined.alice.remoteFrameHash;
    await until("alice's remote picture to change", (s) => s.alice.remoteFrameHash !== first);
    // livekit-client used no ICE server but the loopback STUN address of the test server's config.
    const urls = await page.evaluate(() => window.sfu!.iceServerUrls());
    expect(urls.length).toBeGreaterThan(0);
    expect(new Set(urls)).toEqual(new Set(["stun:127.0.0.1:3478"]));

    const shot = join(demo!.dir, "sfu-demo.png");
    await page.screenshot({ path: shot });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    if (process.env.UPDATE_SCREENSHOTS === "1") {
      await copyFile(shot, join(import.meta.dirname, "../../docs/sfu-demo.png"));
    }
    await page.evaluate(() => window.sfu!.leave("bob"));
    await page.evaluate(() => window.sfu!.leave("alice"));
    expect(demo!.errors).toEqual([]);
  });
});
