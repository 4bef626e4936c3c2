/**
 * Inbound content schemas of the ten 1:1 signalling events (MSC2746 and friends; reference §3.2). The same schemas
 * validate mesh signalling, whose to-device extras are checked separately (`mesh.ts`).
 */
import { z } from "zod";
import { CallEventType } from "../eventTypes.js";
import {
  callFieldsShape,
  capabilitiesSchema,
  metadataShape,
  nonEmptyString,
  sessionDescriptionSchema,
  STREAM_METADATA_KEY,
  STREAM_METADATA_UNSTABLE_KEY,
} from "./common.js";

const optionalText = z.string().nullish();

/** `m.call.invite`. `device_id` names the caller's device when `invitee_device_id` targets one (PROTOCOL D10). */
export const callInviteSchema = z.looseObject({
  ...callFieldsShape,
  ...metadataShape,
  lifetime: z.number(),
  offer: sessionDescriptionSchema(["offer"]),
  invitee: z.string().optional(),
  invitee_device_id: z.string().optional(),
  device_id: z.string().optional(),
  capabilities: capabilitiesSchema.optional(),
});

/** `m.call.answer`. */
export const callAnswerSchema = z.looseObject({
  ...callFieldsShape,
  ...metadataShape,
  answer: sessionDescriptionSchema(["answer"]),
  capabilities: capabilitiesSchema.optional(),
});

/** One ICE candidate; an empty `candidate` string is the end-of-candidates marker. */
export const iceCandidateSchema = z.looseObject({
  candidate: z.string(),
  sdpMid: z.string().nullish(),
  sdpMLineIndex: z.number().nullish(),
});

/** `m.call.candidates`. */
export const callCandidatesSchema = z.looseObject({
  ...callFieldsShape,
  candidates: z.array(iceCandidateSchema),
});

/** `m.call.select_answer`. */
export const callSelectAnswerSchema = z.looseObject({
  ...callFieldsShape,
  selected_party_id: nonEmptyString,
});

/** `m.call.reject`. */
export const callRejectSchema = z.looseObject({
  ...callFieldsShape,
  reason: z.string().optional(),
});

/** `m.call.negotiate`: an offer (with capabilities and metadata) or an answer (description and lifetime only). */
export const callNegotiateSchema = z.looseObject({
  ...callFieldsShape,
  ...metadataShape,
  description: sessionDescriptionSchema(["offer", "answer"]),
  lifetime: z.number().optional(),
  capabilities: capabilitiesSchema.optional(),
});

/** `m.call.hangup`. The reason is mapped by `callErrorCodeFromWire` (PROTOCOL D1). */
export const callHangupSchema = z.looseObject({
  ...callFieldsShape,
  reason: z.string().optional(),
});

/** `m.call.sdp_stream_metadata_changed`: at least one of the two metadata keys (PROTOCOL D8). */
export const callMetadataChangedSchema = z
  .looseObject({ ...callFieldsShape, ...metadataShape })
  .refine(
    (content) =>
      content[STREAM_METADATA_KEY] !== undefined || content[STREAM_METADATA_UNSTABLE_KEY] !== undefined,
    {
      error: "expected stream metadata under either key",
      path: [STREAM_METADATA_KEY],
    },
  );

/** A user identity as MSC2747/MSC3086 carry it. */
export const callIdentitySchema = z.looseObject({
  id: optionalText,
  display_name: optionalText,
  avatar_url: optionalText,
});

/** `m.call.replaces` (MSC2747): every field optional. */
export const callReplacesSchema = z.looseObject({
  ...callFieldsShape,
  replacement_id: optionalText,
  target_user: callIdentitySchema.nullish(),
  create_call: optionalText,
  await_call: optionalText,
  target_room: optionalText,
});

/** `m.call.asserted_identity` (MSC3086). */
export const callAssertedIdentitySchema = z.looseObject({
  ...callFieldsShape,
  asserted_identity: callIdentitySchema,
});

/** A parsed ICE candidate. */
export type IceCandidateContent = z.infer<typeof iceCandidateSchema>;
/** Parsed `m.call.invite` content. */
export type CallInviteContent = z.infer<typeof callInviteSchema>;
/** Parsed `m.call.answer` content. */
export type CallAnswerContent = z.infer<typeof callAnswerSchema>;
/** Parsed `m.call.candidates` content. */
export type CallCandidatesContent = z.infer<typeof callCandidatesSchema>;
/** Parsed `m.call.select_answer` content. */
export type CallSelectAnswerContent = z.infer<typeof callSelectAnswerSchema>;
/** Parsed `m.call.reject` content. */
export type CallRejectContent = z.infer<typeof callRejectSchema>;
/** Parsed `m.call.negotiate` content. */
export type CallNegotiateContent = z.infer<typeof callNegotiateSchema>;
/** Parsed `m.call.hangup` content. */
export type CallHangupContent = z.infer<typeof callHangupSchema>;
/** Parsed `m.call.sdp_stream_metadata_changed` content. */
export type CallMetadataChangedContent = z.infer<typeof callMetadataChangedSchema>;
/** Parsed `m.call.replaces` content. */
export type CallReplacesContent = z.infer<typeof callReplacesSchema>;
/** Parsed `m.call.asserted_identity` content. */
export type CallAssertedIdentityContent = z.infer<typeof callAssertedIdentitySchema>;

/** The parsed content type of each 1:1 signalling type. */
export interface SignallingContentMap {
  [CallEventType.Invite]: CallInviteContent;
  [CallEventType.Answer]: CallAnswerContent;
  [CallEventType.Candidates]: CallCandidatesContent;
  [CallEventType.SelectAnswer]: CallSelectAnswerContent;
  [CallEventType.Reject]: CallRejectContent;
  [CallEventType.Negotiate]: CallNegotiateContent;
  [CallEventType.Hangup]: CallHangupContent;
  [CallEventType.SdpStreamMetadataChanged]: CallMetadataChangedContent;
  [CallEventType.Replaces]: CallReplacesContent;
  [CallEventType.AssertedIdentity]: CallAssertedIdentityContent;
}

/** The schema of each 1:1 signalling type. */
export const signallingSchemas: { readonly [T in CallEventType]: z.ZodType<SignallingContentMap[T]> } = {
  [CallEventType.Invite]: callInviteSchema,
  [CallEventType.Answer]: callAnswerSchema,
  [CallEventType.Candidates]: callCandidatesSchema,
  [CallEventType.SelectAnswer]: callSelectAnswerSchema,
  [CallEventType.Reject]: callRejectSchema,
  [CallEventType.Negotiate]: callNegotiateSchema,
  [CallEventType.Hangup]: callHangupSchema,
  [CallEventType.SdpStreamMetadataChanged]: callMetadataChangedSchema,
  [CallEventType.Replaces]: callReplacesSchema,
  [CallEventType.AssertedIdentity]: callAssertedIdentitySchema,
};
