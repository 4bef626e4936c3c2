/**
 * Building blocks shared by the inbound content schemas: the common 1:1 signalling fields, session descriptions,
 * capabilities and SDP stream metadata (MSC3077, read under either key: PROTOCOL D8).
 *
 * Every object schema is loose: unknown fields are kept (forward compatibility), known fields are typed.
 */
import { z } from "zod";

/** The stable SDP stream metadata key (matrix-js-sdk ≥ v41 writes only this one). */
export const STREAM_METADATA_KEY = "sdp_stream_metadata";

/** The unstable SDP stream metadata key (the reference writes only this one). */
export const STREAM_METADATA_UNSTABLE_KEY = "org.matrix.msc3077.sdp_stream_metadata";

/** A non-empty string. */
export const nonEmptyString = z.string().min(1, { error: "expected a non-empty string" });

/** `version`: `"1"` today, `0` from version-0 peers; string or number on the wire. */
export const versionSchema = z.union([z.string(), z.number()], { error: "expected string or number" });

/**
 * The fields every 1:1 signalling event carries. `party_id` is optional because version-0 peers omit it; the router
 * decides whether it can do without.
 */
export const callFieldsShape = {
  call_id: nonEmptyString,
  party_id: z.string().optional(),
  version: versionSchema,
};

/** One stream's entry in the SDP stream metadata. Unknown purposes are kept here and ignored by the call logic. */
export const streamMetadataEntrySchema = z.looseObject({
  purpose: z.string(),
  audio_muted: z.boolean().default(false),
  video_muted: z.boolean().default(false),
});

/** SDP stream metadata: stream id (the `msid` stream) → purpose and mute state. */
export const streamMetadataSchema = z.record(z.string(), streamMetadataEntrySchema);

/** Parsed SDP stream metadata. */
export type ParsedStreamMetadata = z.infer<typeof streamMetadataSchema>;

/** Both metadata keys, each optional. */
export const metadataShape = {
  [STREAM_METADATA_KEY]: streamMetadataSchema.optional(),
  [STREAM_METADATA_UNSTABLE_KEY]: streamMetadataSchema.optional(),
};

/** `capabilities` (MSC2746): booleans under `m.call.transferee` and `m.call.dtmf`. */
export const capabilitiesSchema = z.looseObject({
  "m.call.transferee": z.boolean().optional(),
  "m.call.dtmf": z.boolean().optional(),
});

/** A session description of the given SDP type(s). */
export function sessionDescriptionSchema<
  const T extends readonly ["offer" | "answer", ...("offer" | "answer")[]],
>(types: T) {
  return z.looseObject({ sdp: z.string(), type: z.enum(types) });
}
