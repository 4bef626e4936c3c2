/**
 * The one parse step (PROTOCOL §5): every inbound content, room, state or to-device, is validated here before any
 * logic sees it. Invalid content is dropped with a debug line naming the field (never SDP or key material), and
 * nothing here throws.
 */
import type { z } from "zod";
import type { Logger } from "../core/Logger.js";
import {
  type CallEventType,
  GroupEventType,
  KeyEventType,
  meshSignallingType,
  normalizeCallEventType,
} from "./eventTypes.js";
import {
  elementMembershipSchema,
  isElementLeave,
  type ElementMembershipContent,
} from "./schemas/elementMember.js";
import { famedlyMemberContentSchema, type FamedlyMemberContent } from "./schemas/famedlyMember.js";
import {
  reactionSchema,
  redactionSchema,
  rtcNotificationSchema,
  type ReactionContent,
  type RedactionContent,
  type RtcNotificationContent,
} from "./schemas/groupExtras.js";
import { describeIssue, type FieldIssue } from "./schemas/issues.js";
import {
  elementKeysSchema,
  elementRoomKeysSchema,
  famedlyKeysSchema,
  keyRequestSchema,
  type ElementKeysContent,
  type ElementRoomKeysContent,
  type FamedlyKeysContent,
  type KeyRequestContent,
} from "./schemas/keys.js";
import { validateFamedlyEntries } from "./schemas/membership.js";
import { meshFieldsSchema, type MeshFieldsContent } from "./schemas/mesh.js";
import { signallingSchemas, type SignallingContentMap } from "./schemas/signalling.js";

/** How the event arrived. */
export type Transport = "room" | "toDevice";

/** The mesh dialects (PROTOCOL §1). */
export type MeshDialect = "famedly-v1" | "famedly-v2";

/** Parsed 1:1 signalling of type `T`: a room event, or mesh signalling over to-device with its extras. */
export type ParsedSignalling<T extends CallEventType> = {
  /** Always `"signalling"`. */
  kind: "signalling";
  /** The `m.call.*` type, aliases and the v2 mesh prefix normalised. */
  type: T;
  /** The validated content. */
  content: SignallingContentMap[T];
} & ({ transport: "room" } | { transport: "toDevice"; dialect: MeshDialect; mesh: MeshFieldsContent });

/** Parsed 1:1 signalling of any type; narrow on `type`. */
export type AnyParsedSignalling = { [T in CallEventType]: ParsedSignalling<T> }[CallEventType];

/** Parsed content of every kind of inbound event. Narrow on `kind`, then `type` for signalling. */
export type ParsedContent =
  | AnyParsedSignalling
  | {
      /** A famedly membership state event. */
      kind: "membership";
      /** Always `com.famedly.call.member`. */
      type: typeof GroupEventType.Member;
      /** The valid `memberships` entries, and how many invalid ones were skipped. */
      content: FamedlyMemberContent;
    }
  | {
      /** An Element / MatrixRTC membership state event. */
      kind: "elementMembership";
      /** Always `org.matrix.msc3401.call.member`. */
      type: typeof GroupEventType.ElementMember;
      /** `null` for the leave content `{}`. */
      content: ElementMembershipContent | null;
    }
  | {
      /** A famedly SFU key event. */
      kind: "keys";
      /** Which famedly dialect it came in (by its event type). */
      dialect: MeshDialect;
      /** The validated content. */
      content: FamedlyKeysContent;
    }
  | {
      /** An Element SFU key event. */
      kind: "elementKeys";
      /** Always `"element"`. */
      dialect: "element";
      /** The validated content. */
      content: ElementKeysContent;
    }
  | {
      /** An Element SFU key room event (parsed with `transport: "room"`). */
      kind: "elementRoomKeys";
      /** Always `"element"`. */
      dialect: "element";
      /** The validated content. */
      content: ElementRoomKeysContent;
    }
  | {
      /** A famedly SFU key request. */
      kind: "keyRequest";
      /** Which famedly dialect it came in (by its event type); the reply uses the same one. */
      dialect: MeshDialect;
      /** The validated content. */
      content: KeyRequestContent;
    }
  | {
      /** An in-call reaction (`com.famedly.call.member.reaction`). */
      kind: "reaction";
      /** The validated content. */
      content: ReactionContent;
    }
  | {
      /** An `m.room.redaction` with call routing fields (`call_id`, `device_id`, `redacts_type`). */
      kind: "redaction";
      /** The validated content. */
      content: RedactionContent;
    }
  | {
      /** An MSC4075 `org.matrix.msc4075.rtc.notification`. */
      kind: "notification";
      /** The validated content. */
      content: RtcNotificationContent;
    };

/** A rejected content: the offending field path and why. */
export interface ParseFailure extends FieldIssue {
  ok: false;
}

/** The outcome of {@link parseContent}. `wireType` is the type as received. */
export type ParseResult =
  | (ParsedContent & {
      /** Always `true`: the content is valid. */
      ok: true;
      /** The event type as received (before aliases and the mesh prefix were normalised). */
      wireType: string;
    })
  | ParseFailure;

/** Options of {@link parseContent}. */
export interface ParseOptions {
  /**
   * How the event arrived. Default: `toDevice` for `com.famedly.call.member.*` signalling and key events (Element's
   * too), `room` otherwise. `m.call.*` over to-device is famedly-v1 mesh signalling and needs the mesh extras;
   * `io.element.call.encryption_keys` as a room event has its own shape.
   */
  transport?: Transport;
}

type Attempt<T> = { ok: true; value: T } | { ok: false; issue: FieldIssue };

function attempt<T>(schema: z.ZodType<T>, content: unknown, prefix?: string): Attempt<T> {
  const result = schema.safeParse(content);
  return result.success
    ? { ok: true, value: result.data }
    : { ok: false, issue: describeIssue(result.error, prefix) };
}

