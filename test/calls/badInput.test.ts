import { describe, expect, it } from "vitest";
import { CallErrorCode, CallState, CallType, type RoomEvent } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import {
  connectedCall,
  deferredCleanup,
  expectMediaFlows,
  InjectablePort,
  makePeer,
  nextIncomingCall,
  type Peer,
  until,
  untilState,
} from "../helpers/calls.js";

const defer = deferredCleanup();

async function setup(): Promise<{
  hs: LocalHomeserver;
  roomId: string;
  alice: Peer;
  bob: Peer;
  alicePort: InjectablePort;
  bobPort: InjectablePort;
}> {
  const hs = new LocalHomeserver();
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local", "@mallory:local"] });
  const alicePort = new InjectablePort(hs.createClient("@alice:local", "ALICE"));
  const bobPort = new InjectablePort(hs.createClient("@bob:local", "BOB"));
  const alice = makePeer(hs, "@alice:local", "ALICE", { client: alicePort });
  const bob = makePeer(hs, "@bob:local", "BOB", { client: bobPort });
  defer(async () => {
    await Promise.all([alice.voip.dispose(), bob.voip.dispose()]);
    await hs.close();
  });
  return { hs, roomId, alice, bob, alicePort, bobPort };
}

let seq = 0;
function roomEvent(
  roomId: string,
  sender: string,
  type: string,
  content: unknown,
  extra: Partial<RoomEvent> = {},
): RoomEvent {
  return {
    eventId: `$inj${++seq}`,
    roomId,
    sender,
    type,
    content: content as Record<string, unknown>,
    originServerTs: Date.now(),
    unsigned: { age: 0 },
    ...extra,
  };
}

