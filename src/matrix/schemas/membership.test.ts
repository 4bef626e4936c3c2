import { describe, expect, it } from "vitest";
import { wireExample } from "../../../test/helpers/wireExamples.js";
import type { Logger } from "../../core/Logger.js";
import { parseMembershipEvent, type MembershipStateEvent, type ParsedMembership } from "./membership.js";

function fixtureEntry(name: string): Record<string, unknown> {
  return (wireExample(name).content.memberships as Record<string, unknown>[])[0]!;
}

function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger: Logger = {
    debug: (message) => lines.push(`debug ${message}`),
    info: (message) => lines.push(`info ${message}`),
    warn: (message) => lines.push(`warn ${message}`),
    error: (message) => lines.push(`error ${message}`),
    child: () => logger,
  };
  return { logger, lines };
}

function stateEvent(content: unknown, type = "com.famedly.call.member"): MembershipStateEvent {
  return {
    type,
    // The state key would be "@bob:example.org"; the normaliser must use the sender.
    sender: "@alice:example.org",
    content: content as Record<string, unknown>,
    eventId: "$member1",
    roomId: "!room:example.org",
    originServerTs: 1_700_000_000_000,
  };
}

function parse(content: unknown, type?: string): { memberships: ParsedMembership[]; lines: string[] } {
  const { logger, lines } = captureLogger();
  return { memberships: parseMembershipEvent(stateEvent(content, type), logger), lines };
}

describe("parseMembershipEvent: famedly dialects", () => {
  it("reads a v1 entry (backend only)", () => {
    const { memberships, lines } = parse({ memberships: [fixtureEntry("membership (v1, seed README)")] });
    expect(memberships).toEqual([
      {
        userId: "@alice:example.org",
        deviceId: "YVGPEWNLDD",
        callId: "!room:example.org",
        application: "m.call",
        scope: "m.room",
        backend: { type: "mesh" },
        expiresAt: 1732493160000,
        membershipId: "gor1Gt5BCIlyrxjyHnaEJQ==",
        eventId: "$member1",
        roomId: "!room:example.org",
        dialect: "famedly-v1",
      },
    ]);
    expect(lines).toEqual([]);
  });

  it("reads a v2 entry (foci_active) with its feeds", () => {
    const [membership] = parse({
      memberships: [fixtureEntry("membership (v2, reference code)")],
    }).memberships;
    expect(membership).toMatchObject({
      dialect: "famedly-v2",
      backend: { type: "mesh" },
      feeds: [{ purpose: "m.usermedia" }],
      expiresAt: 1732493160000,
    });
  });

  it("reads our LiveKit entry (both shapes) as v2 with the service url and alias", () => {
    const [membership] = parse({ memberships: [fixtureEntry("membership, livekit (ours)")] }).memberships;
    expect(membership).toMatchObject({
      dialect: "famedly-v2",
      backend: {
        type: "livekit",
        livekitServiceUrl: "https://livekit.example.org/jwt",
        livekitAlias: "!room:example.org",
      },
    });
    expect(membership?.feeds).toBeUndefined();
  });

  it("fills the reference defaults for application, scope and membershipID (absent or null)", () => {
    const entry = fixtureEntry("membership (v2, reference code)");
    delete entry.application;
    entry.scope = null;
    delete entry.membershipID;
    const [membership] = parse({ memberships: [entry] }).memberships;
    expect(membership).toMatchObject({
      application: "m.call",
      scope: "m.room",
      membershipId: "someone_forgot_to_set_the_membershipID",
    });
  });

  it("keeps custom application and scope values", () => {
    const entry = {
      ...fixtureEntry("membership (v2, reference code)"),
      application: "m.other",
      scope: "m.user",
      call_id: "",
    };
    expect(parse({ memberships: [entry] }).memberships[0]).toMatchObject({
      application: "m.other",
      scope: "m.user",
      callId: "",
    });
  });

  it("skips only the invalid entries of a mixed event, naming each field", () => {
    const v1 = fixtureEntry("membership (v1, seed README)");
    const v2 = { ...fixtureEntry("membership (v2, reference code)"), device_id: "PHONE" };
    const lk = { ...fixtureEntry("membership, livekit (ours)"), device_id: "LAPTOP" };
    const { memberships, lines } = parse({
      memberships: [
        v1,
        { ...v2, expires_ts: "tomorrow" },
        v2,
        "not an object",
        { ...v1, backend: { type: "p2p" } },
        { ...lk, foci_active: [{ type: "livekit" }], backend: undefined },
        lk,
      ],
    });
    expect(memberships.map((m) => [m.deviceId, m.dialect, m.backend.type])).toEqual([
      ["YVGPEWNLDD", "famedly-v1", "mesh"],
      ["PHONE", "famedly-v2", "mesh"],
      ["LAPTOP", "famedly-v2", "livekit"],
    ]);
    expect(lines).toEqual([
      expect.stringMatching(/^debug dropped membership entry: memberships\.1\.expires_ts: /),
      expect.stringMatching(/^debug dropped membership entry: memberships\.3: /),
      expect.stringMatching(/^debug dropped membership entry: memberships\.4\.foci_active: /),
      expect.stringMatching(/^debug dropped membership entry: memberships\.5\.foci_active: /),
    ]);
  });

  it("uses the first backend it understands in foci_active, then falls back to backend", () => {
    const entry = fixtureEntry("membership (v2, reference code)");
    entry.foci_active = [{ type: "future-sfu" }, { type: "mesh" }];
    expect(parse({ memberships: [entry] }).memberships[0]?.backend).toEqual({ type: "mesh" });
    entry.foci_active = [];
    entry.backend = { type: "livekit", livekit_service_url: "https://lk/jwt", livekit_alias: "alias" };
    expect(parse({ memberships: [entry] }).memberships[0]).toMatchObject({
      dialect: "famedly-v2",
      backend: { type: "livekit", livekitAlias: "alias" },
    });
  });

  it("reports expired entries as they are: expiry is judged elsewhere", () => {
    const entry = { ...fixtureEntry("membership (v1, seed README)"), expires_ts: 1 };
    expect(parse({ memberships: [entry] }).memberships[0]?.expiresAt).toBe(1);
  });

  it("reads a leave as no memberships, silently", () => {
    expect(parse({ memberships: [] })).toEqual({ memberships: [], lines: [] });
  });

  it.each([[{ memberships: {} }], [{}], [null], [["x"]]])(
    "drops malformed content %j with a log line",
    (content) => {
      const { memberships, lines } = parse(content);
      expect(memberships).toEqual([]);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^debug dropped com\.famedly\.call\.member: /);
    },
  );
});

