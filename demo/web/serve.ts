/**
 * `npm run demo:web [-- --port N]`: builds the web demo and serves it on 127.0.0.1 until Ctrl-C.
 * Open the printed URL in Chrome or Chromium (a camera and microphone, or Chromium's fake-device flags).
 */
import { parseArgs } from "node:util";
import { buildWebDemo } from "./build.js";
import { serveStatic } from "./staticServer.js";

const { values } = parseArgs({ options: { port: { type: "string", default: "8787" } } });
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: not a port number: ${values.port}`);
  process.exit(2);
}
const root = await buildWebDemo();
const server = await serveStatic(root, port);
console.log(`famedly-calls web demo: ${server.url}  (Ctrl-C to stop)`);
process.on("SIGINT", () => {
  void server.close().then(() => process.exit(0));
});
