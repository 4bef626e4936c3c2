import { MatrixEvent } from "matrix-js-sdk";
import { describe, expect, it } from "vitest";
import { toRoomEvent, toStateEvent } from "./events.js";

const ROOM = "!room:hs";
const KEYS = { keys: [{ index: 1, key: "AQIDBAUGBwgJCgsMDQ4PEA" }], device_id: "BOB1", call_id: "" };

function keyEvent(): MatrixEvent {
  return new MatrixEvent({
    event_id: "$k",
    room_id: ROOM,
    sender: "@bob:hs",
    type: "io.element.call.encryption_keys",
    content: KEYS,
    origin_server_ts: 1,
  });
}

describe("toRoomEvent: encryption", () => {
  it("a decrypted Megolm room event is marked encrypted, with its cleartext type and content", () => {
    const event = keyEvent();
    event.makeEncrypted("m.room.encrypted", { ciphertext: "…" }, "curve", "ed");
    expect(toRoomEvent(event)).toMatchObject({
      type: "io.element.call.encryption_keys",
      content: KEYS,
      encrypted: true,
    });
  });

  it("a cleartext room event and a state event are not", () => {
    expect(toRoomEvent(keyEvent())?.encrypted).toBeUndefined();
    const state = new MatrixEvent({
      event_id: "$s",
      room_id: ROOM,
      sender: "@bob:hs",
      type: "org.matrix.msc3401.call.member",
      state_key: "_@bob:hs_BOB1",
      content: {},
      origin_server_ts: 1,
    });
    expect(toStateEvent(state)?.encrypted).toBeUndefined();
  });
});
