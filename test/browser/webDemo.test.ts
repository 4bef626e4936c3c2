/**
 * End to end in a real browser: the web demo (two participants, one in-page LocalHomeserver) in headless
 * Chromium with fake media devices, driven through `window.demo`. Covers what Node's wrtc cannot: a browser
 * delegate, rendered video, and DTMF tones actually played by an RTCDTMFSender.
 */
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ParticipantState, Who } from "../../demo/web/api.js";
import { CallErrorCode, CallState } from "../../src/index.js";
import { haveChromium } from "./chromium.js";
import { openDemoPage, pollPage as pollIn, type DemoPage } from "./demoPage.js";

const chromiumPresent = haveChromium("the web demo browser test");

let demo: DemoPage | undefined;
let page: Page;

/** Polls `read` in the page until `check` accepts its value; returns that value. */
function pollPage<T>(what: string, read: () => T | Promise<T>, check: (value: T) => boolean): Promise<T> {
  return pollIn(page, what, read, check);
}

function states(): Promise<Record<Who, ParticipantState>> {
  return page.evaluate(() => window.demo!.state());
}

describe.skipIf(!chromiumPresent)("web demo in headless Chromium", () => {
  beforeAll(async () => {
    demo = await openDemoPage("", "demo", { width: 1100, height: 660 });
    page = demo.page;
  });

  afterAll(async () => {
    await demo?.close();
  });

  it("calls, shows video both ways, plays DTMF, reflects mute, hold and screen sharing, and hangs up", async () => {
    expect(await states()).toMatchObject({ alice: { state: "idle" }, bob: { state: "idle" } });

    await page.evaluate(() => window.demo!.call("alice"));
    await pollPage(
      "bob ringing",
      () => window.demo!.state().bob.state,
      (s) => s === CallState.Ringing,
    );
    await page.evaluate(() => window.demo!.answer("bob"));
    await pollPage(
      "both connected",
      () => window.demo!.state(),
      (s) => s.alice.state === CallState.Connected && s.bob.state === CallState.Connected,
    );

    // Real media: remote video decoded by both peer connections and rendered by both <video> elements.
    const stats = await pollPage(
      "video decoded on both sides",
      () => window.demo!.stats(),
      (s) => (s.alice?.video.framesDecoded ?? 0) > 0 && (s.bob?.video.framesDecoded ?? 0) > 0,
    );
    expect(stats.alice!.audio.bytesReceived).toBeGreaterThan(0);
    expect(stats.bob!.audio.bytesReceived).toBeGreaterThan(0);
    await pollPage(
      "video rendered",
      () => window.demo!.renderedFrames(),
      (f) => f.alice > 0 && f.bob > 0,
    );

    // DTMF: the sender the library uses plays each tone, then signals the end of the run with "".
    await page.evaluate(() => {
      window.demo!.sendDTMF("123#", "alice");
    });
    const tones = await pollPage(
      "DTMF tones played",
      () => window.demo!.dtmfToneChanges("alice"),
      (t) => t.includes(""),
    );
    expect(tones).toEqual(["1", "2", "3", "#", ""]);

    // Mute: alice's microphone shows as muted on bob's side, and back.
    await page.evaluate(() => window.demo!.setMicrophoneMuted("alice", true));
    expect((await states()).alice.micMuted).toBe(true);
    await pollPage(
      "bob sees alice muted",
      () => window.demo!.state().bob.remoteAudioMuted,
      (m) => m === true,
    );
    await page.evaluate(() => window.demo!.setMicrophoneMuted("alice", false));
    await pollPage(
      "bob sees alice unmuted",
      () => window.demo!.state().bob.remoteAudioMuted,
      (m) => m === false,
    );

    // Hold: bob holds alice; alice's side knows it is held.
    await page.evaluate(() => window.demo!.setRemoteOnHold("bob", true));
    await pollPage(
      "alice held",
      () => window.demo!.state().alice.localOnHold,
      (h) => h,
    );
    await page.evaluate(() => window.demo!.setRemoteOnHold("bob", false));
    await pollPage(
      "alice resumed",
      () => window.demo!.state().alice.localOnHold,
      (h) => !h,
    );

    // Screen sharing: a second stream that bob receives as alice's screen, and that goes away again.
    expect(await page.evaluate(() => window.demo!.setScreensharing("alice", true))).toBe(true);
    await pollPage(
      "bob sees alice's screen",
      () => window.demo!.state().bob.remoteScreensharing,
      (on) => on,
    );

    const shot = join(demo!.dir, "web-demo.png");
    await page.screenshot({ path: shot });
    const png = await readFile(shot);
    expect(png.length).toBeGreaterThan(10_000);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");

    expect(await page.evaluate(() => window.demo!.setScreensharing("alice", false))).toBe(false);
    await pollPage(
      "alice's screen gone",
      () => window.demo!.state().bob.remoteScreensharing,
      (on) => !on,
    );

    await page.evaluate(() => window.demo!.hangup("alice"));
    const ended = await pollPage(
      "both ended",
      () => window.demo!.state(),
      (s) => s.alice.state === CallState.Ended && s.bob.state === CallState.Ended,
    );
    expect(ended.alice.hangupReason).toBe(CallErrorCode.UserHangup);
    expect(ended.bob.hangupReason).toBe(CallErrorCode.UserHangup);
    expect(demo!.errors).toEqual([]);
  });
});
