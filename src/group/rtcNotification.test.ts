import { describe, expect, it } from "vitest";
import { parseContent } from "../matrix/parse.js";
import { silentLogger } from "../core/Logger.js";
import {
  buildRtcNotification,
  cappedLifetime,
  effectiveTimestamp,
  isNotificationExpired,
  shouldNotifyUser,
} from "./rtcNotification.js";

const NOW = 1_700_000_000_000;

function parsed(content: Record<string, unknown>) {
  const result = parseContent("org.matrix.msc4075.rtc.notification", content, silentLogger);
  if (!result.ok || result.kind !== "notification") {
    throw new Error("not a notification");
  }
  return result.content;
}

describe("MSC4075 notification (reference §8.2, §10.5)", () => {
  it("builds the content enter() sends, and other mention shapes", () => {
    expect(buildRtcNotification({ senderTs: NOW, membershipEventId: "$m" })).toEqual({
      sender_ts: NOW,
      lifetime: 30_000,
      notification_type: "notification",
      "m.mentions": { room: true },
      "m.relates_to": { rel_type: "m.reference", event_id: "$m" },
    });
    expect(
      buildRtcNotification({
        senderTs: NOW,
        membershipEventId: "$m",
        type: "ring",
        lifetimeMs: 60_000,
        mentionRoom: false,
        userIds: ["@b:x"],
      }),
    ).toMatchObject({ lifetime: 60_000, notification_type: "ring", "m.mentions": { user_ids: ["@b:x"] } });
  });

  it("caps the lifetime to [0, 2 min] with a 30 s default", () => {
    expect(cappedLifetime({})).toBe(30_000);
    expect(cappedLifetime({ lifetime: 5 * 60_000 })).toBe(120_000);
    expect(cappedLifetime({ lifetime: -10_000 })).toBe(0);
  });

  it("trusts sender_ts within 20 s of the server's timestamp", () => {
    expect(effectiveTimestamp({ sender_ts: NOW + 5_000 }, NOW)).toBe(NOW + 5_000);
    expect(effectiveTimestamp({ sender_ts: NOW + 25_000 }, NOW)).toBe(NOW);
  });

  it("expires after its lifetime; notifies mentioned users only; a ring does not interrupt a ringing call", () => {
    const content = parsed(buildRtcNotification({ senderTs: NOW, membershipEventId: "$m" }));
    expect(isNotificationExpired(content, NOW, NOW + 30_000)).toBe(false);
    expect(isNotificationExpired(content, NOW, NOW + 30_001)).toBe(true);
    expect(shouldNotifyUser(content, NOW, NOW + 1, "@me:x")).toBe(true);
    expect(shouldNotifyUser(content, NOW, NOW + 60_000, "@me:x")).toBe(false);
    const toBob = parsed(
      buildRtcNotification({
        senderTs: NOW,
        membershipEventId: "$m",
        mentionRoom: false,
        userIds: ["@bob:x"],
        type: "ring",
      }),
    );
    expect(shouldNotifyUser(toBob, NOW, NOW, "@bob:x")).toBe(true);
    expect(shouldNotifyUser(toBob, NOW, NOW, "@carol:x")).toBe(false);
    expect(shouldNotifyUser(toBob, NOW, NOW, "@bob:x", true)).toBe(false);
    expect(shouldNotifyUser({ ...content, notification_type: "notification" }, NOW, NOW, "@me:x", true)).toBe(
      true,
    );
  });

  it("rejects an unknown notification_type at parse time", () => {
    expect(
      parseContent(
        "org.matrix.msc4075.rtc.notification",
        { sender_ts: NOW, notification_type: "shout" },
        silentLogger,
      ),
    ).toMatchObject({
      ok: false,
      field: "notification_type",
    });
  });
});
