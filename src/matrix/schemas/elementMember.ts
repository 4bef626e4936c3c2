/**
 * `org.matrix.msc3401.call.member`, Element's session membership (matrix-js-sdk-calls.md §2.2, §4): one flat
 * membership per state key; `{}` means the device left. LiveKit only.
 */
import { z } from "zod";
import { nonEmptyString } from "./common.js";
import { wireBackendSchema } from "./famedlyMember.js";

/** matrix-js-sdk's default membership lifetime when `expires` is absent: 4 h. */
export const ELEMENT_DEFAULT_EXPIRES_MS = 4 * 60 * 60 * 1000;

/** A joined Element membership (the checks of matrix-js-sdk's `checkSessionsMembershipData`, plus `expires`). */
export const elementMembershipSchema = z.looseObject({
  call_id: z.string(),
  device_id: nonEmptyString,
  application: z.string(),
  scope: z.string().optional(),
  membershipID: z.string().optional(),
  expires: z.number().optional(),
  created_ts: z.number().optional(),
  focus_active: z.looseObject({ type: z.string(), focus_selection: z.string().optional() }),
  foci_preferred: z.array(wireBackendSchema).optional(),
  "m.call.intent": z.string().optional(),
});

/** A parsed, joined Element membership. */
export type ElementMembershipContent = z.infer<typeof elementMembershipSchema>;

/** True for the "left" content `{}`. */
export function isElementLeave(content: unknown): boolean {
  return (
    typeof content === "object" &&
    content !== null &&
    !Array.isArray(content) &&
    Object.keys(content).length === 0
  );
}
