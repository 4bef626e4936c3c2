/**
 * Group-call room events besides membership (reference §3.5, §8): reactions, reaction removals (redactions with
 * routing fields) and MSC4075 ring notifications.
 */
import { z } from "zod";
import { nonEmptyString } from "./common.js";

const relationSchema = z.looseObject({ rel_type: z.string(), event_id: nonEmptyString });

/** `com.famedly.call.member.reaction`: `is_ephemeral` is required (the reference crashes without it). */
export const reactionSchema = z.looseObject({
  key: nonEmptyString,
  is_ephemeral: z.boolean(),
  call_id: z.string(),
  device_id: nonEmptyString,
  "m.relates_to": relationSchema,
});

/**
 * `m.room.redaction` carrying the famedly routing fields. `redacts` is optional in the content because rooms before
 * version 11 carry it at the top level of the event (`RoomEvent.redacts`).
 */
export const redactionSchema = z.looseObject({
  redacts: z.string().optional(),
  device_id: nonEmptyString,
  call_id: z.string(),
  scope: z.string().optional(),
  redacts_type: z.string(),
  reason: z.string().optional(),
});

/** `org.matrix.msc4075.rtc.notification`. */
export const rtcNotificationSchema = z.looseObject({
  sender_ts: z.number(),
  lifetime: z.number().optional(),
  notification_type: z.enum(["ring", "notification"]),
  "m.mentions": z
    .looseObject({ room: z.boolean().optional(), user_ids: z.array(z.string()).optional() })
    .optional(),
  "m.relates_to": relationSchema.optional(),
});

/** Parsed reaction content. */
export type ReactionContent = z.infer<typeof reactionSchema>;
/** Parsed redaction content (famedly routing fields). */
export type RedactionContent = z.infer<typeof redactionSchema>;
/** Parsed MSC4075 notification content. */
export type RtcNotificationContent = z.infer<typeof rtcNotificationSchema>;
