// 1:1 signalling room events (every m.call.* type and its aliases), made hostile: malformed, from a stranger, from
// another party, for an unknown call. Content the parser accepts from the call's real peer is re-sent by a stranger,
// since a valid event from the peer may legitimately change its call.
import fc from "fast-check";
import { CallEventType, CallEventTypeAlias } from "../../../src/matrix/eventTypes.js";
import { parseContent } from "../../../src/matrix/parse.js";
import { silentLogger } from "../../../src/core/Logger.js";
import { wireExamples } from "../../helpers/wireExamples.js";
import { hugeString, mutated } from "./mutate.js";
import type { FuzzEvent, FuzzWorld } from "./types.js";

const TYPES: readonly string[] = [...Object.values(CallEventType), ...Object.keys(CallEventTypeAlias)];

function examplesOf(type: string): Record<string, unknown>[] {
  const canonical = CallEventTypeAlias[type] ?? type;
  const found = wireExamples
    .filter((e) => e.transport === "room" && e.type === canonical)
    .map((e) => e.content);
  return found.length > 0 ? found : [{ call_id: "c", party_id: "p", version: "1" }];
}

const someId = fc.oneof(fc.string({ minLength: 1, maxLength: 30 }), hugeString());

/** One hostile `m.call.*` room event against the calls of `world`. */
export function roomCallEvent(world: FuzzWorld): fc.Arbitrary<FuzzEvent> {
  return fc
    .record({
      type: fc.constantFrom(...TYPES),
      call: fc.constantFrom(...world.calls),
      attack: fc.constantFrom("malformed", "stranger", "wrongParty", "unknownCall"),
      otherId: someId,
      pick: fc.nat(),
      seed: fc.nat(),
    })
    .chain(({ type, call, attack, otherId, pick }) => {
      const examples = examplesOf(type);
      const base = { ...examples[pick % examples.length]!, call_id: call.callId, party_id: call.peerParty };
      let sender = call.peer;
      let content: fc.Arbitrary<unknown> = fc.constant(base);
      if (attack === "malformed") {
        content = mutated(base);
      } else if (attack === "stranger") {
        sender = world.stranger;
        content = fc.oneof(fc.constant(base), mutated(base));
      } else if (attack === "wrongParty") {
        content = fc.constant({ ...base, party_id: otherId === call.peerParty ? `${otherId}x` : otherId });
      } else if (type !== CallEventType.Invite) {
        // A new invite with an unknown id is a new call, not an attack; other types for unknown calls are.
        content = fc.constant({ ...base, call_id: otherId === call.callId ? `${otherId}x` : otherId });
      }
      return content.map((c): FuzzEvent => {
        const parsed = parseContent(type, c, silentLogger);
        const fromPeer = sender === call.peer;
        const targetsCall =
          typeof c === "object" && c !== null && (c as { call_id?: unknown }).call_id === call.callId;
        const peerParty = (c as { party_id?: unknown } | null)?.party_id === call.peerParty;
        // Valid content from the real peer for its call is legitimate input, not an attack: send it as a stranger.
        const legit = parsed.ok && fromPeer && targetsCall && peerParty;
        return {
          transport: "room",
          roomId: call.roomId,
          event: {
            sender: legit ? world.stranger : sender,
            type,
            content: c as Record<string, unknown>,
            originServerTs: Date.now(),
            unsigned: { age: 0 },
          },
        };
      });
    });
}
