/**
 * The to-device extras of mesh signalling (reference §3.1, §6.11; PROTOCOL §1): both famedly dialects carry the
 * same fields. `room_id` and `conf_id` are required (a to-device event cannot be mapped to a call without them).
 */
import { z } from "zod";
import { nonEmptyString } from "./common.js";

/** Mesh to-device extras: routing (`room_id`, `conf_id`), the sender's device, ordering and session binding. */
export const meshFieldsSchema = z.looseObject({
  room_id: nonEmptyString,
  conf_id: z.string(),
  device_id: z.string().optional(),
  seq: z.number().int().nonnegative().optional(),
  sender_session_id: z.string().optional(),
  dest_session_id: z.string().optional(),
});

/** Parsed mesh to-device extras. */
export type MeshFieldsContent = z.infer<typeof meshFieldsSchema>;
