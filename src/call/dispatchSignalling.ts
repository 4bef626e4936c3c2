import type { CallSession } from "./CallSession.js";
import { readReplaces, readStreamMetadata } from "./signalling.js";
import { callErrorCodeFromWire } from "./types.js";
import { CallEventType } from "../matrix/eventTypes.js";
import type { AnyParsedSignalling } from "../matrix/parse.js";

/**
 * @internal The one dispatch of validated, routed signalling to its call, shared by the 1:1 room router and the
 * mesh to-device router (reference §5.1 step 7: each `m.call.X` and `com.famedly.call.member.X` share a handler).
 * Invites create calls and are the routers' own business; they are ignored here.
 */
export async function dispatchSignalling(call: CallSession, parsed: AnyParsedSignalling): Promise<void> {
  switch (parsed.type) {
    case CallEventType.Invite:
      return;
    case CallEventType.Answer:
      await call.inbound.answer(
        parsed.content.party_id,
        parsed.content.answer,
        readStreamMetadata(parsed.content),
      );
      return;
    case CallEventType.Candidates:
      await call.inbound.candidates(parsed.content.party_id, parsed.content.candidates);
      return;
    case CallEventType.SelectAnswer:
      call.inbound.selectAnswer(parsed.content.selected_party_id);
      return;
    case CallEventType.Reject:
      call.inbound.reject(callErrorCodeFromWire(parsed.content.reason));
      return;
    case CallEventType.Hangup:
      call.inbound.hangup(callErrorCodeFromWire(parsed.content.reason));
      return;
    case CallEventType.Negotiate:
      await call.inbound.negotiate(parsed.content.description, readStreamMetadata(parsed.content));
      return;
    case CallEventType.SdpStreamMetadataChanged: {
      const metadata = readStreamMetadata(parsed.content);
      if (metadata) {
        call.inbound.streamMetadataChanged(metadata);
      }
      return;
    }
    case CallEventType.AssertedIdentity:
      call.inbound.assertedIdentity(parsed.content);
      return;
    case CallEventType.Replaces:
      call.inbound.replaces(readReplaces(parsed.content));
      return;
  }
}
