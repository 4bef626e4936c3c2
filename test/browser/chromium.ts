// Launching headless Chromium for the browser tests: the Debian package, fake media devices, and flags that keep
// WebRTC on this machine (loopback ICE candidates allowed, no mDNS names, no name resolution but localhost).
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

/** The browser to drive: the Debian package by default (see reference/webrtc-runtimes.md §4). */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Whether Chromium is installed; with CI=true a missing Chromium throws instead (a suite must never skip in CI). */
export function haveChromium(suite: string): boolean {
  if (existsSync(CHROMIUM)) {
    return true;
  }
  if (process.env.CI === "true") {
    throw new Error(`${CHROMIUM} is missing: CI must provision it (apt-get install -y chromium)`);
  }
  console.warn(`SKIPPING ${suite}: ${CHROMIUM} not found (apt-get install -y chromium)`);
  return false;
}

/** Command-line flags for every test browser. */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--use-fake-device-for-media-stream",
  "--use-fake-ui-for-media-stream",
  "--autoplay-policy=no-user-gesture-required",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  // In the test network namespace only loopback (and a private veth pair) exists: pair 127.0.0.1 with 127.0.0.1.
  "--allow-loopback-in-peer-connection",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
  "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost , EXCLUDE 127.0.0.1",
];

/** Launches headless Chromium with {@link CHROMIUM_ARGS}. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}
