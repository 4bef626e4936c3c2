/**
 * `npm run demo:web [-- --port N] [-- --livekit]`: builds the web demo and serves it on 127.0.0.1 until Ctrl-C.
 * Open the printed URLs (the 1:1 page and the mesh page) in Chrome or Chromium (a camera and microphone, or
 * Chromium's fake-device flags). With `--livekit` it also builds (cached) and starts a local LiveKit server for the
 * SFU page (`sfu.html`).
 */
import { parseArgs } from "node:util";
import { provisionLiveKit, startLiveKit, type LiveKitServer } from "../../test/sfu/livekitServer.js";
import { buildWebDemo } from "./build.js";
import { livekitRoutes } from "./livekitRoutes.js";
import { serveStatic } from "./staticServer.js";

const { values } = parseArgs({
  options: { port: { type: "string", default: "8787" }, livekit: { type: "boolean", default: false } },
});
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: not a port number: ${values.port}`);
  process.exit(2);
}
const root = await buildWebDemo();
let livekit: LiveKitServer | undefined;
if (values.livekit) {
  livekit = await startLiveKit(await provisionLiveKit());
}
const server = await serveStatic(root, port, livekit === undefined ? undefined : livekitRoutes(livekit));
console.log(`famedly-calls web demo: ${server.url}  (Ctrl-C to stop)`);
console.log(`mesh page: ${server.url}mesh.html`);
if (livekit !== undefined) {
  console.log(`SFU page: ${server.url}sfu.html  (LiveKit at ${livekit.wsUrl})`);
}
process.on("SIGINT", () => {
  void server
    .close()
    .then(() => livekit?.stop())
    .then(() => process.exit(0));
});
