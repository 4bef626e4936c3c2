/**
 * SFU media-key events (reference §3.4, §7; matrix-js-sdk-calls.md §2.5): the famedly key event over to-device
 * (v1 and v2 share the shape: `keys` is an array), Element's key event over to-device (`keys` is one object) and as
 * a room event (`keys` is an array, matrix-js-sdk ≤ v41.0's default), and the famedly key request.
 */
import { z } from "zod";
import { nonEmptyString } from "./common.js";

/** Standard or URL-safe base64, padding optional. The message never echoes the key. */
export const base64Schema = z
  .string()
  .regex(/^(?:[A-Za-z0-9+/_-]{4})*(?:[A-Za-z0-9+/_-]{2,3}={0,2})?$/, { error: "expected base64" })
  .min(1, { error: "expected base64" });

/** One key: its ring index and the raw key as base64. */
export const keyEntrySchema = z.looseObject({
  index: z.number().int().nonnegative(),
  key: base64Schema,
});

/** `com.famedly.call.member.encryption_keys` (v2) and `com.famedly.call.encryption_keys` (v1). */
export const famedlyKeysSchema = z.looseObject({
  keys: z.array(keyEntrySchema),
  call_id: z.string(),
  conf_id: z.string(),
  device_id: nonEmptyString,
  room_id: nonEmptyString,
});

/** Element's key ring has 256 slots: indices 0–255. */
export const ELEMENT_MAX_KEY_INDEX = 255;

/** One Element key: index 0–255, the key as base64 (matrix-js-sdk writes it unpadded). */
export const elementKeyEntrySchema = z.looseObject({
  index: z.number().int().nonnegative().max(ELEMENT_MAX_KEY_INDEX),
  key: base64Schema,
});

/** `io.element.call.encryption_keys` (to-device, matrix-js-sdk ≥ v41.1). */
export const elementKeysSchema = z.looseObject({
  keys: elementKeyEntrySchema,
  room_id: nonEmptyString,
  member: z.looseObject({ claimed_device_id: nonEmptyString, id: z.string().optional() }),
  session: z
    .looseObject({
      call_id: z.string().optional(),
      application: z.string().optional(),
      scope: z.string().optional(),
    })
    .optional(),
  sent_ts: z.number().optional(),
});

/**
 * `io.element.call.encryption_keys` as a room event (matrix-js-sdk ≤ v41.0's default transport, Megolm-encrypted in
 * encrypted rooms): the sender's keys, its `device_id` (the room event carries no verified sending device) and the
 * call id (`""` for the room's call).
 */
export const elementRoomKeysSchema = z.looseObject({
  keys: z.array(elementKeyEntrySchema).min(1),
  device_id: nonEmptyString,
  call_id: z.string(),
  sent_ts: z.number().optional(),
});

/** `com.famedly.call.member.encryption_keys_request` (v2) and `com.famedly.call.encryption_keys.request` (v1). */
export const keyRequestSchema = z.looseObject({
  conf_id: z.string(),
  device_id: nonEmptyString,
  room_id: nonEmptyString,
});

/** Parsed famedly key event content. */
export type FamedlyKeysContent = z.infer<typeof famedlyKeysSchema>;
/** Parsed Element key event content. */
export type ElementKeysContent = z.infer<typeof elementKeysSchema>;
/** Parsed Element room-event key content. */
export type ElementRoomKeysContent = z.infer<typeof elementRoomKeysSchema>;
/** Parsed famedly key request content. */
export type KeyRequestContent = z.infer<typeof keyRequestSchema>;
