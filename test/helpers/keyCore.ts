/**
 * Test helpers for the key manager's pure core: memberships, a deterministic key source, and a small simulated
 * call (N cores, virtual time, instant delivery) to check properties over many members.
 */
import type { RandomSource } from "../../src/core/random.js";
import { encodeBase64 } from "../../src/core/random.js";
import type { Dialect } from "../../src/matrix/eventTypes.js";
import type { ParsedMembership } from "../../src/matrix/schemas/membership.js";
import { KeyManagerCore } from "../../src/backend/livekit/KeyManagerCore.js";
import {
  deviceKey,
  type DeviceRef,
  type KeyAction,
  type KeyCoreConfig,
  type KeyTimeouts,
} from "../../src/backend/livekit/keyTypes.js";

/** The reference's key timings (PROTOCOL K6) and a 5 s hold. */
export const TEST_KEY_TIMEOUTS: KeyTimeouts = {
  makeKeyOnLeaveDelayMs: 4_000,
  makeKeyOnJoinDelayMs: 8_000,
  useKeyDelayMs: 4_000,
  earlyEventHoldMs: 5_000,
};

/** A device's membership in call `!room:local` / `call`. */
export function membership(
  device: DeviceRef,
  dialect: Dialect = "famedly-v2",
  membershipId = `session-${device.deviceId}`,
): ParsedMembership {
  return {
    userId: device.userId,
    deviceId: device.deviceId,
    callId: "call",
    application: "m.call",
    scope: "m.room",
    backend: { type: "livekit", livekitServiceUrl: "https://jwt.local", livekitAlias: "alias" },
    expiresAt: Number.MAX_SAFE_INTEGER,
    membershipId,
    eventId: `$member-${device.deviceId}`,
    roomId: "!room:local",
    dialect,
  };
}

/** Distinct, reproducible "random" bytes: a running counter. */
export function countingRandom(seed = 1): RandomSource {
  let next = seed;
  return {
    bytes: (n) => {
      const out = new Uint8Array(n);
      const value = next++;
      for (let i = 0; i < n; i++) {
        out[i] = (value >>> ((i % 4) * 8)) & 0xff;
      }
      out[n - 1] = (out[n - 1] ?? 0) ^ 0x5a;
      return out;
    },
  };
}

/** `device(i)`: `@u<i>:local` / `D<i>`. */
export function device(i: number): DeviceRef {
  return { userId: `@u${i}:local`, deviceId: `D${i}` };
}

/** A core for `local` with test defaults. */
export function testCore(local: DeviceRef, overrides: Partial<KeyCoreConfig> = {}): KeyManagerCore {
  return new KeyManagerCore({
    local,
    keyRingSize: 16,
    ratchet: false,
    e2eeEnabled: true,
    defaultDialect: "famedly-v2",
    timeouts: TEST_KEY_TIMEOUTS,
    random: countingRandom(),
    ...overrides,
  });
}

interface Timer {
  owner: string;
  id: string;
  due: number;
  seq: number;
}

/** One key-event delivery the simulation made. */
export interface Delivery {
  from: string;
  to: string;
  index: number;
  key: string;
  at: number;
  /** Whether the recipient was a member when it was sent. */
  toMember: boolean;
}

/**
 * N cores in one call with instant, lossless, Olm-encrypted delivery and a shared virtual clock. Membership
 * changes reach every core at once; ratchets are answered by a deterministic provider.
 */
export class SimulatedCall {
  public now = 1_000_000;
  public readonly cores = new Map<string, KeyManagerCore>();
  public readonly members = new Map<string, DeviceRef>();
  public readonly deliveries: Delivery[] = [];
  /** sendToDevice-like calls per (owner): one per `sendKeys` action. */
  public sendActions = 0;
  readonly #timers: Timer[] = [];
  #seq = 0;

  public constructor(private readonly config: Partial<KeyCoreConfig> = {}) {}

