import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  SimulatedCall,
  TEST_KEY_TIMEOUTS,
  device,
  membership,
  testCore,
} from "../../../test/helpers/keyCore.js";
import { encodeBase64 } from "../../core/random.js";
import { KEY_LENGTH, LEAVE_TIMER, type KeyManagerCore } from "./KeyManagerCore.js";
import { deviceKey, type Arrival, type DeviceRef, type KeyAction } from "./keyTypes.js";

const ME = device(0);
const T0 = 1_000_000;

function of<K extends KeyAction["kind"]>(actions: KeyAction[], kind: K): Extract<KeyAction, { kind: K }>[] {
  return actions.filter((a): a is Extract<KeyAction, { kind: K }> => a.kind === kind);
}

function arrival(from: DeviceRef, overrides: Partial<Arrival> = {}): Arrival {
  return {
    from,
    encrypted: true,
    senderDevice: from.deviceId,
    roomEncrypted: true,
    dialect: "famedly-v2",
    ...overrides,
  };
}

function join(core: KeyManagerCore, now: number, ...devices: DeviceRef[]): KeyAction[] {
  return core.handle({ kind: "membership", joined: devices.map((d) => membership(d)), left: [], now });
}

function leave(core: KeyManagerCore, now: number, ...devices: DeviceRef[]): KeyAction[] {
  return core.handle({ kind: "membership", joined: [], left: devices, now });
}

/** A core that entered at T0 with members 1..n, its first key (index 0) in use. */
function enteredCore(n: number, overrides: Parameters<typeof testCore>[1] = {}): KeyManagerCore {
  const core = testCore(ME, overrides);
  join(core, T0, ...Array.from({ length: n }, (_, i) => device(i + 1)));
  core.handle({ kind: "enter", now: T0 });
  return core;
}

const b64 = (bytes: Uint8Array): string => encodeBase64(bytes);

