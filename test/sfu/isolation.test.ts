/**
 * The media suite's network: `npm test` runs it in a private network namespace when it runs as root (always in CI),
 * where nothing but loopback and a private veth pair exists. This checks that the namespace is really in place.
 */
import { createSocket } from "node:dgram";
import { networkInterfaces } from "node:os";
import { describe, expect, it } from "vitest";

const isolated = process.env.FAMEDLY_CALLS_NETNS === "1";

/** Tries a UDP connect() (sends nothing) to `address`; resolves with the error code, or "connected". */
function udpConnect(address: string): Promise<string> {
  return new Promise((resolveCode) => {
    const socket = createSocket("udp4");
    socket.connect(53, address, (error?: Error) => {
      socket.close();
      resolveCode(
        error === undefined ? "connected" : ((error as NodeJS.ErrnoException).code ?? error.message),
      );
    });
  });
}

describe("network isolation of the media suite", () => {
  it.runIf(process.env.CI === "true")("runs in the namespace in CI", () => {
    expect(isolated).toBe(true);
  });

  it.runIf(isolated)(
    "has only loopback and the private veth pair, and no route off the machine",
    async () => {
      const addresses = Object.values(networkInterfaces())
        .flat()
        .filter((a) => a?.family === "IPv4")
        .map((a) => a?.address)
        .sort();
      expect(addresses).toEqual(["127.0.0.1", "198.18.0.1", "198.18.0.2"]);
      expect(await udpConnect("9.9.9.9")).toBe("ENETUNREACH");
      expect(await udpConnect("198.18.0.2")).toBe("connected");
    },
  );
});