  /** Device `d` joins: its core sees the current members, enters, and everyone sees it join. */
  public join(d: DeviceRef): void {
    const id = deviceKey(d);
    const core =
      this.cores.get(id) ??
      testCore(d, { random: countingRandom(this.cores.size * 1_000_000 + 7), ...this.config });
    this.cores.set(id, core);
    this.#run(
      id,
      core.handle({
        kind: "membership",
        joined: [...this.members.values()].map((m) => membership(m)),
        left: [],
        now: this.now,
      }),
    );
    this.#run(id, core.handle({ kind: "preShare", now: this.now }));
    this.members.set(id, d);
    for (const [otherId, other] of this.cores) {
      if (otherId !== id && this.members.has(otherId)) {
        this.#run(
          otherId,
          other.handle({ kind: "membership", joined: [membership(d)], left: [], now: this.now }),
        );
      }
    }
    this.#run(id, core.handle({ kind: "enter", now: this.now }));
  }

  /** Device `d` leaves: its core is disposed and everyone sees it go. */
  public leave(d: DeviceRef): void {
    const id = deviceKey(d);
    const core = this.cores.get(id);
    this.members.delete(id);
    if (core !== undefined) {
      this.#run(id, core.handle({ kind: "dispose" }));
      // A fresh core if it ever comes back; the counter survives like the backend's.
      this.cores.set(
        id,
        testCore(d, {
          random: countingRandom(this.#seq * 1_000 + 11),
          indexCounter: core.indexCounter,
          ...this.config,
        }),
      );
    }
    for (const [otherId, other] of this.cores) {
      if (this.members.has(otherId)) {
        this.#run(otherId, other.handle({ kind: "membership", joined: [], left: [d], now: this.now }));
      }
    }
  }

  /** Moves virtual time forward, firing due timers in order. */
  public advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      this.#timers.sort((a, b) => a.due - b.due || a.seq - b.seq);
      const next = this.#timers[0];
      if (next === undefined || next.due > end) {
        break;
      }
      this.#timers.shift();
      this.now = next.due;
      const core = this.cores.get(next.owner);
      if (core !== undefined) {
        this.#run(next.owner, core.handle({ kind: "timer", id: next.id, now: this.now }));
      }
    }
    this.now = end;
  }

  /** Runs every timer. */
  public settle(): void {
    this.advance(60_000);
  }

  /** Pending timers of every core. */
  public get pendingTimers(): number {
    return this.#timers.length;
  }

  #run(owner: string, actions: KeyAction[]): void {
    const core = this.cores.get(owner);
    for (const action of actions) {
      switch (action.kind) {
        case "setTimer":
          this.#timers.push({ owner, id: action.id, due: this.now + action.delayMs, seq: this.#seq++ });
          break;
        case "clearTimer": {
          const index = this.#timers.findIndex((t) => t.owner === owner && t.id === action.id);
          if (index >= 0) {
            this.#timers.splice(index, 1);
          }
          break;
        }
        case "sendKeys":
          this.sendActions++;
          for (const to of action.to) {
            const target = this.cores.get(deviceKey(to));
            for (const key of action.keys) {
              this.deliveries.push({
                from: owner,
                to: deviceKey(to),
                index: key.index,
                key: encodeBase64(key.key),
                at: this.now,
                toMember: this.members.has(deviceKey(to)),
              });
            }
            if (target !== undefined && this.members.has(deviceKey(to))) {
              const from = this.members.get(owner) ?? parseId(owner);
              this.#run(
                deviceKey(to),
                target.handle({
                  kind: "keys",
                  arrival: {
                    from,
                    encrypted: true,
                    senderDevice: from.deviceId,
                    roomEncrypted: true,
                    dialect: to.dialect,
                  },
                  keys: action.keys.map((k) => ({ index: k.index, key: encodeBase64(k.key) })),
                  now: this.now,
                }),
              );
            }
          }
          break;
        case "ratchet": {
          const own = core?.keyOf(parseId(owner), action.index);
          const ratcheted = own === undefined ? undefined : own.map((b) => (b + 1) & 0xff);
          if (core !== undefined) {
            this.#run(
              owner,
              core.handle({
                kind: "ratcheted",
                index: action.index,
                key: ratcheted,
                sendTo: action.sendTo,
                now: this.now,
              }),
            );
          }
          break;
        }
        case "sendRoomKeys":
          // The simulated cores have no `roomKeysAllowed`: they never send room events.
          throw new Error("the simulated call delivers to-device keys only");
        case "sendRequest":
        case "setKey":
        case "forget":
        case "dropped":
          break;
      }
    }
  }
}

function parseId(id: string): DeviceRef {
  const cut = id.lastIndexOf(":");
  return { userId: id.slice(0, cut), deviceId: id.slice(cut + 1) };
}