describe("parseMembershipEvent: element dialect", () => {
  const element = (): Record<string, unknown> => ({
    application: "m.call",
    call_id: "",
    scope: "m.room",
    device_id: "ABCDEF",
    membershipID: "@alice:example.org:ABCDEF",
    expires: 14_400_000,
    created_ts: 1_699_999_000_000,
    "m.call.intent": "video",
    focus_active: { type: "livekit", focus_selection: "oldest_membership" },
    foci_preferred: [
      {
        type: "livekit",
        livekit_service_url: "https://lk.example.org/jwt",
        livekit_alias: "!room:example.org",
      },
    ],
  });
  const ELEMENT = "org.matrix.msc3401.call.member";

  it("reads a flat membership", () => {
    expect(parse(element(), ELEMENT).memberships).toEqual([
      {
        userId: "@alice:example.org",
        deviceId: "ABCDEF",
        callId: "",
        application: "m.call",
        scope: "m.room",
        backend: {
          type: "livekit",
          livekitServiceUrl: "https://lk.example.org/jwt",
          livekitAlias: "!room:example.org",
          focusSelection: "oldest_membership",
        },
        expiresAt: 1_699_999_000_000 + 14_400_000,
        membershipId: "@alice:example.org:ABCDEF@1699999000000",
        eventId: "$member1",
        roomId: "!room:example.org",
        dialect: "element",
      },
    ]);
  });

  it("defaults: expiry from origin_server_ts + 4 h, member id from sender and device, scope m.room, alias the room", () => {
    const content = element();
    delete content.created_ts;
    delete content.expires;
    delete content.membershipID;
    delete content.scope;
    content.foci_preferred = [{ type: "livekit", livekit_service_url: "https://lk.example.org/jwt" }];
    expect(parse(content, ELEMENT).memberships[0]).toMatchObject({
      expiresAt: 1_700_000_000_000 + 4 * 60 * 60 * 1000,
      membershipId: "@alice:example.org:ABCDEF@1700000000000",
      scope: "m.room",
      backend: { livekitAlias: "!room:example.org" },
    });
  });

  it("a rejoin (new created_ts) is a new membership id; a refresh (same created_ts) is not", () => {
    const first = parse(element(), ELEMENT).memberships[0]?.membershipId;
    const refresh = element();
    refresh.expires = 28_800_000;
    expect(parse(refresh, ELEMENT).memberships[0]?.membershipId).toBe(first);
    const rejoin = element();
    rejoin.created_ts = 1_700_000_500_000;
    expect(parse(rejoin, ELEMENT).memberships[0]?.membershipId).not.toBe(first);
  });

  it("reads {} as left", () => {
    expect(parse({}, ELEMENT)).toEqual({ memberships: [], lines: [] });
  });

  it.each<[string, (c: Record<string, unknown>) => void, RegExp]>([
    ["no device_id", (c) => delete c.device_id, /: device_id: /],
    ["no focus_active", (c) => delete c.focus_active, /: focus_active: /],
    ["a non-livekit focus", (c) => (c.focus_active = { type: "mesh" }), /: foci_preferred: /],
    ["no livekit service", (c) => (c.foci_preferred = []), /: foci_preferred: /],
    [
      "the old memberships array form",
      (c) => {
        for (const key of Object.keys(c)) {
          Reflect.deleteProperty(c, key);
        }
        c.memberships = [element()];
      },
      /: call_id: /,
    ],
  ])("drops a membership with %s", (_what, mutate, pattern) => {
    const content = element();
    mutate(content);
    const { memberships, lines } = parse(content, ELEMENT);
    expect(memberships).toEqual([]);
    expect(lines).toEqual([expect.stringMatching(pattern)]);
  });
});

it("returns nothing for a state event of another type", () => {
  const { memberships, lines } = parse({ memberships: [] }, "m.room.member");
  expect(memberships).toEqual([]);
  expect(lines).toEqual([expect.stringContaining("type")]);
});
