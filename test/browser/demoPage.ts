// Helpers the browser tests of the web demo share: open a page of the built demo in headless Chromium, collect its
// errors, and poll a value in the page until it is what the test waits for.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { buildWebDemo } from "../../demo/web/build.js";
import { serveStatic, type ApiRoute, type StaticServer } from "../../demo/web/staticServer.js";
import { launchChromium } from "./chromium.js";

/** A page of the web demo open in headless Chromium. */
export interface DemoPage {
  page: Page;
  /** Uncaught page errors and `console.error` lines so far. */
  errors: string[];
  /** A scratch folder for screenshots (removed by `close`). */
  dir: string;
  close(): Promise<void>;
}

/**
 * Builds the web demo, serves it on 127.0.0.1, opens `path` in headless Chromium and waits until the page has set
 * `window[ready]`.
 */
export async function openDemoPage(
  path: string,
  ready: string,
  viewport: { width: number; height: number },
  api?: ApiRoute,
): Promise<DemoPage> {
  const dir = await mkdtemp(join(tmpdir(), "famedly-web-demo-"));
  let server: StaticServer | undefined;
  let browser: Browser | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    server = await serveStatic(await buildWebDemo(join(dir, "dist")), 0, api);
    browser = await launchChromium();
    const page = await browser.newPage({ viewport });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    page.on("console", (message) => {
      if (message.type() === "error") {
        errors.push(message.text());
      }
    });
    await page.goto(`${server.url}${path}`);
    await page.waitForFunction((name) => name in window, ready, { timeout: 10_000 });
    return { page, errors, dir, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** Polls `read` in `page` until `check` accepts its value; returns that value. */
export async function pollPage<T>(
  page: Page,
  what: string,
  read: () => T | Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let value = await page.evaluate(read);
  while (!check(value)) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    value = await page.evaluate(read);
  }
  return value;
}
