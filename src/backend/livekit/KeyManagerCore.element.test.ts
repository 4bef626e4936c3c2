// The key core toward Element members: which transport our keys take (room event or to-device, per
// `elementTransport` and what each member's keys came by), G5 for Element key events, and a flapping membership
// (a leave and a return before the rotation on leave is due).
import { describe, expect, it } from "vitest";
import { TEST_KEY_TIMEOUTS, device, membership, testCore } from "../../../test/helpers/keyCore.js";
import { encodeBase64 } from "../../core/random.js";
import type { ElementKeyTransport } from "./elementTransport.js";
import { LEAVE_TIMER, type KeyManagerCore } from "./KeyManagerCore.js";
import { deviceKey, type Arrival, type DeviceRef, type KeyAction } from "./keyTypes.js";

const ME = device(0);
const FAMEDLY = device(1);
const EL = device(2);
const EL2 = device(3);
const T0 = 1_000_000;
const KEY = encodeBase64(new Uint8Array(16).fill(7));

function of<K extends KeyAction["kind"]>(actions: KeyAction[], kind: K): Extract<KeyAction, { kind: K }>[] {
  return actions.filter((a): a is Extract<KeyAction, { kind: K }> => a.kind === kind);
}

function elementCore(
  mode: ElementKeyTransport | undefined,
  roomAllowed: { value: boolean } = { value: true },
): KeyManagerCore {
  const core = testCore(ME, {
    ...(mode === undefined ? {} : { elementTransport: mode }),
    roomKeysAllowed: () => roomAllowed.value,
  });
  core.handle({
    kind: "membership",
    joined: [membership(FAMEDLY), membership(EL, "element"), membership(EL2, "element")],
    left: [],
    now: T0,
  });
  return core;
}

function receive(core: KeyManagerCore, from: DeviceRef, way: "room" | "toDevice", index = 1): KeyAction[] {
  const arrival: Arrival = { from, encrypted: true, roomEncrypted: true, dialect: "element", way };
  return core.handle({ kind: "keys", arrival, keys: [{ index, key: KEY }], now: T0 });
}

