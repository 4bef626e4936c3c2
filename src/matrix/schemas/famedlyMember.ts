/**
 * `com.famedly.call.member` (reference §3.3, §6.8; PROTOCOL §1): `{memberships: [...]}`, one entry per device and
 * call. famedly-v1 puts the backend in `backend: {...}`, famedly-v2 in `foci_active: [{...}]`; ours writes both
 * (PROTOCOL P1). Entries are validated one by one, so one bad entry never hides the others.
 */
import { z } from "zod";
import { nonEmptyString } from "./common.js";

/** A backend ("focus") as it appears on the wire: `{type: "mesh"}` or a LiveKit focus; other types are kept. */
export const wireBackendSchema = z.looseObject({
  type: z.string(),
  livekit_service_url: z.string().optional(),
  livekit_alias: z.string().optional(),
});

/** A backend in the dialect-neutral model. */
export type MembershipBackend =
  | { type: "mesh" }
  | {
      type: "livekit";
      /** The LiveKit JWT service URL. */
      livekitServiceUrl: string;
      /** The LiveKit room alias. */
      livekitAlias: string;
      /** Element only: how the SFU is chosen (`oldest_membership` or `multi_sfu`). */
      focusSelection?: string;
    };

/** A backend we understand from its wire object, or `undefined` (unknown type, LiveKit focus without its fields). */
export function backendFromWire(focus: z.infer<typeof wireBackendSchema>): MembershipBackend | undefined {
  if (focus.type === "mesh") {
    return { type: "mesh" };
  }
  if (
    focus.type === "livekit" &&
    focus.livekit_service_url !== undefined &&
    focus.livekit_alias !== undefined
  ) {
    return {
      type: "livekit",
      livekitServiceUrl: focus.livekit_service_url,
      livekitAlias: focus.livekit_alias,
    };
  }
  return undefined;
}

/** The backend of an entry: the first usable focus of `foci_active` (v2), else `backend` (v1). */
export function resolveFamedlyBackend(entry: {
  foci_active?: z.infer<typeof wireBackendSchema>[] | undefined;
  backend?: z.infer<typeof wireBackendSchema> | undefined;
}): MembershipBackend | undefined {
  for (const focus of entry.foci_active ?? []) {
    const backend = backendFromWire(focus);
    if (backend !== undefined) {
      return backend;
    }
  }
  return entry.backend === undefined ? undefined : backendFromWire(entry.backend);
}

/** One published feed of a mesh member. */
export const feedSchema = z.looseObject({ purpose: z.string() });

/** One membership entry. `application`/`scope` may be absent or `null` (the reference serialises unset as null). */
export const famedlyMembershipEntrySchema = z
  .looseObject({
    call_id: z.string(),
    device_id: nonEmptyString,
    expires_ts: z.number(),
    application: z.string().nullish(),
    scope: z.string().nullish(),
    membershipID: z.string().nullish(),
    foci_active: z.array(wireBackendSchema).optional(),
    backend: wireBackendSchema.optional(),
    feeds: z.array(feedSchema).optional(),
  })
  .refine((entry) => resolveFamedlyBackend(entry) !== undefined, {
    error: "expected a mesh or livekit backend in foci_active or backend",
    path: ["foci_active"],
  });

/** A validated membership entry, as on the wire. */
export type FamedlyMembershipEntry = z.infer<typeof famedlyMembershipEntrySchema>;

/** The event content before entry validation: `memberships` must be an array of anything. */
export const famedlyMemberContentSchema = z.looseObject({ memberships: z.array(z.unknown()) });

/** The event content with only the valid entries. */
export interface FamedlyMemberContent {
  /** The entries that passed validation. */
  memberships: FamedlyMembershipEntry[];
  /** How many entries were dropped. */
  skipped: number;
}
