import { describe, expect, it } from "vitest";
import { parseDemoArgs, UsageError } from "../../demo/args.js";

describe("demo arguments", () => {
  it("defaults to a one-to-one call between 2 participants on the in-process homeserver", () => {
    expect(parseDemoArgs([])).toEqual({
      scenario: "one-to-one",
      participants: 2,
      json: false,
      livekit: false,
      timeoutMs: 30_000,
    });
  });

  it("--livekit: the sfu scenario with media, 3 participants unless told", () => {
    expect(parseDemoArgs(["--scenario", "sfu", "--livekit"])).toMatchObject({
      livekit: true,
      participants: 3,
    });
    expect(parseDemoArgs(["--scenario", "sfu", "--livekit", "--participants", "4"])).toMatchObject({
      participants: 4,
    });
    expect(() => parseDemoArgs(["--livekit"])).toThrow(UsageError);
  });

  it("reads a real-server login", () => {
    const args = parseDemoArgs([
      "--homeserver",
      "https://hs.example",
      "--user",
      "alice",
      "--password",
      "a",
      "--peer-user",
      "bob",
      "--peer-password",
      "b",
      "--json",
    ]);
    expect(args).toMatchObject({
      json: true,
      server: {
        homeserver: "https://hs.example",
        user: "alice",
        password: "a",
        peerUser: "bob",
        peerPassword: "b",
      },
    });
  });

  it("names the missing login options", () => {
    expect(() => parseDemoArgs(["--homeserver", "https://hs.example", "--user", "alice"])).toThrow(
      /missing --password, --peer-user, --peer-password/,
    );
  });

  it("rejects unknown scenarios, bad counts and unknown options", () => {
    expect(() => parseDemoArgs(["--scenario", "conference"])).toThrow(UsageError);
    expect(() => parseDemoArgs(["--participants", "two"])).toThrow(/--participants/);
    expect(() => parseDemoArgs(["--timeout", "-5"])).toThrow(/--timeout/);
    expect(() => parseDemoArgs(["--bogus"])).toThrow(/bogus/);
  });
});