describe("KeyManagerCore: our keys to Element members", () => {
  it("auto (the default): one room event for every Element member, to-device for famedly members", () => {
    const core = elementCore(undefined);
    const actions = core.handle({ kind: "enter", now: T0 });
    expect(of(actions, "sendKeys").map((a) => a.to.map(deviceKey))).toEqual([[deviceKey(FAMEDLY)]]);
    const room = of(actions, "sendRoomKeys");
    expect(room).toHaveLength(1);
    expect(room[0]?.keys).toEqual(of(actions, "sendKeys")[0]?.keys);
  });

  it('"to-device": every member to-device, no room event', () => {
    const core = elementCore("to-device");
    const actions = core.handle({ kind: "enter", now: T0 });
    expect(of(actions, "sendRoomKeys")).toEqual([]);
    expect(of(actions, "sendKeys")[0]?.to.map(deviceKey)).toEqual([FAMEDLY, EL, EL2].map(deviceKey));
  });

  it("no room event where it would be cleartext (K3): Element members to-device, whatever the mode", () => {
    const allowed = { value: false };
    const core = elementCore("room", allowed);
    const actions = core.handle({ kind: "enter", now: T0 });
    expect(of(actions, "sendRoomKeys")).toEqual([]);
    expect(of(actions, "sendKeys")[0]?.to.map(deviceKey)).toEqual([FAMEDLY, EL, EL2].map(deviceKey));
    // Once the room is encrypted, the next rotation goes by room event.
    allowed.value = true;
    core.handle({ kind: "membership", joined: [], left: [FAMEDLY], now: T0 + 1 });
    const rotation = core.handle({ kind: "timer", id: LEAVE_TIMER, now: T0 + 5_000 });
    expect(of(rotation, "sendRoomKeys")).toHaveLength(1);
    expect(of(rotation, "sendKeys")).toEqual([]);
  });

  it("auto: a member whose keys come to-device gets our key to-device (at once, then on rotations); room is sticky", () => {
    const core = elementCore("auto");
    core.handle({ kind: "enter", now: T0 });
    const switched = receive(core, EL, "toDevice");
    expect(of(switched, "setKey")).toHaveLength(1);
    expect(of(switched, "sendKeys")).toEqual([
      expect.objectContaining({ reason: "transport", to: [{ ...EL, dialect: "element" }] }),
    ]);
    // The next rotation: EL to-device, EL2 (not heard from) by room event.
    core.handle({ kind: "membership", joined: [], left: [FAMEDLY], now: T0 + 1 });
    const rotation = core.handle({
      kind: "timer",
      id: LEAVE_TIMER,
      now: T0 + 1 + TEST_KEY_TIMEOUTS.makeKeyOnLeaveDelayMs,
    });
    expect(of(rotation, "sendKeys")[0]?.to.map(deviceKey)).toEqual([deviceKey(EL)]);
    expect(of(rotation, "sendRoomKeys")).toHaveLength(1);
    // A room-event key switches EL back (our key again, by room event); a later to-device key changes nothing.
    const back = receive(core, EL, "room", 2);
    expect(of(back, "sendRoomKeys")).toEqual([expect.objectContaining({ reason: "transport" })]);
    expect(of(back, "sendKeys")).toEqual([]);
    const later = receive(core, EL, "toDevice", 3);
    expect(of(later, "setKey")).toHaveLength(1);
    expect(of(later, "sendKeys")).toEqual([]);
    expect(of(later, "sendRoomKeys")).toEqual([]);
  });

  it('"room" and "to-device" never switch', () => {
    for (const mode of ["room", "to-device"] as const) {
      const core = elementCore(mode);
      core.handle({ kind: "enter", now: T0 });
      const actions = [...receive(core, EL, "toDevice"), ...receive(core, EL2, "room")];
      expect(actions.map((a) => a.kind)).toEqual(["setKey", "setKey"]);
    }
  });

  it("a member that left is forgotten: after a rejoin it gets room events again until heard from", () => {
    const core = elementCore("auto");
    core.handle({ kind: "enter", now: T0 });
    receive(core, EL, "toDevice");
    core.handle({ kind: "membership", joined: [], left: [EL], now: T0 + 1 });
    core.handle({ kind: "timer", id: LEAVE_TIMER, now: T0 + 5_000 });
    const rejoin = core.handle({
      kind: "membership",
      joined: [membership(EL, "element")],
      left: [],
      now: T0 + 6_000,
    });
    expect(of(rejoin, "sendRoomKeys")).toHaveLength(1);
    expect(of(rejoin, "sendKeys")).toEqual([]);
  });
});

describe("KeyManagerCore: Element key events (G5)", () => {
  it("an Element key event from a member with a famedly membership is dropped", () => {
    const core = elementCore("auto");
    core.handle({ kind: "enter", now: T0 });
    const actions = receive(core, FAMEDLY, "room");
    expect(of(actions, "setKey")).toEqual([]);
    expect(of(actions, "dropped")[0]?.why).toMatch(/Element membership/);
  });

  it("an Element key room event in cleartext in an encrypted room is dropped; in a plain room it is taken", () => {
    const core = elementCore("auto");
    core.handle({ kind: "enter", now: T0 });
    const cleartext = (roomEncrypted: boolean): Arrival => ({
      from: EL,
      encrypted: false,
      roomEncrypted,
      dialect: "element",
      way: "room",
    });
    const dropped = core.handle({
      kind: "keys",
      arrival: cleartext(true),
      keys: [{ index: 1, key: KEY }],
      now: T0,
    });
    expect(of(dropped, "dropped")[0]?.why).toBe("plaintext in an encrypted room");
    const taken = core.handle({
      kind: "keys",
      arrival: cleartext(false),
      keys: [{ index: 1, key: KEY }],
      now: T0,
    });
    expect(of(taken, "setKey")).toHaveLength(1);
  });

  it("a held early Element key whose sender turns out to be a famedly member is dropped on release", () => {
    const core = testCore(ME, { roomKeysAllowed: () => true });
    core.handle({ kind: "enter", now: T0 });
    const held = receive(core, FAMEDLY, "room");
    expect(of(held, "setTimer")).toHaveLength(1);
    const released = core.handle({ kind: "membership", joined: [membership(FAMEDLY)], left: [], now: T0 });
    expect(of(released, "setKey")).toEqual([]);
    expect(of(released, "dropped")[0]?.why).toMatch(/Element membership/);
  });
});