describe("KeyManagerCore: our keys", () => {
  it("preShareKey makes a 32-byte key at index 0, uses it at once and sends it to every member", () => {
    const core = testCore(ME);
    join(core, T0, device(1), device(2));
    const actions = core.handle({ kind: "preShare", now: T0 });
    const [send] = of(actions, "sendKeys");
    expect(send?.keys).toHaveLength(1);
    expect(send?.keys[0]?.index).toBe(0);
    expect(send?.keys[0]?.key).toHaveLength(KEY_LENGTH);
    expect(send?.to.map(deviceKey)).toEqual([deviceKey(device(1)), deviceKey(device(2))]);
    const [set] = of(actions, "setKey");
    expect(set).toMatchObject({ isLocal: true, index: 0, participant: ME });
    expect(actions.map((a) => a.kind)).toEqual(["sendKeys", "setKey"]); // sent before used
    expect(core.latestLocalKeyIndex).toBe(0);
    expect(core.currentLocalKeyIndex).toBe(0);
  });

  it("enter after preShareKey sends the same key again to every member and makes no new one", () => {
    const core = testCore(ME);
    join(core, T0, device(1));
    const first = of(core.handle({ kind: "preShare", now: T0 }), "sendKeys")[0]!;
    const actions = core.handle({ kind: "enter", now: T0 + 60_000 });
    expect(actions).toEqual([{ kind: "sendKeys", keys: first.keys, to: first.to, reason: "enter" }]);
    expect(core.active).toBe(true);
  });

  it("a join with a key older than makeKeyOnJoinDelay makes a new key for everyone, used after useKeyDelay", () => {
    const core = enteredCore(2);
    const now = T0 + TEST_KEY_TIMEOUTS.makeKeyOnJoinDelayMs;
    const actions = join(core, now, device(3));
    const [send] = of(actions, "sendKeys");
    expect(send?.reason).toBe("join");
    expect(send?.keys.map((k) => k.index)).toEqual([1]);
    expect(send?.to.map(deviceKey)).toEqual([1, 2, 3].map((i) => deviceKey(device(i))));
    expect(of(actions, "setKey")).toEqual([]);
    const [timer] = of(actions, "setTimer");
    expect(timer?.delayMs).toBe(TEST_KEY_TIMEOUTS.useKeyDelayMs);
    expect(core.currentLocalKeyIndex).toBe(0);
    const later = core.handle({ kind: "timer", id: timer!.id, now: now + 4_000 });
    expect(later).toEqual([
      { kind: "setKey", participant: ME, isLocal: true, index: 1, key: send!.keys[0]!.key },
    ]);
    expect(core.currentLocalKeyIndex).toBe(1);
  });

  it("a join within makeKeyOnJoinDelay reuses the key and sends it to the joiners only (K1)", () => {
    const core = enteredCore(2);
    const actions = join(core, T0 + 7_999, device(3), device(4));
    expect(actions.map((a) => a.kind)).toEqual(["sendKeys"]);
    const [send] = of(actions, "sendKeys");
    expect(send?.reason).toBe("reuse");
    expect(send?.keys.map((k) => k.index)).toEqual([0]);
    expect(send?.to.map(deviceKey)).toEqual([deviceKey(device(3)), deviceKey(device(4))]);
    expect(core.latestLocalKeyIndex).toBe(0);
  });

  it("a joiner during the use delay gets the coming key only, never the one from before it joined", () => {
    const core = enteredCore(1);
    const made = of(join(core, T0 + 10_000, device(2)), "sendKeys")[0]!;
    const actions = join(core, T0 + 11_000, device(3));
    expect(of(actions, "sendKeys")[0]?.keys).toEqual(made.keys);
  });

  it("a leave debounces, then makes a new key for the remaining members only, used after the delay", () => {
    const core = enteredCore(3);
    const first = leave(core, T0 + 1_000, device(3));
    expect(first).toEqual([
      { kind: "forget", devices: [device(3)] },
      { kind: "setTimer", id: LEAVE_TIMER, delayMs: TEST_KEY_TIMEOUTS.makeKeyOnLeaveDelayMs },
    ]);
    // A second leave restarts the debounce.
    const second = leave(core, T0 + 3_000, device(2));
    expect(second).toEqual([
      { kind: "forget", devices: [device(2)] },
      { kind: "clearTimer", id: LEAVE_TIMER },
      { kind: "setTimer", id: LEAVE_TIMER, delayMs: TEST_KEY_TIMEOUTS.makeKeyOnLeaveDelayMs },
    ]);
    const fired = core.handle({ kind: "timer", id: LEAVE_TIMER, now: T0 + 7_000 });
    const [send] = of(fired, "sendKeys");
    expect(send?.reason).toBe("leave");
    expect(send?.to.map(deviceKey)).toEqual([deviceKey(device(1))]);
    expect(of(fired, "setKey")).toEqual([]);
    const use = of(fired, "setTimer")[0]!;
    expect(core.handle({ kind: "timer", id: use.id, now: T0 + 11_000 })[0]).toMatchObject({
      kind: "setKey",
      isLocal: true,
      index: 1,
    });
  });

  it("a leave rotates even right after a new key (the join reuse window does not apply)", () => {
    const core = enteredCore(2);
    leave(core, T0 + 100, device(2));
    const fired = core.handle({ kind: "timer", id: LEAVE_TIMER, now: T0 + 4_100 });
    expect(of(fired, "sendKeys")[0]?.keys[0]?.index).toBe(1);
  });

  it("before enter, joins and leaves do not rotate", () => {
    const core = testCore(ME);
    join(core, T0, device(1));
    core.handle({ kind: "preShare", now: T0 });
    expect(join(core, T0 + 20_000, device(2))).toEqual([]);
    expect(leave(core, T0 + 20_000, device(2))).toEqual([{ kind: "forget", devices: [device(2)] }]);
  });

  it("the index wraps at keyRingSize", () => {
    const core = enteredCore(1, { keyRingSize: 3 });
    const indices: number[] = [];
    for (let i = 1; i <= 4; i++) {
      const now = T0 + i * 10_000;
      join(core, now, device(10 + i));
      indices.push(core.latestLocalKeyIndex!);
    }
    expect(indices).toEqual([1, 2, 0, 1]);
    expect(core.indexCounter).toBe(5);
  });

  it("keyRingSize must be a positive integer", () => {
    expect(() => testCore(ME, { keyRingSize: 0 })).toThrow(TypeError);
  });

  it("with e2eeEnabled false it makes, sends and accepts nothing", () => {
    const core = testCore(ME, { e2eeEnabled: false });
    join(core, T0, device(1));
    expect(core.handle({ kind: "preShare", now: T0 })).toEqual([]);
    expect(core.handle({ kind: "enter", now: T0 })).toEqual([]);
    const keys = core.handle({
      kind: "keys",
      arrival: arrival(device(1)),
      keys: [{ index: 0, key: b64(new Uint8Array(32).fill(1)) }],
      now: T0,
    });
    expect(of(keys, "setKey")).toEqual([]);
  });
});

