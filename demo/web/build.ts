/**
 * Bundles the web demo with esbuild: each page's script (with the library and its in-memory homeserver) into one
 * browser ES module next to a copy of its HTML — the 1:1 page (`index.html`, `main.ts`), the mesh page
 * (`mesh.html`, `mesh.ts`) and the SFU page (`sfu.html`, `sfu.ts`) — plus the shared stylesheet and livekit-client's
 * E2EE worker. Used by `npm run demo:web` and the browser tests.
 */
import { copyFile, mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** The default output folder, `demo/web/dist` (gitignored). */
export const DEFAULT_OUTDIR = join(here, "dist");

/** The pages: HTML file and the script it loads (`<name>.js`, bundled from `<name>.ts`). */
const PAGES = [
  { html: "index.html", script: "main" },
  { html: "mesh.html", script: "mesh" },
  { html: "sfu.html", script: "sfu" },
] as const;

function bundle(entry: string, outfile: string, format: "esm" | "iife"): Promise<unknown> {
  return build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    format,
    platform: "browser",
    target: "es2022",
    sourcemap: format === "esm",
    logLevel: "warning",
  });
}

/**
 * Builds the pages into `outdir`. `platform: "browser"` makes any Node-only import in the bundled code (the
 * library's root entry, `famedly-calls/testing`) a build error.
 * @returns the folder to serve
 */
export async function buildWebDemo(outdir: string = DEFAULT_OUTDIR): Promise<string> {
  await mkdir(outdir, { recursive: true });
  for (const page of PAGES) {
    await bundle(join(here, `${page.script}.ts`), join(outdir, `${page.script}.js`), "esm");
    await copyFile(join(here, page.html), join(outdir, page.html));
  }
  await copyFile(join(here, "common.css"), join(outdir, "common.css"));
  // livekit-client's E2EE worker as a file of its own (esbuild leaves
  // `new URL("livekit-client/e2ee-worker", import.meta.url)` alone, so the SFU page loads it by URL).
  await bundle("livekit-client/e2ee-worker", join(outdir, "e2ee-worker.js"), "iife");
  return outdir;
}
