/**
 * MSC4075 `org.matrix.msc4075.rtc.notification` (reference §3.5, §8.2): sent when a call starts in a room that is
 * not a DM; parsed with the reference's lifetime and clock-skew rules.
 */
import type { RtcNotificationContent } from "../matrix/schemas/groupExtras.js";

/** The default `lifetime`: 30 s. */
export const RTC_NOTIFICATION_DEFAULT_LIFETIME_MS = 30_000;
/** Lifetimes are capped at 2 min. */
export const RTC_NOTIFICATION_MAX_LIFETIME_MS = 120_000;
/** A `sender_ts` further than 20 s from the server's timestamp is not trusted. */
export const RTC_NOTIFICATION_MAX_DEVIATION_MS = 20_000;

/** The content `enter()` sends, relating to our membership event and mentioning the room. */
export function buildRtcNotification(opts: {
  senderTs: number;
  membershipEventId: string;
  type?: "ring" | "notification";
  lifetimeMs?: number;
  mentionRoom?: boolean;
  userIds?: readonly string[];
}): Record<string, unknown> {
  const mentions: Record<string, unknown> = {};
  if (opts.userIds !== undefined && opts.userIds.length > 0) {
    mentions.user_ids = [...opts.userIds];
  }
  if (opts.mentionRoom ?? true) {
    mentions.room = true;
  }
  return {
    sender_ts: opts.senderTs,
    lifetime: opts.lifetimeMs ?? RTC_NOTIFICATION_DEFAULT_LIFETIME_MS,
    notification_type: opts.type ?? "notification",
    "m.mentions": mentions,
    "m.relates_to": { rel_type: "m.reference", event_id: opts.membershipEventId },
  };
}

/** The lifetime clamped to [0, 2 min] (default 30 s). */
export function cappedLifetime(content: Pick<RtcNotificationContent, "lifetime">): number {
  const lifetime = content.lifetime ?? RTC_NOTIFICATION_DEFAULT_LIFETIME_MS;
  return Math.min(RTC_NOTIFICATION_MAX_LIFETIME_MS, Math.max(0, lifetime));
}

/** `sender_ts`, unless it is more than 20 s off the server's timestamp (then the server's). */
export function effectiveTimestamp(
  content: Pick<RtcNotificationContent, "sender_ts">,
  originServerTs: number,
): number {
  return Math.abs(content.sender_ts - originServerTs) > RTC_NOTIFICATION_MAX_DEVIATION_MS
    ? originServerTs
    : content.sender_ts;
}

/** True once the notification's lifetime has run out. */
export function isNotificationExpired(
  content: Pick<RtcNotificationContent, "sender_ts" | "lifetime">,
  originServerTs: number,
  now: number,
): boolean {
  return now > effectiveTimestamp(content, originServerTs) + cappedLifetime(content);
}

/**
 * Whether to alert `userId`: the room or the user is mentioned, it has not expired, and it is not a `ring` while
 * we are already ringing.
 */
export function shouldNotifyUser(
  content: RtcNotificationContent,
  originServerTs: number,
  now: number,
  userId: string,
  isAlreadyRinging = false,
): boolean {
  const mentions = content["m.mentions"];
  const mentioned = mentions?.room === true || (mentions?.user_ids ?? []).includes(userId);
  if (!mentioned || isNotificationExpired(content, originServerTs, now)) {
    return false;
  }
  return !(content.notification_type === "ring" && isAlreadyRinging);
}