describe("bad input never touches a live call", () => {
  it("drops malformed events of every m.call.* type, unknown call ids, a wrong sender and a wrong party_id", async () => {
    const env = await setup();
    const { hs, roomId, alice, bob, alicePort, bobPort } = env;
    const mallory = hs.createClient("@mallory:local", "MALLORY");
    const { outgoing, incoming } = await connectedCall(env, CallType.Video);
    const callId = outgoing.callId;
    const bobParty = bob.voip.sessionId;
    const aliceParty = alice.voip.sessionId;
    const base = { call_id: callId, party_id: bobParty, version: "1" };
    const sdp = "v=0\r\n";
    const malformed: [string, unknown][] = [
      // common fields
      ["m.call.hangup", { party_id: bobParty, version: "1" }],
      ["m.call.hangup", { ...base, call_id: 42 }],
      ["m.call.hangup", { ...base, version: { v: 1 } }],
      ["m.call.hangup", { ...base, reason: 7 }],
      ["m.call.reject", { ...base, party_id: 5 }],
      // per type
      ["m.call.invite", { ...base, call_id: "other", lifetime: 60000 }],
      ["m.call.invite", { ...base, call_id: "other2", lifetime: "soon", offer: { type: "offer", sdp } }],
      ["m.call.answer", { ...base }],
      ["m.call.answer", { ...base, answer: { type: "answer", sdp: 5 } }],
      ["m.call.candidates", { ...base, candidates: "candidate:1" }],
      ["m.call.candidates", { ...base, candidates: [{ sdpMid: "0" }] }],
      ["m.call.select_answer", { ...base }],
      ["m.call.negotiate", { ...base, description: { type: "bogus", sdp } }],
      ["m.call.negotiate", { ...base, description: { type: "offer" } }],
      ["m.call.sdp_stream_metadata_changed", { ...base }],
      [
        "org.matrix.call.sdp_stream_metadata_changed",
        { ...base, sdp_stream_metadata: { s: { purpose: 1 } } },
      ],
      ["m.call.asserted_identity", { ...base }],
      ["org.matrix.call.asserted_identity", { ...base, asserted_identity: "carol" }],
      ["m.call.replaces", { ...base, target_user: "carol" }],
      // not even objects
      ["m.call.hangup", null],
      ["m.call.hangup", [base]],
      ["m.call.hangup", "hangup"],
    ];
    await alicePort.inject({
      rooms: [
        {
          roomId,
          initial: false,
          state: [],
          timeline: malformed.map(([type, content]) => roomEvent(roomId, bob.userId, type, content)),
        },
      ],
      toDevice: [],
    });
    // Valid content, but for an unknown call, from the wrong sender, or from another party.
    await bob.client.sendRoomEvent(roomId, "m.call.hangup", {
      ...base,
      call_id: "unknown-call",
      reason: "user_hangup",
    });
    await mallory.sendRoomEvent(roomId, "m.call.hangup", {
      ...base,
      party_id: aliceParty,
      reason: "user_hangup",
    });
    await mallory.sendRoomEvent(roomId, "m.call.hangup", { ...base, reason: "user_hangup" });
    await bob.client.sendRoomEvent(roomId, "m.call.hangup", {
      ...base,
      party_id: "another-party",
      reason: "user_hangup",
    });
    await bobPort.inject({
      rooms: [
        {
          roomId,
          initial: false,
          state: [],
          timeline: [
            roomEvent(roomId, "@mallory:local", "m.call.select_answer", {
              call_id: callId,
              party_id: aliceParty,
              version: "1",
              selected_party_id: "not-bob",
            }),
          ],
        },
      ],
      toDevice: [],
    });
    await hs.flush();
    await new Promise((r) => setTimeout(r, 200));

    expect(outgoing.state).toBe(CallState.Connected);
    expect(incoming.state).toBe(CallState.Connected);
    expect([...alice.voip.calls.values()]).toEqual([outgoing]);
    expect([...bob.voip.calls.values()]).toEqual([incoming]);
    await expectMediaFlows(incoming);
    await expectMediaFlows(outgoing);

    // The call still ends normally afterwards.
    await bob.client.sendRoomEvent(roomId, "m.call.hangup", { ...base, reason: "userHangup" });
    await untilState(outgoing, CallState.Ended);
    expect(outgoing.hangupReason).toBe(CallErrorCode.UserHangup);
  });

  it("ignores expired invites (reference §10.1 item 2) and rings for a fresh one in the same batch (D4)", async () => {
    const env = await setup();
    const { hs, roomId, bob, bobPort, alice } = env;
    const rang: string[] = [];
    bob.voip.on("incomingCall", (c) => rang.push(c.callId));
    // Alice's real invite, held back from bob's sync so that it can arrive in one batch with expired ones.
    bobPort.hold();
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    await until(() => hs.transcript().some((e) => e.type === "m.call.invite"), "alice's invite");
    const real = hs.transcript().find((e) => e.type === "m.call.invite")!;
    const expired = (callId: string) => ({ ...real.content, call_id: callId });
    await bobPort.inject({
      rooms: [
        {
          roomId,
          initial: false,
          state: [],
          timeline: [
            roomEvent(roomId, alice.userId, "m.call.invite", expired("ancient"), {
              originServerTs: -1_000,
              unsigned: {},
            }),
            roomEvent(roomId, alice.userId, "m.call.invite", expired("aged"), { unsigned: { age: 60_001 } }),
            roomEvent(roomId, alice.userId, "m.call.invite", real.content, { eventId: real.eventId! }),
          ],
        },
      ],
      toDevice: [],
    });
    await until(() => rang.length > 0, "the fresh invite rings");
    await bobPort.release(); // the same invite again, from the server: no second ring
    await hs.flush();
    expect(rang).toEqual([outgoing.callId]);
    expect([...bob.voip.calls.values()].map((c) => c.callId)).toEqual([outgoing.callId]);
    // The expired invites were dropped, not answered in any way.
    expect(hs.transcript().filter((e) => e.sender === bob.userId && e.type.startsWith("m.call."))).toEqual(
      [],
    );
    await outgoing.hangup();
  });

  it("ends the callee's call with answered_elsewhere on a select_answer for another party (reference §10.1 item 4)", async () => {
    const env = await setup();
    const { roomId, alice, bob } = env;
    const ringing = nextIncomingCall(bob);
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    const incoming = await ringing;
    const missed: string[] = [];
    bob.voip.on("missedCall", (c) => missed.push(c.callId));
    await alice.client.sendRoomEvent(roomId, "m.call.select_answer", {
      call_id: outgoing.callId,
      party_id: alice.voip.sessionId,
      version: "1",
      selected_party_id: "not_us",
    });
    await untilState(incoming, CallState.Ended);
    expect(incoming.hangupReason).toBe(CallErrorCode.AnsweredElsewhere);
    await new Promise((r) => setTimeout(r, 50));
    expect(missed).toEqual([]);
  });

  it("keeps our outgoing call when an invite with its call_id and our party_id comes back (reference §10.1 item 12)", async () => {
    const env = await setup();
    const { roomId, alice, bob, alicePort } = env;
    const outgoing = await alice.voip.inviteToCall(roomId, CallType.Voice, bob.userId);
    await untilState(outgoing, CallState.InviteSent);
    await alicePort.inject({
      rooms: [
        {
          roomId,
          initial: false,
          state: [],
          timeline: [
            roomEvent(roomId, bob.userId, "m.call.invite", {
              call_id: outgoing.callId,
              party_id: alice.voip.sessionId,
              version: "1",
              lifetime: 60000,
              offer: { type: "offer", sdp: "v=0\r\n" },
            }),
          ],
        },
      ],
      toDevice: [],
    });
    expect(alice.voip.calls.get(`${roomId}:${outgoing.callId}`)).toBe(outgoing);
    expect(outgoing.state).toBe(CallState.InviteSent);
    expect(outgoing.localUserMediaStream?.stopped).toBe(false);
  });

  it("surfaces m.call.asserted_identity and m.call.replaces as typed events (D12)", async () => {
    const env = await setup();
    const { roomId, bob } = env;
    const { outgoing } = await connectedCall(env, CallType.Voice);
    const identities: unknown[] = [];
    const replaces: unknown[] = [];
    outgoing.on("assertedIdentityChanged", (i) => identities.push(i));
    outgoing.on("replacesReceived", (r) => replaces.push(r));
    const base = { call_id: outgoing.callId, party_id: bob.voip.sessionId, version: "1" };
    await bob.client.sendRoomEvent(roomId, "m.call.asserted_identity", {
      ...base,
      asserted_identity: { id: "@carol:local", display_name: "Carol", avatar_url: null },
    });
    // The unstable alias reaches the same event.
    await bob.client.sendRoomEvent(roomId, "org.matrix.call.asserted_identity", {
      ...base,
      asserted_identity: { id: null, display_name: "Dave", avatar_url: "mxc://local/dave" },
    });
    await bob.client.sendRoomEvent(roomId, "m.call.replaces", {
      ...base,
      replacement_id: "next-call",
      target_user: { id: "@carol:local", display_name: "Carol", avatar_url: null },
      create_call: "next-call",
      await_call: null,
    });
    await until(() => identities.length === 2 && replaces.length === 1, "typed events");
    // Parsed: our field names, null fields dropped.
    expect(identities).toStrictEqual([
      { id: "@carol:local", displayName: "Carol" },
      { displayName: "Dave", avatarUrl: "mxc://local/dave" },
    ]);
    expect(outgoing.remoteAssertedIdentity).toStrictEqual({
      displayName: "Dave",
      avatarUrl: "mxc://local/dave",
    });
    expect(replaces).toStrictEqual([
      {
        replacement_id: "next-call",
        target_user: { id: "@carol:local", display_name: "Carol" },
        create_call: "next-call",
      },
    ]);
    expect(outgoing.state).toBe(CallState.Connected);
  });
});