describe("KeyManagerCore: ratchet mode", () => {
  it("a join asks the provider to ratchet; the ratcheted key goes to the joiners only, not set again", () => {
    const core = enteredCore(1, { ratchet: true });
    const actions = join(core, T0 + 20_000, device(2));
    expect(actions).toEqual([{ kind: "ratchet", index: 0, sendTo: [device(2)] }]);
    const ratcheted = new Uint8Array(32).fill(9);
    const after = core.handle({
      kind: "ratcheted",
      index: 0,
      key: ratcheted,
      sendTo: [device(2)],
      now: T0 + 20_000,
    });
    expect(after).toEqual([
      {
        kind: "sendKeys",
        keys: [{ index: 0, key: ratcheted }],
        to: [{ ...device(2), dialect: "famedly-v2" }],
        reason: "ratchet",
      },
    ]);
    expect(core.keyOf(ME, 0)).toEqual(ratcheted);
  });

  it("when the provider cannot ratchet, a new key is made and used after the delay", () => {
    const core = enteredCore(1, { ratchet: true });
    join(core, T0 + 20_000, device(2));
    const after = core.handle({
      kind: "ratcheted",
      index: 0,
      key: undefined,
      sendTo: [device(2)],
      now: T0 + 20_000,
    });
    expect(of(after, "sendKeys")[0]?.keys[0]?.index).toBe(1);
    expect(of(after, "setTimer")[0]?.delayMs).toBe(TEST_KEY_TIMEOUTS.useKeyDelayMs);
  });

  it("a leave makes a fresh key even in ratchet mode", () => {
    const core = enteredCore(2, { ratchet: true });
    leave(core, T0 + 1, device(2));
    const fired = core.handle({ kind: "timer", id: LEAVE_TIMER, now: T0 + 4_001 });
    expect(of(fired, "sendKeys")[0]?.keys[0]?.index).toBe(1);
  });
});

describe("KeyManagerCore: received keys (G5, K5)", () => {
  const key = new Uint8Array(32).fill(7);

  it("a member's key is set at once; a duplicate delivery is ignored", () => {
    const core = enteredCore(1);
    const input = {
      kind: "keys",
      arrival: arrival(device(1)),
      keys: [{ index: 3, key: b64(key) }],
      now: T0,
    } as const;
    expect(core.handle(input)).toEqual([
      { kind: "setKey", participant: device(1), isLocal: false, index: 3, key },
    ]);
    expect(core.handle(input)).toEqual([]);
  });

  it.each<[string, Partial<Arrival>, DeviceRef]>([
    ["plaintext in an encrypted room", { encrypted: false, senderDevice: undefined }, device(1)],
    ["a device_id the Olm sender contradicts", { senderDevice: "OTHER" }, device(1)],
    ["our own device", {}, ME],
  ])("ignores keys sent as %s", (_, overrides, from) => {
    const core = enteredCore(1);
    const actions = core.handle({
      kind: "keys",
      arrival: arrival(from, overrides),
      keys: [{ index: 0, key: b64(key) }],
      now: T0,
    });
    expect(of(actions, "setKey")).toEqual([]);
    expect(of(actions, "dropped")).toHaveLength(1);
  });

  it("accepts plaintext keys in an unencrypted room", () => {
    const core = enteredCore(1);
    const actions = core.handle({
      kind: "keys",
      arrival: arrival(device(1), { encrypted: false, senderDevice: undefined, roomEncrypted: false }),
      keys: [{ index: 0, key: b64(key) }],
      now: T0,
    });
    expect(of(actions, "setKey")).toHaveLength(1);
  });

  it("drops invalid and empty keys, keeps the valid entries of the same event", () => {
    const core = enteredCore(1);
    const actions = core.handle({
      kind: "keys",
      arrival: arrival(device(1)),
      keys: [
        { index: 0, key: "!!!" },
        { index: 1, key: "" },
        { index: 2, key: b64(key).replace(/=+$/, "") },
      ],
      now: T0,
    });
    expect(of(actions, "setKey").map((a) => a.index)).toEqual([2]);
    expect(of(actions, "dropped")).toHaveLength(2);
  });

  it("holds keys from a device that is not a member yet and applies them when its membership appears", () => {
    const core = enteredCore(1);
    const held = core.handle({
      kind: "keys",
      arrival: arrival(device(5)),
      keys: [{ index: 0, key: b64(key) }],
      now: T0,
    });
    expect(held).toEqual([
      { kind: "setTimer", id: `hold:${deviceKey(device(5))}`, delayMs: TEST_KEY_TIMEOUTS.earlyEventHoldMs },
    ]);
    const joined = join(core, T0 + 4_999, device(5));
    expect(of(joined, "clearTimer")).toEqual([{ kind: "clearTimer", id: `hold:${deviceKey(device(5))}` }]);
    expect(of(joined, "setKey")).toEqual([
      { kind: "setKey", participant: device(5), isLocal: false, index: 0, key },
    ]);
  });

  it("drops held keys after the hold time; a later membership brings nothing back", () => {
    const core = enteredCore(1);
    core.handle({ kind: "keys", arrival: arrival(device(5)), keys: [{ index: 0, key: b64(key) }], now: T0 });
    const fired = core.handle({ kind: "timer", id: `hold:${deviceKey(device(5))}`, now: T0 + 5_000 });
    expect(of(fired, "dropped")).toHaveLength(1);
    expect(of(join(core, T0 + 6_000, device(5)), "setKey")).toEqual([]);
  });

  it("forgets a leaver's keys", () => {
    const core = enteredCore(1);
    core.handle({ kind: "keys", arrival: arrival(device(1)), keys: [{ index: 0, key: b64(key) }], now: T0 });
    expect(core.keyOf(device(1), 0)).toEqual(key);
    leave(core, T0, device(1));
    expect(core.keyOf(device(1), 0)).toBeUndefined();
    expect(core.heldKeys().filter((k) => !k.isLocal)).toEqual([]);
  });
});

