// Our membership in Element's dialect (matrix-js-sdk 37.5's MatrixRTC): exact wire content, state keys, MSC4140
// delayed leave `{}`, relative expiry from created_ts, leave `{}`, a rejoin is a new membership.
import { afterEach, describe, expect, it } from "vitest";
import { MeshBackend, VoipError, type GroupCallSession } from "../../src/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { recordingPort } from "../helpers/group.js";
import { SfuWorld, livekitBackend, type SfuPeer } from "../helpers/livekit.js";

const ELEMENT = GroupEventType.ElementMember;

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

async function setup(
  roomVersion?: string,
  delayedEvents = true,
): Promise<{ a: SfuPeer; b: SfuPeer; requests: string[] }> {
  world = new SfuWorld({ delayedEvents });
  await world.createRoom({
    creator: "@p0:local",
    members: ["@p1:local"],
    encrypted: false,
    powerLevels: { events: { "com.famedly.call.member": 0, [ELEMENT]: 0 } },
    ...(roomVersion === undefined ? {} : { roomVersion }),
  });
  const requests: string[] = [];
  const a = world.peer("@p0:local", "P0", {}, (client) => recordingPort(client, requests));
  const b = world.peer("@p1:local", "P1");
  return { a, b, requests };
}

async function enterElement(peer: SfuPeer): Promise<GroupCallSession> {
  const group = await peer.voip.fetchOrCreateGroupCall(
    "",
    world.roomId,
    livekitBackend(),
    "m.call",
    "m.room",
    {
      membershipDialect: "element",
    },
  );
  peer.group = group;
  group.on("event", (event) => peer.events.push(event));
  await group.enter();
  await world.settle();
  return group;
}

function elementState(stateKey: string): unknown {
  return world.hs.getRoomState(world.roomId).find((e) => e.type === ELEMENT && e.stateKey === stateKey)
    ?.content;
}

function elementTranscript(): { stateKey?: string; content: unknown; delayed?: boolean }[] {
  return world.hs
    .transcript()
    .filter((e) => e.kind === "state" && e.type === ELEMENT)
    .map((e) => ({ stateKey: e.stateKey, content: e.content, ...(e.delayed ? { delayed: true } : {}) }));
}

const FOCI = [
  { type: "livekit", livekit_service_url: "https://livekit-jwt.local", livekit_alias: "sfu-room" },
];

describe("element membership dialect", () => {
  it("schedules the delayed leave {} first, then writes js-sdk's flat membership under _${userId}_${deviceId}", async () => {
    const { a, requests } = await setup();
    const start = world.clock.now();
    await enterElement(a);
    const key = "_@p0:local_P0";
    expect(requests.filter((r) => r.startsWith("sendStateEvent") && !r.includes("power_levels"))).toEqual([
      `sendStateEvent ${ELEMENT} ${key} delayed`,
      `sendStateEvent ${ELEMENT} ${key}`,
    ]);
    expect(elementState(key)).toEqual({
      application: "m.call",
      call_id: "",
      scope: "m.room",
      device_id: "P0",
      membershipID: "@p0:local:P0",
      expires: 360_000,
      focus_active: { type: "livekit", focus_selection: "oldest_membership" },
      foci_preferred: FOCI,
      created_ts: start,
    });
    const [delayed] = await a.client.listDelayedEvents();
    expect(delayed).toMatchObject({ type: ELEMENT, stateKey: key, content: {}, delayMs: 18_000 });
    // Nothing in famedly's event type.
    expect(world.hs.getRoomState(world.roomId).filter((e) => e.type === GroupEventType.Member)).toEqual([]);
  });

  it("drops the leading _ in MSC3757 room versions", async () => {
    const { a } = await setup("org.matrix.msc3757.10");
    await enterElement(a);
    expect(elementState("@p0:local_P0")).toMatchObject({ device_id: "P0", call_id: "" });
    expect(elementState("_@p0:local_P0")).toBeUndefined();
  });

  it("keeps the delayed leave alive and refreshes with the same created_ts and a longer relative expires", async () => {
    const { a, requests } = await setup();
    const start = world.clock.now();
    await enterElement(a);
    for (let i = 0; i < 30; i++) {
      await world.advance(4_000);
    }
    expect(requests.filter((r) => r === "updateDelayedEvent restart")).toHaveLength(30);
    expect(elementState("_@p0:local_P0")).toMatchObject({ created_ts: start, expires: 120_000 + 360_000 });
    expect(elementTranscript().filter((e) => e.delayed !== true)).toHaveLength(2);
  });

  it("leaves with {} (the delayed leave, sent now) and a rejoin is a new membership for the other members", async () => {
    const { a, b, requests } = await setup();
    const seen = await b.voip.fetchOrCreateGroupCall("", world.roomId, livekitBackend(), "m.call", "m.room", {
      membershipDialect: "element",
      preShareKey: false,
    });
    const first = world.clock.now();
    await enterElement(a);
    expect(seen.participants.map((p) => p.id)).toEqual(["@p0:local:P0"]);
    await a.group?.leave();
    await world.settle();
    expect(requests).toContain("updateDelayedEvent send");
    expect(elementState("_@p0:local_P0")).toEqual({});
    expect(await a.client.listDelayedEvents()).toEqual([]);
    expect(seen.participants).toEqual([]);

    await world.advance(10_000);
    await enterElement(a);
    const content = elementState("_@p0:local_P0") as { created_ts: number };
    expect(content.created_ts).toBe(first + 10_000);
    const again = await b.voip.fetchOrCreateGroupCall(
      "",
      world.roomId,
      livekitBackend(),
      "m.call",
      "m.room",
      {
        membershipDialect: "element",
        preShareKey: false,
      },
    );
    expect(again.participants.map((p) => p.id)).toEqual(["@p0:local:P0"]);
  });

  it("joining an Element call found in the room (incomingGroupCall) publishes the Element membership", async () => {
    const { a, b } = await setup();
    const found: GroupCallSession[] = [];
    b.voip.on("incomingGroupCall", (session) => found.push(session));
    await enterElement(a);
    expect(found.map((s) => s.groupCallId)).toEqual([""]);
    await found[0]?.enter();
    await world.settle();
    expect(elementState("_@p1:local_P1")).toMatchObject({ device_id: "P1", call_id: "" });
    expect(world.hs.getRoomState(world.roomId).filter((e) => e.type === "com.famedly.call.member")).toEqual(
      [],
    );
    expect(a.group?.participants.map((p) => p.id).sort()).toEqual(["@p0:local:P0", "@p1:local:P1"]);
  });

  it("leaves with an explicit {} when the server has no delayed events", async () => {
    const { a } = await setup(undefined, false);
    await enterElement(a);
    await a.group?.leave();
    await world.settle();
    expect(elementState("_@p0:local_P0")).toEqual({});
  });

  it("refuses the element dialect for a mesh backend", async () => {
    const { a } = await setup();
    await expect(
      a.voip.fetchOrCreateGroupCall("", world.roomId, new MeshBackend(), "m.call", "m.room", {
        membershipDialect: "element",
      }),
    ).rejects.toThrow(VoipError);
  });
});
