// Reads what the LiveKit server tells a joining client on its signal WebSocket (the first message is the
// JoinResponse, which carries the ICE servers the client will use). A minimal WebSocket reader (Node 20 has no
// WebSocket client): one upgrade request, then unmasked server frames until the first binary message.
import { request } from "node:http";
import { randomBytes } from "node:crypto";
import { SignalResponse, type JoinResponse } from "@livekit/protocol";

/** Opens `/rtc` with `token` and returns the server's JoinResponse. */
export async function readJoinResponse(wsUrl: string, token: string): Promise<JoinResponse> {
  const url = new URL("/rtc", wsUrl.replace(/^ws/, "http"));
  url.searchParams.set("access_token", token);
  url.searchParams.set("protocol", "15");
  url.searchParams.set("sdk", "js");
  url.searchParams.set("auto_subscribe", "1");
  const payload = await firstBinaryMessage(url);
  const response = SignalResponse.fromBinary(payload);
  if (response.message.case !== "join") {
    throw new Error(`expected a join response, got ${String(response.message.case)}`);
  }
  return response.message.value;
}

function firstBinaryMessage(url: URL): Promise<Uint8Array> {
  return new Promise((resolveMessage, reject) => {
    const req = request(url, {
      headers: {
        Connection: "Upgrade",
        Upgrade: "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": randomBytes(16).toString("base64"),
      },
      timeout: 10_000,
    });
    req.once("timeout", () => req.destroy(new Error("no upgrade within 10 s")));
    req.once("error", reject);
    req.once("response", (res) => {
      reject(new Error(`upgrade refused: HTTP ${res.statusCode ?? "?"}`));
      res.resume();
    });
    req.once("upgrade", (_res, socket, head) => {
      let buffer = Buffer.from(head);
      const onData = (chunk: Buffer): void => {
        buffer = Buffer.concat([buffer, chunk]);
        for (;;) {
          const frame = parseFrame(buffer);
          if (frame === undefined) {
            return;
          }
          buffer = buffer.subarray(frame.length);
          if (frame.opcode === 2) {
            socket.off("data", onData);
            socket.destroy();
            resolveMessage(frame.payload);
            return;
          }
        }
      };
      socket.on("data", onData);
      socket.once("error", reject);
      onData(Buffer.alloc(0));
    });
    req.end();
  });
}

/** One unmasked, unfragmented frame at the start of `buf`, or undefined when it is not complete yet. */
function parseFrame(buf: Buffer): { opcode: number; payload: Uint8Array; length: number } | undefined {
  if (buf.length < 2) {
    return undefined;
  }
  const opcode = buf[0]! & 0x0f;
  let len = buf[1]! & 0x7f;
  let offset = 2;
  if (len === 126) {
    if (buf.length < 4) {
      return undefined;
    }
    len = buf.readUInt16BE(2);
    offset = 4;
  } else if (len === 127) {
    if (buf.length < 10) {
      return undefined;
    }
    len = Number(buf.readBigUInt64BE(2));
    offset = 10;
  }
  if (buf.length < offset + len) {
    return undefined;
  }
  return { opcode, payload: new Uint8Array(buf.subarray(offset, offset + len)), length: offset + len };
}
