/**
 * The web demo's mesh page in headless Chromium with fake media devices: alice, bob and carol (one in-page
 * LocalHomeserver, an encrypted room) enter one mesh group call with real browser WebRTC, driven through
 * `window.mesh`. Every pair connects both ways and carries audio and decoded video to every tile; the active-speaker
 * highlight follows whoever is the only one with an open microphone, as each group call computes it from the audio
 * levels in its WebRTC stats. Saves a screenshot (docs/mesh-demo.png when UPDATE_SCREENSHOTS=1).
 */
import { copyFile, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MeshParticipantState, MeshWho } from "../../demo/web/meshApi.js";
import type { CallStats } from "../../src/index.js";
import { CallState, GroupCallState } from "../../src/index.js";
import { haveChromium } from "./chromium.js";
import { openDemoPage, pollPage, type DemoPage } from "./demoPage.js";

const chromiumPresent = haveChromium("the mesh page browser test");
const WHO = ["alice", "bob", "carol"] as const satisfies readonly MeshWho[];
/** Every ordered pair: (who, the member whose leg and tile it looks at). */
const PAIRS = WHO.flatMap((who) =>
  WHO.filter((other) => other !== who).map((other) => [who, other] as const),
);

let demo: DemoPage | undefined;
let page: Page;

function states(): Promise<Record<MeshWho, MeshParticipantState>> {
  return page.evaluate(() => window.mesh!.state());
}

/** Polls the participants' states until `check` accepts them. */
function until(
  what: string,
  check: (s: Record<MeshWho, MeshParticipantState>) => boolean,
  timeoutMs = 30_000,
): Promise<Record<MeshWho, MeshParticipantState>> {
  return pollPage(page, what, () => window.mesh!.state(), check, timeoutMs);
}

/** Polls every leg's stats until `check` accepts each of them. */
function untilStats(
  what: string,
  check: (stats: CallStats, who: MeshWho, other: MeshWho) => boolean,
): Promise<Record<MeshWho, Partial<Record<MeshWho, CallStats>>>> {
  return pollPage(
    page,
    what,
    () => window.mesh!.stats(),
    (s) => PAIRS.every(([who, other]) => s[who][other] !== undefined && check(s[who][other], who, other)),
    30_000,
  );
}

/** Which tiles the page highlights, as [participant, highlighted member], read from the DOM. */
function highlightedTiles(): Promise<string[][]> {
  return page.$$eval('.participant .tile[data-speaking="true"]', (tiles) =>
    tiles.map((tile) => [tile.closest(".participant")?.id ?? "?", (tile as HTMLElement).dataset.who ?? "?"]),
  );
}

/** Waits until every participant's group call names `speaker` as active speaker; checks the highlight follows. */
async function expectSpeaker(speaker: MeshWho): Promise<void> {
  const s = await until(`everyone's active speaker to be ${speaker}`, (s) =>
    WHO.every((who) => s[who].activeSpeaker === speaker),
  );
  for (const who of WHO) {
    expect(s[who].localHighlighted).toBe(who === speaker);
    for (const other of WHO.filter((w) => w !== who)) {
      expect(s[who].tiles[other]?.highlighted).toBe(other === speaker);
    }
  }
  expect(await highlightedTiles()).toEqual(WHO.map((who) => [who, speaker]));
}

describe.skipIf(!chromiumPresent)("mesh page in headless Chromium", () => {
  beforeAll(async () => {
    demo = await openDemoPage("mesh.html", "mesh", { width: 1280, height: 600 });
    page = demo.page;
  });

  afterAll(async () => {
    await demo?.close();
  });

  it("connects every pair with audio and video on every tile, and highlights the active speaker", async () => {
    expect(await states()).toMatchObject({ alice: { groupState: "none" }, carol: { groupState: "none" } });
    await page.evaluate(() =>
      Promise.all(["alice", "bob", "carol"].map((w) => window.mesh!.enter(w as MeshWho))),
    );

    // Every pair connected on both sides (three pairs, six legs).
    const connected = await until("every leg connected", (s) =>
      PAIRS.every(([who, other]) => s[who].tiles[other]?.callState === CallState.Connected),
    );
    for (const who of WHO) {
      expect(connected[who].groupState).toBe(GroupCallState.Entered);
    }

    // Real media on every leg: audio bytes and decoded video frames, still increasing a moment later.
    const first = await untilStats(
      "audio and decoded video on every leg",
      (s) => s.audio.bytesReceived > 0 && s.video.framesDecoded > 0,
    );
    await untilStats(
      "more audio bytes and decoded frames on every leg",
      (s, who, other) =>
        s.audio.bytesReceived > first[who][other]!.audio.bytesReceived &&
        s.video.framesDecoded > first[who][other]!.video.framesDecoded,
    );
    // …and every tile's <video> renders them.
    await until("every tile renders frames", (s) =>
      PAIRS.every(([who, other]) => (s[who].tiles[other]?.framesRendered ?? 0) > 0),
    );

    // Only bob talks: every group call finds bob loudest (bob: his own microphone), and the page highlights him.
    await page.evaluate(() => window.mesh!.talk("bob"));
    await expectSpeaker("bob");
    // Then only carol: the speaker moves to her.
    await page.evaluate(() => window.mesh!.talk("carol"));
    await expectSpeaker("carol");
    const s = await states();
    expect(WHO.map((who) => s[who].micMuted)).toEqual([true, true, false]);

    // No ICE server at all: the in-page homeserver offers no TURN and the library adds no public STUN.
    expect(await page.evaluate(() => window.mesh!.iceServerUrls())).toEqual([]);

    const shot = join(demo!.dir, "mesh-demo.png");
    await page.screenshot({ path: shot });
    const png = await readFile(shot);
    expect(png.subarray(1, 4).toString("latin1")).toBe("PNG");
    if (process.env.UPDATE_SCREENSHOTS === "1") {
      await copyFile(shot, join(import.meta.dirname, "../../docs/mesh-demo.png"));
    }

    // carol leaves: alice and bob drop their legs to her and stay connected to each other.
    await page.evaluate(() => window.mesh!.leave("carol"));
    const left = await until("alice and bob without a live leg to carol", (s) =>
      (["alice", "bob"] as const).every(
        (who) => !["connected", "connecting"].includes(s[who].tiles.carol?.callState ?? "none"),
      ),
    );
    expect(left.alice.tiles.bob?.callState).toBe(CallState.Connected);
    expect(left.bob.tiles.alice?.callState).toBe(CallState.Connected);
    expect(left.carol.groupState).not.toBe(GroupCallState.Entered);
    expect(demo!.errors).toEqual([]);
  });
});