describe("KeyManagerCore: key requests", () => {
  it("answers a member's request with our latest key only, in the request's dialect", () => {
    const core = enteredCore(1);
    const actions = core.handle({
      kind: "request",
      arrival: arrival(device(1), { dialect: "famedly-v1" }),
      now: T0,
    });
    expect(actions).toEqual([
      {
        kind: "sendKeys",
        keys: [{ index: 0, key: core.keyOf(ME, 0) }],
        to: [{ ...device(1), dialect: "famedly-v1" }],
        reason: "reply",
      },
    ]);
  });

  it("holds a non-member's request and answers it once the membership appears", () => {
    const core = enteredCore(1);
    expect(of(core.handle({ kind: "request", arrival: arrival(device(6)), now: T0 }), "sendKeys")).toEqual(
      [],
    );
    const joined = join(core, T0 + 1_000, device(6));
    const sends = of(joined, "sendKeys");
    // The join reuse (recent key) and the answer.
    expect(sends.every((s) => s.to.every((r) => deviceKey(r) === deviceKey(device(6))))).toBe(true);
    expect(sends.map((s) => s.reason)).toEqual(["reuse", "reply"]);
  });

  it("drops a request when we have no key and are not in the call", () => {
    const core = testCore(ME);
    join(core, T0, device(1));
    expect(
      of(core.handle({ kind: "request", arrival: arrival(device(1)), now: T0 }), "dropped"),
    ).toHaveLength(1);
  });

  it("requestKeys goes to each device once, in its membership's dialect (element too: the shell skips it), the unknown ones in the default", () => {
    const core = testCore(ME, { defaultDialect: "famedly-v1" });
    core.handle({
      kind: "membership",
      joined: [membership(device(1), "famedly-v2"), membership(device(2), "element")],
      left: [],
      now: T0,
    });
    const actions = core.handle({
      kind: "requestKeys",
      from: [device(1), device(2), device(3), device(1), ME],
      now: T0,
    });
    expect(actions).toEqual([
      {
        kind: "sendRequest",
        to: [
          { ...device(1), dialect: "famedly-v2" },
          { ...device(2), dialect: "element" },
          { ...device(3), dialect: "famedly-v1" },
        ],
      },
    ]);
  });
});

