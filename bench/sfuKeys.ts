// SFU key distribution benchmark: sendToDevice requests and CPU per key rotation for N members (the key manager
// with a port that counts and does not encrypt, so the port's Olm work is excluded), and the time our VoIP takes to
// process 1,000 membership changes in a 500-member call (hand-made sync batches into a LocalHomeserver client).
import { performance } from "node:perf_hooks";
import { LiveKitKeyManager } from "../src/backend/livekit/LiveKitKeyManager.js";
import { silentLogger } from "../src/core/Logger.js";
import { cryptoRandom } from "../src/core/random.js";
import { GroupEventType } from "../src/matrix/eventTypes.js";
import type { MatrixClientPort, StateEvent, SyncBatch } from "../src/matrix/MatrixClientPort.js";
import type { ParsedMembership } from "../src/matrix/schemas/membership.js";
import { createNodeDelegate } from "../src/node/index.js";
import { LiveKitBackend, VoIP } from "../src/index.js";
import { LocalHomeserver, ManualClock, RecordingKeyProvider } from "../src/testing/index.js";
import { DEFAULT_TIMEOUTS } from "../src/call/timeouts.js";
import { InjectablePort } from "../test/helpers/calls.js";
import { median } from "./stats.js";

/** One row: a call of `members` devices. */
export interface SfuKeyRow {
  members: number;
  /** Rotations measured (leave rotations and join rotations alternate). */
  rotations: number;
  /** sendToDevice calls per rotation (median; target 1: one event type, one encryption mode). */
  requestsPerRotation: number;
  /** Recipients per rotation (median). */
  recipientsPerRotation: number;
  /** Process CPU ms per rotation, port encryption excluded: median and max. */
  cpuMsP50: number;
  cpuMsMax: number;
}

/** The benchmark's result. */
export interface SfuKeyResult {
  rows: SfuKeyRow[];
  /**
   * 1,000 membership changes (leave/rejoin) through VoIP → GroupCallSession → keys, in a 500-member call and, to
   * show that the work per change does not grow with the call, in a 50-member call.
   */
  membershipChanges: MembershipChangesResult[];
}

/** One run of membership changes. */
export interface MembershipChangesResult {
  members: number;
  changes: number;
  totalMs: number;
  cpuMs: number;
  perChangeUs: number;
}

