import { describe, expect, it } from "vitest";
import { CallState, CallType, type RoomEvent } from "../../src/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";
import {
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

/**
 * Alice calls bob for real; bob's VoIP starts only afterwards, so the invite reaches it in a hand-made batch
 * together with whatever the test puts next to it.
 */
async function inviteInHandMadeBatch(companions: (invite: RoomEvent) => RoomEvent[]): Promise<{
  alice: Peer;
  bob: Peer;
  roomId: string;
  deliver: () => Promise<void>;
}> {
  const hs = new LocalHomeserver();
  hs.setTurnServers(undefined);
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local", "@mallory:local"] });
  const alice = makePeer(hs, "@alice:local", "ALICE");
  const bobPort = new InjectablePort(hs.createClient("@bob:local", "BOB"));
  defer(async () => {
    await alice.voip.dispose();
    await hs.close();
  });
  await alice.voip.inviteToCall(roomId, CallType.Video, "@bob:local");
  const sentInvite = () => hs.transcript().find((e) => e.type === "m.call.invite");
  await until(() => sentInvite() !== undefined, "alice's invite");
  await hs.flush(); // bob's client has the invite before bob's VoIP subscribes: it comes in the initial batch
  const sent = sentInvite();
  const invite: RoomEvent = {
    eventId: "$invite",
    roomId,
    sender: sent!.sender,
    type: "m.call.invite",
    content: sent!.content,
    originServerTs: Date.now(),
    unsigned: { age: 0 },
  };
  const bob = makePeer(hs, "@bob:local", "BOB", { client: bobPort });
  defer(() => bob.voip.dispose());
  await hs.flush(); // bob's VoIP gets the initial batch (skipped) before the hand-made one
  return {
    alice,
    bob,
    roomId,
    deliver: () =>
      bobPort.inject({
        rooms: [{ roomId, initial: false, state: [], timeline: [invite, ...companions(invite)] }],
        toDevice: [],
      }),
  };
}

function hangupBeside(invite: RoomEvent, sender: string, content: unknown, n: number): RoomEvent {
  return {
    ...invite,
    eventId: `$hangup${n}`,
    sender,
    type: "m.call.hangup",
    content: content as Record<string, unknown>,
  };
}

async function expectRingsAndConnects(
  env: { alice: Peer; bob: Peer },
  deliver: () => Promise<void>,
): Promise<void> {
  const ringing = nextIncomingCall(env.bob);
  await deliver();
  const incoming = await ringing;
  expect(incoming.state).toBe(CallState.Ringing);
  const outgoing = [...env.alice.voip.calls.values()][0]!;
  expect(incoming.callId).toBe(outgoing.callId);
  await incoming.answer();
  await Promise.all([untilState(outgoing, CallState.Connected), untilState(incoming, CallState.Connected)]);
  await expectMediaFlows(incoming);
}

describe("a malformed or forged event in the same sync batch never drops a valid invite", () => {
  it("a third party's m.call.hangup with the invite's call_id: the invite still rings and the call connects", async () => {
    const env = await inviteInHandMadeBatch((invite) => [
      hangupBeside(
        invite,
        "@mallory:local",
        {
          call_id: invite.content.call_id,
          party_id: invite.content.party_id,
          version: "1",
          reason: "user_hangup",
        },
        1,
      ),
    ]);
    await expectRingsAndConnects(env, env.deliver);
  });

  it("malformed m.call.hangups from the caller with the invite's call_id: the invite still rings", async () => {
    const env = await inviteInHandMadeBatch((invite) => {
      const base = { call_id: invite.content.call_id, party_id: invite.content.party_id, version: "1" };
      return [
        { call_id: base.call_id, party_id: base.party_id }, // no version
        { ...base, reason: 7 },
        { ...base, party_id: 42 },
        { ...base, version: { v: 1 } },
      ].map((content, i) => hangupBeside(invite, invite.sender, content, i));
    });
    await expectRingsAndConnects(env, env.deliver);
  });

  it("control: a valid hangup from the caller in the same batch does drop the invite (nothing rings)", async () => {
    const env = await inviteInHandMadeBatch((invite) => [
      hangupBeside(
        invite,
        invite.sender,
        {
          call_id: invite.content.call_id,
          party_id: invite.content.party_id,
          version: "1",
          reason: "user_hangup",
        },
        1,
      ),
    ]);
    const rang: string[] = [];
    env.bob.voip.on("incomingCall", (call) => rang.push(call.callId));
    await env.deliver();
    await new Promise((r) => setTimeout(r, 300));
    expect(rang).toEqual([]);
    expect(env.bob.voip.calls.size).toBe(0);
  });
});
