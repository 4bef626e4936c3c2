// To-device input: mesh signalling (famedly v1 `m.call.*` with `conf_id`, v2 `com.famedly.call.member.*`) and SFU
// key events and requests (both famedly dialects), mutated, from anyone, encrypted or not, with any claimed device
// and session. One arbitrary per family; add new to-device types to `toDeviceEvent`.
import fc from "fast-check";
import { meshSignallingType } from "../../../src/matrix/eventTypes.js";
import { wireExamples } from "../../helpers/wireExamples.js";
import { hugeString, mutated } from "./mutate.js";
import type { FuzzEvent, FuzzWorld } from "./types.js";

const toDeviceExamples = wireExamples.filter((e) => e.transport === "toDevice");
const meshExamples = toDeviceExamples.filter((e) => meshSignallingType(e.type) !== undefined);
const keyExamples = toDeviceExamples.filter((e) => meshSignallingType(e.type) === undefined);

function toDevice(
  world: FuzzWorld,
  examples: readonly { type: string; content: Record<string, unknown> }[],
): fc.Arbitrary<FuzzEvent> {
  return fc
    .record({
      base: fc.constantFrom(...examples),
      sender: fc.constantFrom(world.stranger, world.self, ...world.calls.map((c) => c.peer)),
      encrypted: fc.boolean(),
      senderDevice: fc.option(fc.string({ maxLength: 12 }), { nil: undefined }),
      // Route it at a live room (and a live call id) sometimes, at nothing known otherwise.
      target: fc.option(fc.constantFrom(...world.calls), { nil: undefined }),
      session: fc.option(fc.oneof(fc.string({ maxLength: 20 }), hugeString()), { nil: undefined }),
    })
    .chain(({ base, sender, encrypted, senderDevice, target, session }) => {
      const content: Record<string, unknown> = { ...base.content };
      if (target !== undefined) {
        content.room_id = target.roomId;
        content.call_id = target.callId;
      }
      if (session !== undefined) {
        content.sender_session_id = session;
        content.dest_session_id = session;
      }
      return fc.oneof(fc.constant<unknown>(content), mutated(content)).map((c): FuzzEvent => ({
        transport: "toDevice",
        event: {
          type: base.type,
          sender,
          content: c as Record<string, unknown>,
          encrypted,
          ...(senderDevice !== undefined ? { senderDevice } : {}),
        },
      }));
    });
}

/** Mesh signalling over to-device. */
export function meshSignallingEvent(world: FuzzWorld): fc.Arbitrary<FuzzEvent> {
  return toDevice(world, meshExamples);
}

/** SFU key events and key requests. */
export function keyEvent(world: FuzzWorld): fc.Arbitrary<FuzzEvent> {
  return toDevice(world, keyExamples);
}

/** Any to-device event. */
export function toDeviceEvent(world: FuzzWorld): fc.Arbitrary<FuzzEvent> {
  return fc.oneof(meshSignallingEvent(world), keyEvent(world));
}
