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

  it("reads a real-server login: the first account and one peer", () => {
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
      participants: 2,
      server: {
        homeserver: "https://hs.example",
        accounts: [
          { user: "alice", password: "a" },
          { user: "bob", password: "b" },
        ],
      },
    });
  });

  const login = ["--homeserver", "https://hs.example", "--user", "alice", "--password", "a"];

  it("mesh: one account per repeated --peer-user, participants = 1 + peers; one --peer-password serves every peer", () => {
    const args = parseDemoArgs([
      "--scenario",
      "mesh",
      ...login,
      "--peer-user",
      "bob",
      "--peer-user",
      "carol",
      "--peer-user",
      "dave",
      "--peer-password",
      "shared",
    ]);
    expect(args).toEqual({
      scenario: "mesh",
      participants: 4,
      json: false,
      livekit: false,
      timeoutMs: 30_000,
      server: {
        homeserver: "https://hs.example",
        accounts: [
          { user: "alice", password: "a" },
          { user: "bob", password: "shared" },
          { user: "carol", password: "shared" },
          { user: "dave", password: "shared" },
        ],
      },
    });
  });

  it("mesh: one --peer-password per --peer-user pairs them in order", () => {
    const args = parseDemoArgs([
      "--scenario",
      "mesh",
      ...login,
      "--peer-user",
      "bob",
      "--peer-password",
      "b",
      "--peer-user",
      "carol",
      "--peer-password",
      "c",
      "--participants",
      "3",
    ]);
    expect(args).toMatchObject({
      participants: 3,
      server: {
        accounts: [
          { user: "alice", password: "a" },
          { user: "bob", password: "b" },
          { user: "carol", password: "c" },
        ],
      },
    });
  });

  it("mesh: rejects a password count that fits neither rule, a participant count other than the accounts, a repeated account", () => {
    const peers = ["--peer-user", "bob", "--peer-user", "carol", "--peer-user", "dave"];
    expect(() =>
      parseDemoArgs([
        "--scenario",
        "mesh",
        ...login,
        ...peers,
        "--peer-password",
        "b",
        "--peer-password",
        "c",
      ]),
    ).toThrow(/once for every peer or once per --peer-user; got 2 for 3 peers/);
    expect(() =>
      parseDemoArgs([
        "--scenario",
        "mesh",
        ...login,
        ...peers,
        "--peer-password",
        "p",
        "--participants",
        "3",
      ]),
    ).toThrow(/--participants 3 needs as many accounts, got 4 \(--user and 3 --peer-user\)/);
    expect(() =>
      parseDemoArgs(["--scenario", "mesh", ...login, "--peer-user", "alice", "--peer-password", "p"]),
    ).toThrow(/its own account; "alice" is given twice/);
    expect(() => parseDemoArgs([...login, ...peers, "--peer-password", "p"])).toThrow(
      /one-to-one call is between --user and one --peer-user, got 3 peers/,
    );
  });

  it("names the missing login options", () => {
    expect(() => parseDemoArgs(["--homeserver", "https://hs.example", "--user", "alice"])).toThrow(
      /missing --password, --peer-user, --peer-password/,
    );
    expect(() => parseDemoArgs(["--scenario", "mesh", "--peer-user", "bob", "--peer-user", "carol"])).toThrow(
      /missing --homeserver, --user, --password, --peer-password/,
    );
  });

  it("rejects unknown scenarios, bad counts and unknown options", () => {
    expect(() => parseDemoArgs(["--scenario", "conference"])).toThrow(UsageError);
    expect(() => parseDemoArgs(["--participants", "two"])).toThrow(/--participants/);
    expect(() => parseDemoArgs(["--timeout", "-5"])).toThrow(/--timeout/);
    expect(() => parseDemoArgs(["--bogus"])).toThrow(/bogus/);
  });
});