describe("KeyManagerCore: key room events are for the call's members", () => {
  it("taken once we pre-shared or entered, until dispose; to-device keys are taken either way", () => {
    const core = elementCore("auto");
    const before = receive(core, EL, "room");
    expect(of(before, "setKey")).toEqual([]);
    expect(of(before, "dropped")[0]?.why).toBe("a key room event while we are not in the call");
    expect(of(receive(core, EL, "toDevice"), "setKey")).toHaveLength(1);
    core.handle({ kind: "preShare", now: T0 });
    expect(of(receive(core, EL, "room", 2), "setKey")).toHaveLength(1);
    core.handle({ kind: "dispose" });
    expect(of(receive(core, EL, "room", 3), "setKey")).toEqual([]);
    core.handle({ kind: "enter", now: T0 });
    expect(of(receive(core, EL, "room", 4), "setKey")).toHaveLength(1);
  });
});

describe("KeyManagerCore: a flapping membership", () => {
  it("a member back before the rotation on leave is due: the rotation is dropped and it gets our latest key again", () => {
    const core = elementCore("to-device");
    const first = of(core.handle({ kind: "enter", now: T0 }), "sendKeys")[0]!.keys;
    const left = core.handle({ kind: "membership", joined: [], left: [EL], now: T0 + 20_000 });
    expect(of(left, "setTimer")).toEqual([
      { kind: "setTimer", id: LEAVE_TIMER, delayMs: TEST_KEY_TIMEOUTS.makeKeyOnLeaveDelayMs },
    ]);
    const back = core.handle({
      kind: "membership",
      joined: [membership(EL, "element")],
      left: [],
      now: T0 + 20_500,
    });
    expect(of(back, "clearTimer")).toEqual([{ kind: "clearTimer", id: LEAVE_TIMER }]);
    expect(of(back, "sendKeys")).toEqual([
      { kind: "sendKeys", keys: first, to: [{ ...EL, dialect: "element" }], reason: "rejoin" },
    ]);
    expect(of(back, "setKey")).toEqual([]); // no new key
    expect(core.latestLocalKeyIndex).toBe(0);
    // A stale timer firing anyway changes nothing.
    expect(core.handle({ kind: "timer", id: LEAVE_TIMER, now: T0 + 24_000 })).toEqual([]);
  });

  it("when another device left too, the rotation still happens", () => {
    const core = elementCore("to-device");
    core.handle({ kind: "enter", now: T0 });
    core.handle({ kind: "membership", joined: [], left: [EL, EL2], now: T0 + 20_000 });
    const back = core.handle({
      kind: "membership",
      joined: [membership(EL, "element")],
      left: [],
      now: T0 + 20_500,
    });
    expect(of(back, "clearTimer")).toEqual([]);
    const rotation = core.handle({ kind: "timer", id: LEAVE_TIMER, now: T0 + 24_000 });
    expect(of(rotation, "sendKeys")[0]?.to.map(deviceKey)).toEqual([FAMEDLY, EL].map(deviceKey));
    expect(core.latestLocalKeyIndex).toBe(1);
  });

  it("a member back after the rotation is a joiner again (reuse of the fresh key)", () => {
    const core = elementCore("to-device");
    core.handle({ kind: "enter", now: T0 });
    core.handle({ kind: "membership", joined: [], left: [EL], now: T0 + 20_000 });
    core.handle({ kind: "timer", id: LEAVE_TIMER, now: T0 + 24_000 });
    expect(core.latestLocalKeyIndex).toBe(1);
    const back = core.handle({
      kind: "membership",
      joined: [membership(EL, "element")],
      left: [],
      now: T0 + 25_000,
    });
    expect(of(back, "sendKeys")).toEqual([
      expect.objectContaining({ reason: "reuse", to: [{ ...EL, dialect: "element" }] }),
    ]);
    expect(core.latestLocalKeyIndex).toBe(1);
  });
});
