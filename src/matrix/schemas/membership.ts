/**
 * The membership normaliser: any of the three membership dialects (PROTOCOL §1) → the dialect-neutral model of
 * PROTOCOL P3. Pure; invalid entries are skipped one by one with a debug line, the rest of the event survives.
 * Expiry is not judged here: `expiresAt` is the wire expiry (famedly readers add the reference's grace, §6.8).
 */
import type { Logger } from "../../core/Logger.js";
import type { Dialect } from "../eventTypes.js";
import { GroupEventType } from "../eventTypes.js";
import type { StateEvent } from "../MatrixClientPort.js";
import {
  ELEMENT_DEFAULT_EXPIRES_MS,
  elementMembershipSchema,
  isElementLeave,
  type ElementMembershipContent,
} from "./elementMember.js";
import {
  backendFromWire,
  famedlyMemberContentSchema,
  famedlyMembershipEntrySchema,
  resolveFamedlyBackend,
  type FamedlyMemberContent,
  type FamedlyMembershipEntry,
  type MembershipBackend,
} from "./famedlyMember.js";
import { describeIssue } from "./issues.js";

/** Default `application` (reference §6.8). */
export const DEFAULT_APPLICATION = "m.call";
/** Default `scope` (reference §6.8). */
export const DEFAULT_SCOPE = "m.room";
/** The reference's `membershipID` when an entry has none (reference §3.3). */
export const DEFAULT_MEMBERSHIP_ID = "someone_forgot_to_set_the_membershipID";

/** One device's membership in one group call, whatever dialect it came in (PROTOCOL P3). */
export interface ParsedMembership {
  /** The sender of the state event (not the state key). */
  userId: string;
  deviceId: string;
  /** The group call id (`""` is a valid room-wide id). */
  callId: string;
  application: string;
  scope: string;
  backend: MembershipBackend;
  /** Wire expiry, ms since the epoch: famedly `expires_ts`; element `(created_ts ?? origin_server_ts) + expires`. */
  expiresAt: number;
  /**
   * famedly: the sender's session id (`membershipID`); element: `${membershipID ?? userId:deviceId}@${createdTs}`
   * with `createdTs = created_ts ?? origin_server_ts` (matrix-js-sdk's membership id), so a rejoin is a new one.
   */
  membershipId: string;
  /** The state event that carried it. */
  eventId: string;
  roomId: string;
  /** famedly-v1 when the entry has only `backend`; famedly-v2 when it has `foci_active`; element. */
  dialect: Dialect;
  /** Mesh members' published feeds (famedly only). */
  feeds?: { purpose: string }[];
}

/** The part of a state event the normaliser reads. */
export type MembershipStateEvent = Pick<
  StateEvent,
  "type" | "sender" | "content" | "eventId" | "roomId" | "originServerTs"
>;

/**
 * Validates `memberships` entry by entry: the valid entries, and how many were skipped (each with a debug line
 * `dropped membership entry: memberships.<i>.<field>: <why>`).
 */
export function validateFamedlyEntries(entries: readonly unknown[], logger: Logger): FamedlyMemberContent {
  const memberships: FamedlyMembershipEntry[] = [];
  let skipped = 0;
  entries.forEach((entry, index) => {
    const result = famedlyMembershipEntrySchema.safeParse(entry);
    if (result.success) {
      memberships.push(result.data);
    } else {
      skipped++;
      const { field, message } = describeIssue(result.error, `memberships.${index}`);
      logger.debug(`dropped membership entry: ${field}: ${message}`);
    }
  });
  return { memberships, skipped };
}

/** The memberships a membership state event announces, in the dialect-neutral model. Never throws. */
export function parseMembershipEvent(event: MembershipStateEvent, logger: Logger): ParsedMembership[] {
  try {
    switch (event.type) {
      case GroupEventType.Member:
        return parseFamedly(event, logger);
      case GroupEventType.ElementMember:
        return parseElement(event, logger);
      default:
        logger.debug(`dropped ${event.type}: type: not a membership event`);
        return [];
    }
  } catch (error) {
    logger.debug(`dropped ${event.type}: content: unparseable`, { error: String(error) });
    return [];
  }
}

function parseFamedly(event: MembershipStateEvent, logger: Logger): ParsedMembership[] {
  const outer = famedlyMemberContentSchema.safeParse(event.content);
  if (!outer.success) {
    const { field, message } = describeIssue(outer.error);
    logger.debug(`dropped ${event.type}: ${field}: ${message}`, { eventId: event.eventId });
    return [];
  }
  const out: ParsedMembership[] = [];
  for (const entry of validateFamedlyEntries(outer.data.memberships, logger).memberships) {
    const backend = resolveFamedlyBackend(entry);
    if (backend === undefined) {
      continue; // unreachable: the entry schema checks it
    }
    out.push({
      userId: event.sender,
      deviceId: entry.device_id,
      callId: entry.call_id,
      application: entry.application ?? DEFAULT_APPLICATION,
      scope: entry.scope ?? DEFAULT_SCOPE,
      backend,
      expiresAt: entry.expires_ts,
      membershipId: entry.membershipID ?? DEFAULT_MEMBERSHIP_ID,
      eventId: event.eventId,
      roomId: event.roomId,
      dialect: entry.foci_active === undefined ? "famedly-v1" : "famedly-v2",
      ...(entry.feeds === undefined ? {} : { feeds: entry.feeds.map((feed) => ({ purpose: feed.purpose })) }),
    });
  }
  return out;
}

function parseElement(event: MembershipStateEvent, logger: Logger): ParsedMembership[] {
  if (isElementLeave(event.content)) {
    return [];
  }
  const result = elementMembershipSchema.safeParse(event.content);
  if (!result.success) {
    const { field, message } = describeIssue(result.error);
    logger.debug(`dropped ${event.type}: ${field}: ${message}`, { eventId: event.eventId });
    return [];
  }
  const content = result.data;
  const backend = elementBackend(content, event.roomId);
  if (backend === undefined) {
    logger.debug(`dropped ${event.type}: foci_preferred: expected a livekit focus`, {
      eventId: event.eventId,
    });
    return [];
  }
  return [
    {
      userId: event.sender,
      deviceId: content.device_id,
      callId: content.call_id,
      application: content.application,
      scope: content.scope ?? DEFAULT_SCOPE,
      backend,
      expiresAt:
        (content.created_ts ?? event.originServerTs) + (content.expires ?? ELEMENT_DEFAULT_EXPIRES_MS),
      membershipId: `${content.membershipID ?? `${event.sender}:${content.device_id}`}@${String(content.created_ts ?? event.originServerTs)}`,
      eventId: event.eventId,
      roomId: event.roomId,
      dialect: "element",
    },
  ];
}

/** Element is LiveKit only: `focus_active.type` must be livekit; the service comes from `foci_preferred`. */
function elementBackend(content: ElementMembershipContent, roomId: string): MembershipBackend | undefined {
  if (content.focus_active.type !== "livekit") {
    return undefined;
  }
  for (const focus of content.foci_preferred ?? []) {
    const backend = backendFromWire({ ...focus, livekit_alias: focus.livekit_alias ?? roomId });
    if (backend?.type === "livekit") {
      const selection = content.focus_active.focus_selection;
      return selection === undefined ? backend : { ...backend, focusSelection: selection };
    }
  }
  return undefined;
}
