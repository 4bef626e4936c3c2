// A small HTTP proxy on 127.0.0.1 that forwards to Synapse and records every request: put it between a client and
// Synapse to show what travels on the wire (e.g. that a to-device payload leaves the client Olm-encrypted).
import { createServer, request, type IncomingHttpHeaders } from "node:http";
import { expect } from "vitest";

/** One request that went through the proxy. */
export interface RecordedRequest {
  method: string;
  /** Path and query, e.g. `/_matrix/client/v3/sendToDevice/m.room.encrypted/fc123`. */
  path: string;
  /** The request body as text (empty for GET). */
  body: string;
  /** The upstream status, once answered. */
  status?: number;
}

/** A running {@link startRecordingProxy}. */
export interface RecordingProxy {
  /** `http://127.0.0.1:<port>`: use it as the client's `baseUrl`. */
  url: string;
  /** Everything recorded so far, in arrival order. */
  requests: RecordedRequest[];
  /** The recorded requests whose method matches and whose path matches `pattern`. */
  find(method: string, pattern: RegExp): RecordedRequest[];
  close(): Promise<void>;
}

/** Starts a recording proxy in front of `target` (e.g. `http://127.0.0.1:8008`). */
export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const body = Buffer.concat(chunks);
      const record: RecordedRequest = {
        method: req.method ?? "GET",
        path: req.url ?? "/",
        body: body.toString("utf8"),
      };
      requests.push(record);
      const headers: IncomingHttpHeaders = { ...req.headers, host: upstream.host };
      const forward = request(
        {
          hostname: upstream.hostname,
          port: upstream.port,
          method: record.method,
          path: record.path,
          headers,
        },
        (upstreamRes) => {
          record.status = upstreamRes.statusCode;
          res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
          upstreamRes.pipe(res);
        },
      );
      forward.on("error", (error) => {
        if (!res.headersSent) {
          res.writeHead(502, { "content-type": "application/json" });
        }
        res.end(JSON.stringify({ errcode: "M_UNKNOWN", error: `proxy: ${error.message}` }));
      });
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address !== null ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    find: (method, pattern) => requests.filter((r) => r.method === method && pattern.test(r.path)),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          resolve();
        });
      }),
  };
}

/**
 * Asserts that the client behind `proxy` sent to-device messages, and every one as `m.room.encrypted` with an Olm
 * payload per device: nothing readable left it.
 */
export function expectOnlyOlmToDevice(proxy: RecordingProxy): void {
  const sends = proxy.requests.filter((r) => r.method === "PUT" && r.path.includes("/sendToDevice/"));
  expect(sends.length).toBeGreaterThan(0);
  for (const send of sends) {
    expect(send.path).toMatch(/\/sendToDevice\/m\.room\.encrypted\//);
    const body = JSON.parse(send.body) as {
      messages: Record<string, Record<string, Record<string, unknown>>>;
    };
    for (const byDevice of Object.values(body.messages)) {
      for (const payload of Object.values(byDevice)) {
        expect(payload.algorithm).toBe("m.olm.v1.curve25519-aes-sha2");
      }
    }
  }
}
