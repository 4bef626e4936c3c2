/** A tiny static file server on 127.0.0.1 (a secure context for getUserMedia, no HTTPS needed). */
import { readFile } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, sep } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".map": "application/json; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".png": "image/png",
};

/** A running server: its base URL (ending in `/`) and how to stop it. */
export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Answers a request the files do not cover (e.g. the SFU page's `/livekit/…` routes): a status and a body, or
 * undefined for 404.
 */
export type ApiRoute = (url: URL) => Promise<{ type: string; body: string } | undefined>;

/**
 * Serves the files under `root` on `127.0.0.1:port` (0: any free port); `/` is `index.html`. Paths under `/api`-like
 * prefixes can be answered by `api` (tried first for paths starting with `/livekit/`).
 */
export async function serveStatic(root: string, port = 0, api?: ApiRoute): Promise<StaticServer> {
  const base = normalize(root + sep);
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (api !== undefined && url.pathname.startsWith("/livekit/")) {
      api(url).then(
        (answer) => {
          if (answer === undefined) {
            response.writeHead(404).end("not found");
          } else {
            response.writeHead(200, { "content-type": answer.type }).end(answer.body);
          }
        },
        (error: unknown) => {
          response.writeHead(500).end(String(error));
        },
      );
      return;
    }
    const path = decodeURIComponent(url.pathname);
    const file = normalize(join(base, path === "/" ? "index.html" : path));
    if (!file.startsWith(base) || request.method !== "GET") {
      response.writeHead(404).end();
      return;
    }
    readFile(file).then(
      (body) => {
        response
          .writeHead(200, { "content-type": TYPES[extname(file)] ?? "application/octet-stream" })
          .end(body);
      },
      () => {
        response.writeHead(404).end("not found");
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${actual}/`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}
