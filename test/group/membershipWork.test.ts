// The membership path does the same work per state event whatever the size of the room (issue #8: a state change
// re-reads only the state keys it touched; no rebuild, copy, sort or scan of every member per event). Counted, not
// timed: `npm run bench` measures the time.
import { describe, expect, it, vi } from "vitest";
import {
  MeshBackend,
  VoIP,
  type GroupCallSession,
  type MatrixClientPort,
  type StateEvent,
  type SyncBatch,
} from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { famedlyMemberContentSchema } from "../../src/matrix/schemas/famedlyMember.js";
import { ManualClock } from "../../src/testing/index.js";
import { fixedRoomPort, noMediaDelegate } from "../../bench/fixedRoomPort.js";
import { famedlyEntry } from "../helpers/group.js";
import { countWork, type WorkCounts } from "../helpers/workCounter.js";

const ROOM = "!work:local";
const ME = "@me:local";
const SIX_MIN = 6 * 60_000;
/** Events delivered while counting: five rounds of ten. */
const ROUNDS = 5;

const user = (i: number): string => `@u${i}:local`;

/** A client port over fixed room state that counts state reads; the sync listener is called directly by the test. */
function statePort(state: Map<string, StateEvent[]>): {
  port: MatrixClientPort;
  deliver: (batch: SyncBatch) => void;
  stateReads: () => number;
} {
  let reads = 0;
  const { port, listener } = fixedRoomPort({
    roomId: ROOM,
    userId: ME,
    stateEvents: (type) => {
      reads++;
      return [...(state.get(type) ?? [])];
    },
  });
  return {
    port,
    deliver: (batch) => {
      void listener()?.(batch);
    },
    stateReads: () => reads,
  };
}

const delegate = noMediaDelegate("test");

/** What `ROUNDS` rounds of membership events cost in a call that already has `members` members. */
async function workPerRounds(members: number): Promise<{
  counts: WorkCounts;
  contentParses: number;
  stateReads: number;
  joined: number;
  left: number;
  participantsAfter: number;
}> {
  const clock = new ManualClock();
  let seq = 0;
  const stateEvent = (type: string, sender: string, content: Record<string, unknown>): StateEvent => ({
    eventId: `$e${seq++}`,
    roomId: ROOM,
    type,
    sender,
    stateKey: sender,
    content,
    originServerTs: clock.now(),
  });
  const membership = (i: number, session: string, v1 = false): StateEvent => {
    const entry = famedlyEntry({
      callId: ROOM,
      deviceId: `D${i}`,
      expiresTs: clock.now() + SIX_MIN,
      membershipId: session,
    });
    if (v1) {
      delete entry.foci_active;
      entry.backend = { type: "mesh" };
    }
    return stateEvent(GroupEventType.Member, user(i), { memberships: [entry] });
  };
  const newcomers = ROUNDS * 10;
  const state = new Map<string, StateEvent[]>([
    [
      "m.room.member",
      [ME, ...Array.from({ length: members + newcomers }, (_, i) => user(i))].map((id) =>
        stateEvent("m.room.member", id, { membership: "join" }),
      ),
    ],
    [GroupEventType.Member, Array.from({ length: members }, (_, i) => membership(i, `first-${i}`))],
  ]);
  const { port, deliver, stateReads } = statePort(state);
  const voip = new VoIP(port, delegate, { clock });
  let group: GroupCallSession | undefined;
  try {
    group = await voip.fetchOrCreateGroupCall(ROOM, ROOM, new MeshBackend());
    expect(group.participants).toHaveLength(members);
    let joined = 0;
    let left = 0;
    group.on("participantsJoined", (list) => {
      joined += list.length;
    });
    group.on("participantsLeft", (list) => {
      left += list.length;
    });
    // Built before counting: in each round six newcomers join, one member refreshes, one publishes no entry, one
    // leaves the room, and one newcomer joins in the famedly v1 shape.
    const batches: SyncBatch[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const old = (k: number): number => round * 10 + k;
      const fresh = (k: number): number => members + round * 10 + k;
      const events = [
        ...[0, 1, 2, 3, 4, 5].map((k) => membership(fresh(k), `s-${fresh(k)}`)),
        membership(old(6), `refreshed-${old(6)}`),
        stateEvent(GroupEventType.Member, user(old(7)), { memberships: [] }),
        stateEvent("m.room.member", user(old(8)), { membership: "leave" }),
        membership(fresh(9), `s-${fresh(9)}`, true),
      ];
      batches.push(
        ...events.map((event) => ({
          rooms: [{ roomId: ROOM, initial: false, timeline: [], state: [event] }],
          toDevice: [],
        })),
      );
    }
    const readsBefore = stateReads();
    const parse = vi.spyOn(famedlyMemberContentSchema, "safeParse");
    let counts: WorkCounts;
    let contentParses: number;
    try {
      counts = await countWork(async () => {
        for (const batch of batches) {
          deliver(batch);
          for (let i = 0; i < 5; i++) {
            await Promise.resolve(); // the session's and backend's follow-up microtasks, still counted
          }
        }
      });
      contentParses = parse.mock.calls.length;
    } finally {
      parse.mockRestore();
    }
    return {
      counts,
      contentParses,
      stateReads: stateReads() - readsBefore,
      joined,
      left,
      participantsAfter: group.participants.length,
    };
  } finally {
    await voip.dispose();
  }
}

describe("membership work per state event", () => {
  it("is the same in a call of 50 and of 2,000 members: each event re-reads only its own state key", async () => {
    const small = await workPerRounds(50);
    const large = await workPerRounds(2_000);
    for (const [run, members] of [
      [small, 50],
      [large, 2_000],
    ] as const) {
      // The events did what they say: 7 joins and 2 leaves per round, the refresh is no join.
      expect(run.joined).toBe(7 * ROUNDS);
      expect(run.left).toBe(2 * ROUNDS);
      expect(run.participantsAfter).toBe(members + 5 * ROUNDS);
      // One parse of its own content per membership event; the room's state is never read again.
      expect(run.contentParses).toBe(9 * ROUNDS);
      expect(run.stateReads).toBe(0);
    }
    // The same elements walked in a room 40 times as large: no step visits every member per event.
    expect(large.counts).toEqual(small.counts);
  });

  it("the counter sees a step that walks every member", async () => {
    const members = new Map(Array.from({ length: 100 }, (_, i) => [user(i), i]));
    const counts = await countWork(() => {
      expect([...members.values()].sort((a, b) => a - b)).toHaveLength(100);
    });
    expect(counts.map).toBe(100);
    expect(counts.array).toBeGreaterThanOrEqual(100);
  });
});