describe("KeyManagerCore: membership updates and dispose", () => {
  it("a member's new session (membershipId) is a rejoin: it gets our key again", () => {
    const core = enteredCore(1);
    const actions = core.handle({
      kind: "membership",
      joined: [membership(device(1), "famedly-v2", "new-session")],
      left: [],
      now: T0 + 1,
    });
    expect(of(actions, "sendKeys")[0]?.to.map(deviceKey)).toEqual([deviceKey(device(1))]);
  });

  it("a re-published membership in another dialect switches the dialect, without a rotation", () => {
    const core = enteredCore(1);
    expect(
      core.handle({
        kind: "membership",
        joined: [membership(device(1), "famedly-v1")],
        left: [],
        now: T0 + 1,
      }),
    ).toEqual([]);
    const reply = core.handle({ kind: "requestKeys", from: [device(1)], now: T0 + 2 });
    expect(reply).toEqual([{ kind: "sendRequest", to: [{ ...device(1), dialect: "famedly-v1" }] }]);
  });

  it("dispose clears our keys and timers; the index counter survives (reference §10.2)", () => {
    const core = enteredCore(2);
    join(core, T0 + 10_000, device(3)); // new key 1, use timer armed
    leave(core, T0 + 10_000, device(3)); // leave debounce armed
    const actions = core.handle({ kind: "dispose" });
    expect(of(actions, "clearTimer").map((a) => a.id)).toEqual(
      expect.arrayContaining([LEAVE_TIMER, expect.stringMatching(/^use:1:/)]),
    );
    expect(of(actions, "clearTimer")).toHaveLength(2);
    expect(core.latestLocalKeyIndex).toBeUndefined();
    expect(core.heldKeys().filter((k) => k.isLocal)).toEqual([]);
    expect(core.active).toBe(false);
    // Rejoin: a fresh key at the next index, at once (no recent-key reuse).
    const again = core.handle({ kind: "preShare", now: T0 + 10_001 });
    expect(of(again, "setKey")[0]).toMatchObject({ isLocal: true, index: 2 });
  });
});

describe("KeyManagerCore: simulated calls (properties)", () => {
  function assertConsistent(call: SimulatedCall): void {
    for (const [ownerId, owner] of call.cores) {
      if (!call.members.has(ownerId)) {
        continue;
      }
      const current = owner.currentLocalKeyIndex!;
      const ownKey = owner.keyOf(call.members.get(ownerId)!, current);
      for (const [otherId, other] of call.cores) {
        if (otherId === ownerId || !call.members.has(otherId)) {
          continue;
        }
        expect(
          other.keyOf(call.members.get(ownerId)!, current),
          `${otherId} holds ${ownerId}'s key ${current}`,
        ).toEqual(ownKey);
      }
    }
  }

  it.each([3, 5, 10])("%i members joining one by one each hold every other member's current key", (n) => {
    const call = new SimulatedCall();
    for (let i = 0; i < n; i++) {
      call.join(device(i));
      call.advance(1_000);
    }
    call.settle();
    assertConsistent(call);
    expect(call.pendingTimers).toBe(0);
  });

  it("after any sequence of joins, leaves and pauses: consistent keys, and no key goes to a non-member", () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant("join" as const), who: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant("leave" as const), who: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant("wait" as const), ms: fc.integer({ min: 0, max: 12_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 40 }), (steps) => {
        const call = new SimulatedCall();
        for (const s of steps) {
          if (s.op === "wait") {
            call.advance(s.ms);
          } else if (s.op === "join" && !call.members.has(deviceKey(device(s.who)))) {
            call.join(device(s.who));
          } else if (s.op === "leave" && call.members.has(deviceKey(device(s.who)))) {
            call.leave(device(s.who));
          }
        }
        call.settle();
        assertConsistent(call);
        expect(call.deliveries.filter((d) => !d.toMember)).toEqual([]);
      }),
      { numRuns: 150 },
    );
  });

  it("a leaver never receives a key made after it left", () => {
    const call = new SimulatedCall();
    for (let i = 0; i < 4; i++) {
      call.join(device(i));
    }
    call.settle();
    const leftAt = call.now;
    call.leave(device(3));
    call.settle();
    const after = call.deliveries.filter((d) => d.to === deviceKey(device(3)) && d.at >= leftAt);
    expect(after).toEqual([]);
    // And the others did rotate.
    expect(call.cores.get(deviceKey(device(0)))?.latestLocalKeyIndex).toBeGreaterThan(0);
  });
});
