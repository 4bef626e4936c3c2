/**
 * Bundles the web demo with esbuild: `main.ts` (with the library and its in-memory homeserver) into one
 * browser ES module, next to a copy of `index.html`; likewise the SFU page (`sfu.ts`, `sfu.html`) and
 * livekit-client's E2EE worker. Used by `npm run demo:web` and the browser test.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** The default output folder, `demo/web/dist` (gitignored). */
export const DEFAULT_OUTDIR = join(here, "dist");

/**
 * Builds the page into `outdir`. `platform: "browser"` makes any Node-only import in the bundled code (the
 * library's root entry, `famedly-calls/testing`) a build error.
 * @returns the folder to serve
 */
export async function buildWebDemo(outdir: string = DEFAULT_OUTDIR): Promise<string> {
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: [join(here, "main.ts")],
    outfile: join(outdir, "main.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: true,
    logLevel: "warning",
  });
  await copyFile(join(here, "index.html"), join(outdir, "index.html"));
  // The SFU page, and livekit-client's E2EE worker as a file of its own (esbuild leaves
  // `new URL("livekit-client/e2ee-worker", import.meta.url)` alone, so the page loads it by URL).
  await build({
    entryPoints: [join(here, "sfu.ts")],
    outfile: join(outdir, "sfu.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    sourcemap: true,
    logLevel: "warning",
  });
  await build({
    entryPoints: ["livekit-client/e2ee-worker"],
    outfile: join(outdir, "e2ee-worker.js"),
    bundle: true,
    format: "iife",
    platform: "browser",
    target: "es2022",
    logLevel: "warning",
  });
  await copyFile(join(here, "sfu.html"), join(outdir, "sfu.html"));
  return outdir;
}
