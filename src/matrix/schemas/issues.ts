/**
 * Turns a schema failure into `{field, message}` for a debug log line. Neither part ever contains a value from the
 * content (no SDP, no key material): the field is a path of keys, the message names the expected type.
 */
import type { z } from "zod";

/** Why content was rejected: the dotted path of the offending field and what was expected there. */
export interface FieldIssue {
  /** Dotted path, e.g. `offer.sdp` or `candidates.0.candidate`; `content` for the content itself. */
  field: string;
  /** What was expected, e.g. `expected string, received undefined`. */
  message: string;
}

/** The first issue of a zod error, with `prefix` (e.g. `memberships.2`) put in front of its path. */
export function describeIssue(error: z.ZodError, prefix?: string): FieldIssue {
  const issue = error.issues[0];
  if (issue === undefined) {
    return { field: prefix ?? "content", message: "invalid" };
  }
  const parts = issue.path.map((part) => (typeof part === "symbol" ? "?" : String(part)));
  if (prefix !== undefined) {
    parts.unshift(prefix);
  }
  return {
    field: parts.length === 0 ? "content" : parts.join("."),
    message: issue.message.replace(/^Invalid input: /, ""),
  };
}
