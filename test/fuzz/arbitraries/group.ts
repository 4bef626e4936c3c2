// Group-call input: membership state events (com.famedly.call.member v1/v2/livekit/leave,
// org.matrix.msc3401.call.member), in-call reactions, redactions, MSC4075 notifications and Element key room events
// (io.element.call.encryption_keys, encrypted or not); mutated and from any
// member. Whoever lands more group-call event types adds an arbitrary here (one per type) and lists it in
// `groupEvent`.
import fc from "fast-check";
import { GroupEventType, KeyEventType } from "../../../src/matrix/eventTypes.js";
import { wireExamples } from "../../helpers/wireExamples.js";
import { mutated } from "./mutate.js";
import type { FuzzEvent, FuzzWorld } from "./types.js";

const elementMember: Record<string, unknown> = {
  application: "m.call",
  call_id: "",
  scope: "m.room",
  device_id: "DEVICE",
  expires: 14_400_000,
  focus_active: { type: "livekit", focus_selection: "oldest_membership" },
  foci_preferred: [{ type: "livekit", livekit_service_url: "https://127.0.0.1:1", livekit_alias: "!room" }],
};

function examples(type: string, transport: "state" | "room"): Record<string, unknown>[] {
  return wireExamples.filter((e) => e.type === type && e.transport === transport).map((e) => e.content);
}

function sender(world: FuzzWorld): fc.Arbitrary<string> {
  return fc.constantFrom(world.stranger, world.self, ...world.calls.map((c) => c.peer));
}

/** A membership state event of either kind, valid or mutated, with any state key. */
export function membershipEvent(world: FuzzWorld): fc.Arbitrary<FuzzEvent> {
  const contents = [
    ...examples(GroupEventType.Member, "state").map((c) => ({ type: GroupEventType.Member, c })),
    { type: GroupEventType.ElementMember, c: elementMember },
    { type: GroupEventType.ElementMember, c: {} },
  ];
  return fc
    .record({
      base: fc.constantFrom(...contents),
      mutate: fc.boolean(),
      sender: sender(world),
      stateKey: fc.oneof(fc.constant(""), fc.string({ maxLength: 40 })),
      room: fc.constantFrom(...world.calls.map((c) => c.roomId)),
    })
    .chain(({ base, mutate, sender: s, stateKey, room }) =>
      (mutate ? mutated(base.c) : fc.constant(base.c)).map((content): FuzzEvent => ({
        transport: "state",
        roomId: room,
        event: {
          type: base.type,
          sender: s,
          stateKey: stateKey === "" ? s : stateKey,
          content: content as Record<string, unknown>,
          originServerTs: Date.now(),
          unsigned: { age: 0 },
        },
      })),
    );
}

/** Reactions, reaction removals and ring notifications, mutated. */
export function groupRoomEvent(world: FuzzWorld): fc.Arbitrary<FuzzEvent> {
  const contents = [
    GroupEventType.Reaction,
    GroupEventType.Redaction,
    GroupEventType.RtcNotification,
  ].flatMap((type) => examples(type, "room").map((c) => ({ type, c })));
  return fc
    .record({
      base: fc.constantFrom(...contents),
      sender: sender(world),
      room: fc.constantFrom(...world.calls.map((c) => c.roomId)),
    })
    .chain(({ base, sender: s, room }) =>
      fc.oneof(fc.constant<unknown>(base.c), mutated(base.c)).map((content): FuzzEvent => ({
        transport: "room",
        roomId: room,
        event: {
          type: base.type,
          sender: s,
          content: content as Record<string, unknown>,
          originServerTs: Date.now(),
          unsigned: { age: 0 },
        },
      })),
    );
}

const elementRoomKeys: Record<string, unknown> = {
  keys: [{ index: 255, key: "AQIDBAUGBwgJCgsMDQ4PEA" }],
  device_id: "DEVICE",
  call_id: "",
  sent_ts: 1,
};

/** Element key room events (matrix-js-sdk 37.5's default key transport), mutated, Megolm-encrypted or not. */
export function elementRoomKeysEvent(world: FuzzWorld): fc.Arbitrary<FuzzEvent> {
  return fc
    .record({
      content: fc.oneof(fc.constant<unknown>(elementRoomKeys), mutated(elementRoomKeys)),
      sender: sender(world),
      room: fc.constantFrom(...world.calls.map((c) => c.roomId)),
      encrypted: fc.boolean(),
    })
    .map(({ content, sender: s, room, encrypted }): FuzzEvent => ({
      transport: "room",
      roomId: room,
      event: {
        type: KeyEventType.KeysElement,
        sender: s,
        content: content as Record<string, unknown>,
        originServerTs: Date.now(),
        unsigned: { age: 0 },
        ...(encrypted ? { encrypted: true } : {}),
      },
    }));
}

/** Any group-call event. */
export function groupEvent(world: FuzzWorld): fc.Arbitrary<FuzzEvent> {
  return fc.oneof(membershipEvent(world), groupRoomEvent(world), elementRoomKeysEvent(world));
}