function cpuMs(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

function membershipOf(i: number): ParsedMembership {
  return {
    userId: `@m${i}:local`,
    deviceId: `D${i}`,
    callId: "bench",
    application: "m.call",
    scope: "m.room",
    backend: { type: "livekit", livekitServiceUrl: "https://jwt.local", livekitAlias: "bench" },
    expiresAt: Number.MAX_SAFE_INTEGER,
    membershipId: `s${i}`,
    eventId: `$m${i}`,
    roomId: "!bench:local",
    dialect: "famedly-v2",
  };
}

/** Key rotations with N members: the manager and a counting port that does no encryption. */
async function measureRotations(members: number, rotations: number): Promise<SfuKeyRow> {
  const clock = new ManualClock();
  const calls: number[] = [];
  let current = { requests: 0, recipients: 0 };
  const port = {
    userId: "@me:local",
    deviceId: "ME",
    getRoom: () => ({ encrypted: true }),
    canEncryptToDevice: () => true,
    sendToDevice: (_type: string, messages: Record<string, Record<string, object>>) => {
      current.requests++;
      for (const byDevice of Object.values(messages)) {
        current.recipients += Object.keys(byDevice).length;
      }
      return Promise.resolve();
    },
  } as unknown as MatrixClientPort;
  const manager = new LiveKitKeyManager({
    client: port,
    clock,
    random: cryptoRandom,
    logger: silentLogger,
    roomId: "!bench:local",
    groupCallId: "bench",
    keyProvider: new RecordingKeyProvider(),
    timeouts: DEFAULT_TIMEOUTS,
    keyRingSize: 16,
    ratchet: false,
    e2eeEnabled: true,
    allowPlaintextKeys: false,
    defaultDialect: "famedly-v2",
    onKeysChanged: () => undefined,
    onError: () => undefined,
  });
  const all = Array.from({ length: members - 1 }, (_, i) => membershipOf(i));
  manager.membershipChanged(all, []);
  await manager.enter();
  await clock.advance(60_000);
  const cpu: number[] = [];
  const recipients: number[] = [];
  for (let r = 0; r < rotations; r++) {
    const who = all[Math.floor(r / 2) % all.length]!;
    current = { requests: 0, recipients: 0 };
    const start = process.cpuUsage();
    if (r % 2 === 0) {
      // A leave: the debounce, then a new key for everyone left.
      manager.membershipChanged([], [who]);
      await clock.advance(DEFAULT_TIMEOUTS.makeKeyOnLeaveDelayMs);
    } else {
      // A join 20 s after the last key: a new key for everyone.
      manager.membershipChanged([who], []);
    }
    await manager.settled();
    cpu.push(cpuMs(start));
    calls.push(current.requests);
    recipients.push(current.recipients);
    await clock.advance(20_000);
    await manager.settled();
  }
  manager.close();
  return {
    members,
    rotations,
    requestsPerRotation: median(calls),
    recipientsPerRotation: median(recipients),
    cpuMsP50: median(cpu),
    cpuMsMax: Math.max(...cpu),
  };
}

function stateEvent(
  type: string,
  sender: string,
  stateKey: string,
  content: Record<string, unknown>,
  n: number,
): StateEvent {
  return { eventId: `$e${n}`, roomId: "", type, sender, stateKey, content, originServerTs: 0 };
}

/** 1,000 membership changes in a 500-member call, through our VoIP (sync batches injected into a real client). */
async function measureMembershipChanges(members: number, changes: number): Promise<MembershipChangesResult> {
  const clock = new ManualClock();
  const hs = new LocalHomeserver({ clock });
  hs.setTurnServers(undefined);
  const roomId = await hs.createRoom({
    creator: "@me:local",
    powerLevels: { events: { [GroupEventType.Member]: 0 } },
  });
  const port = new InjectablePort(hs.createClient("@me:local", "ME"));
  const voip = new VoIP(port, createNodeDelegate({ keyProvider: new RecordingKeyProvider() }), { clock });
  let n = 0;
  const entry = (i: number, expires: number): Record<string, unknown> => ({
    call_id: "bench",
    application: "m.call",
    scope: "m.room",
    foci_active: [{ type: "livekit", livekit_service_url: "https://jwt.local", livekit_alias: "bench" }],
    device_id: `D${i}`,
    expires_ts: expires,
    membershipID: `s${i}`,
  });
  const batch = (state: StateEvent[]): SyncBatch => ({
    rooms: [{ roomId, initial: false, timeline: [], state: state.map((e) => ({ ...e, roomId })) }],
    toDevice: [],
  });
  const expires = clock.now() + 3_600_000;
  // Everyone joins the room and the call.
  const joins: StateEvent[] = [];
  for (let i = 0; i < members - 1; i++) {
    const user = `@m${i}:local`;
    joins.push(stateEvent("m.room.member", user, user, { membership: "join" }, n++));
    joins.push(stateEvent(GroupEventType.Member, user, user, { memberships: [entry(i, expires)] }, n++));
  }
  await port.inject(batch(joins));
  const group = await voip.fetchOrCreateGroupCall(
    "bench",
    roomId,
    new LiveKitBackend({ livekitServiceUrl: "https://jwt.local", livekitAlias: "bench" }),
  );
  await group.enter();
  await hs.flush();
  if (group.participants.length !== members) {
    throw new Error(`expected ${members} participants, got ${group.participants.length}`);
  }
  const start = process.cpuUsage();
  const t0 = performance.now();
  for (let c = 0; c < changes; c++) {
    const i = Math.floor(c / 2) % (members - 1);
    const user = `@m${i}:local`;
    const content = c % 2 === 0 ? { memberships: [] } : { memberships: [entry(i, expires)] };
    await port.inject(batch([stateEvent(GroupEventType.Member, user, user, content, n++)]));
  }
  await hs.flush();
  const totalMs = performance.now() - t0;
  const cpu = cpuMs(start);
  if (group.participants.length !== members) {
    throw new Error(`expected ${members} participants after the changes, got ${group.participants.length}`);
  }
  await voip.dispose();
  await hs.close();
  return { members, changes, totalMs, cpuMs: cpu, perChangeUs: (totalMs * 1000) / changes };
}

/** Runs the SFU key benchmark. */
export async function measureSfuKeys(
  opts: { rotations?: number; sizes?: number[] } = {},
): Promise<SfuKeyResult> {
  const rows: SfuKeyRow[] = [];
  for (const members of opts.sizes ?? [10, 100, 500]) {
    rows.push(await measureRotations(members, opts.rotations ?? 20));
  }
  const membershipChanges = [
    await measureMembershipChanges(50, 1_000),
    await measureMembershipChanges(500, 1_000),
  ];
  return { rows, membershipChanges };
}

/** The result as the table of `npm run bench`. */
export function formatSfuKeys(result: SfuKeyResult): string[] {
  const lines = [
    "SFU keys: per rotation (new key sent to every member), key manager with a port that does not encrypt",
    "",
    "| members | sendToDevice per rotation (target 1) | recipients | CPU ms per rotation p50 | max | target |",
    "|---:|---:|---:|---:|---:|---|",
  ];
  for (const row of result.rows) {
    const target = row.members === 500 ? "≤ 20 ms" : "";
    lines.push(
      `| ${row.members} | ${row.requestsPerRotation} | ${row.recipientsPerRotation} | ${row.cpuMsP50.toFixed(2)} | ${row.cpuMsMax.toFixed(2)} | ${target} |`,
    );
  }
  lines.push("");
  for (const m of result.membershipChanges) {
    lines.push(
      `${m.changes} membership changes (leave/rejoin) in a ${m.members}-member call, VoIP → GroupCallSession → keys: ` +
        `${m.totalMs.toFixed(1)} ms (${m.perChangeUs.toFixed(0)} µs per change, ${m.cpuMs.toFixed(1)} ms CPU)`,
    );
  }
  return lines;
}