/**
 * Validates `content` of an event of `type`. Every known type is covered: 1:1 signalling (with aliases), mesh
 * signalling in both dialects, key events and requests, both membership events, reactions, redactions and
 * MSC4075 notifications. Unknown types fail with `field: "type"`. Never throws.
 */
export function parseContent(
  type: string,
  content: unknown,
  logger: Logger,
  options: ParseOptions = {},
): ParseResult {
  let outcome: Attempt<ParsedContent>;
  try {
    outcome = dispatch(type, content, logger, options);
  } catch (error) {
    logger.debug(`dropped ${type}: content: unparseable`, { error: String(error) });
    return { ok: false, field: "content", message: "unparseable" };
  }
  if (outcome.ok) {
    return { ...outcome.value, ok: true, wireType: type };
  }
  const { field, message } = outcome.issue;
  const callId = readCallId(content);
  logger.debug(`dropped ${type}: ${field}: ${message}`, callId === undefined ? undefined : { callId });
  return { ok: false, field, message };
}

function dispatch(
  type: string,
  content: unknown,
  logger: Logger,
  options: ParseOptions,
): Attempt<ParsedContent> {
  const simple = parseGroupOrKeys(type, content, logger, options.transport);
  if (simple !== undefined) {
    return simple;
  }
  const mesh = meshSignallingType(type);
  if (mesh === undefined) {
    return { ok: false, issue: { field: "type", message: "unknown event type" } };
  }
  const transport = options.transport ?? (mesh.dialect === "famedly-v2" ? "toDevice" : "room");
  if (transport === "room") {
    const roomType = normalizeCallEventType(type);
    if (roomType === undefined) {
      return { ok: false, issue: { field: "type", message: "a to-device type received as a room event" } };
    }
    return parseSignalling(roomType, content, undefined);
  }
  return parseSignalling(mesh.type, content, mesh.dialect === "famedly-v2" ? "famedly-v2" : "famedly-v1");
}

function parseSignalling(
  type: CallEventType,
  content: unknown,
  dialect: MeshDialect | undefined,
): Attempt<AnyParsedSignalling> {
  const parsed = attempt<SignallingContentMap[CallEventType]>(signallingSchemas[type], content);
  if (!parsed.ok) {
    return parsed;
  }
  // `type` and the schema picked by it agree; TypeScript cannot correlate the two unions.
  if (dialect === undefined) {
    const value = {
      kind: "signalling",
      type,
      content: parsed.value,
      transport: "room",
    } as AnyParsedSignalling;
    return { ok: true, value };
  }
  const mesh = attempt(meshFieldsSchema, content);
  if (!mesh.ok) {
    return mesh;
  }
  const base = {
    kind: "signalling",
    type,
    content: parsed.value,
    transport: "toDevice",
    dialect,
    mesh: mesh.value,
  };
  return { ok: true, value: base as AnyParsedSignalling };
}

function parseGroupOrKeys(
  type: string,
  content: unknown,
  logger: Logger,
  transport: Transport | undefined,
): Attempt<ParsedContent> | undefined {
  const wrap = <T>(result: Attempt<T>, make: (value: T) => ParsedContent): Attempt<ParsedContent> =>
    result.ok ? { ok: true, value: make(result.value) } : result;
  switch (type) {
    case GroupEventType.Member:
      return wrap(attempt(famedlyMemberContentSchema, content), (value) => ({
        kind: "membership",
        type: GroupEventType.Member,
        content: validateFamedlyEntries(value.memberships, logger),
      }));
    case GroupEventType.ElementMember:
      if (isElementLeave(content)) {
        return {
          ok: true,
          value: { kind: "elementMembership", type: GroupEventType.ElementMember, content: null },
        };
      }
      return wrap(attempt(elementMembershipSchema, content), (value) => ({
        kind: "elementMembership",
        type: GroupEventType.ElementMember,
        content: value,
      }));
    case KeyEventType.KeysV1:
    case KeyEventType.KeysV2:
      return wrap(attempt(famedlyKeysSchema, content), (value) => ({
        kind: "keys",
        dialect: type === KeyEventType.KeysV1 ? "famedly-v1" : "famedly-v2",
        content: value,
      }));
    case KeyEventType.KeysElement:
      if (transport === "room") {
        return wrap(attempt(elementRoomKeysSchema, content), (value) => ({
          kind: "elementRoomKeys",
          dialect: "element",
          content: value,
        }));
      }
      return wrap(attempt(elementKeysSchema, content), (value) => ({
        kind: "elementKeys",
        dialect: "element",
        content: value,
      }));
    case KeyEventType.RequestV1:
    case KeyEventType.RequestV2:
      return wrap(attempt(keyRequestSchema, content), (value) => ({
        kind: "keyRequest",
        dialect: type === KeyEventType.RequestV1 ? "famedly-v1" : "famedly-v2",
        content: value,
      }));
    case GroupEventType.Reaction:
      return wrap(attempt(reactionSchema, content), (value) => ({ kind: "reaction", content: value }));
    case GroupEventType.Redaction:
      return wrap(attempt(redactionSchema, content), (value) => ({ kind: "redaction", content: value }));
    case GroupEventType.RtcNotification:
      return wrap(attempt(rtcNotificationSchema, content), (value) => ({
        kind: "notification",
        content: value,
      }));
    default:
      return undefined;
  }
}

/** The `call_id` for log context, when it is a short string (never content beyond that). */
function readCallId(content: unknown): string | undefined {
  if (typeof content !== "object" || content === null) {
    return undefined;
  }
  const callId = (content as { call_id?: unknown }).call_id;
  return typeof callId === "string" && callId.length <= 255 ? callId : undefined;
}
