// Element Call interop on a real Synapse: us (the matrix-js-sdk port, LiveKitBackend, membershipDialect "element")
// and matrix-js-sdk 37.5's own MatrixRTCSession (two js-sdk clients, bob and carol, manageMediaKeys) in one room call.
// Each sees the others as members, js-sdk's EncryptionKeyChanged carries our key byte for byte (our 32-byte keys
// included) and our key provider gets js-sdk's; a leave on either side is seen and rotates the remaining members'
// keys. Run per key transport and room kind.
import type { MatrixRTCSession } from "matrix-js-sdk/lib/matrixrtc/MatrixRTCSession.js";
import {
  MatrixRTCSessionEvent,
  type JoinSessionConfig,
} from "matrix-js-sdk/lib/matrixrtc/MatrixRTCSession.js";
import {
  RoomAndToDeviceEvents,
  type EnabledTransports,
} from "matrix-js-sdk/lib/matrixrtc/RoomAndToDeviceKeyTransport.js";
import { Status } from "matrix-js-sdk/lib/matrixrtc/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LiveKitBackend, VoIP, type GroupCallSession } from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { RecordingKeyProvider } from "../../src/testing/index.js";
import { encodeBase64 } from "../../src/core/random.js";
import { KeyEventType } from "../../src/matrix/eventTypes.js";
import { createRoom, startRoomWith, synapse, waitFor, type TestClient } from "./clients.js";
import { expectOnlyOlmToDevice, startRecordingProxy, type RecordingProxy } from "./recordingProxy.js";

/** Short key delays on both sides, so a rotation takes about a second. */
const KEY_DELAY_MS = 300;
const LIVEKIT_SERVICE_URL = "https://livekit-jwt.localhost";

/** One `EncryptionKeyChanged` a js-sdk session emitted. */
interface EmittedKey {
  participantId: string;
  index: number;
  key: Uint8Array;
}

/** A js-sdk member: its client, and per room the session and every key it emitted. */
interface JsSdkMember {
  tc: TestClient;
  id: string;
  session?: MatrixRTCSession;
  emitted: EmittedKey[];
  /** Every switch of js-sdk's key transport (to room events once it received one, with the to-device transport). */
  switched: EnabledTransports[];
}

/** One run: the key transport on each side, the room kind, who joins first. */
interface Variant {
  name: string;
  /** js-sdk's join options for the transport. */
  jsSdk: Partial<JoinSessionConfig>;
  /** Our `elementKeyTransport` (default `"auto"`). */
  ours?: "to-device";
  encrypted: boolean;
  /** `"js-sdk"`: the call is running when we find it in the room and join it. */
  first: "us" | "js-sdk";
}

const TO_DEVICE = { useExperimentalToDeviceTransport: true };
const VARIANTS: Variant[] = [
  {
    name: "to-device keys, encrypted room",
    jsSdk: TO_DEVICE,
    ours: "to-device",
    encrypted: true,
    first: "us",
  },
  {
    name: "to-device keys, plain room",
    jsSdk: TO_DEVICE,
    ours: "to-device",
    encrypted: false,
    first: "js-sdk",
  },
  { name: "room-event keys (js-sdk's default), encrypted room", jsSdk: {}, encrypted: true, first: "js-sdk" },
  { name: "room-event keys (js-sdk's default), plain room", jsSdk: {}, encrypted: false, first: "us" },
];

/** Us: a fresh VoIP and key provider per room call, on alice's client (which talks through a recording proxy). */
let us: { tc: TestClient; id: string; voip: VoIP; keys: RecordingKeyProvider; group?: GroupCallSession };
let bob: JsSdkMember;
let carol: JsSdkMember;
let proxy: RecordingProxy;
/** Every js-sdk session of the run, stopped at the end. */
const sessions: MatrixRTCSession[] = [];

beforeAll(async () => {
  proxy = await startRecordingProxy(synapse().baseUrl);
  // The three users also share an encrypted room (as a DM would): js-sdk's to-device keys need one, in a plain call
  // room too (Rust crypto encrypts only to users it tracks through an encrypted room).
  const { clients } = await startRoomWith(["alice", "bob", "carol"], {
    encrypted: true,
    firstBaseUrl: proxy.url,
  });
  const [alice, bobClient, carolClient] = clients as [TestClient, TestClient, TestClient];
  us = { tc: alice, id: participantId(alice), ...ourVoip(alice) };
  bob = { tc: bobClient, id: participantId(bobClient), emitted: [], switched: [] };
  carol = { tc: carolClient, id: participantId(carolClient), emitted: [], switched: [] };
}, 120_000);

afterAll(async () => {
  await us.voip.dispose().catch(() => undefined);
  for (const session of sessions) {
    await session.stop();
  }
  // js-sdk's RoomKeyTransport retries a failed decryption once after 1 s; let that run before the clients' Rust
  // crypto is freed ("null pointer passed to rust" otherwise).
  await new Promise((resolve) => setTimeout(resolve, 1_500));
  for (const tc of [us.tc, bob.tc, carol.tc]) {
    tc.stop();
  }
  await proxy.close();
});

function ourVoip(tc: TestClient): { voip: VoIP; keys: RecordingKeyProvider } {
  const keys = new RecordingKeyProvider();
  const voip = new VoIP(tc.port, createNodeDelegate({ keyProvider: keys }), {
    timeouts: { useKeyDelayMs: KEY_DELAY_MS, makeKeyOnLeaveDelayMs: KEY_DELAY_MS },
  });
  return { voip, keys };
}

function participantId(tc: TestClient): string {
  return `${tc.user.userId}:${tc.deviceId}`;
}

function equal(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  return b !== undefined && a?.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** The newest key `member` emitted for `participant` (its own key when `participant` is the member itself). */
function newestEmitted(member: JsSdkMember, participant: string): EmittedKey | undefined {
  return member.emitted.filter((e) => e.participantId === participant).at(-1);
}

/** Our key in use: its index and bytes, as our key manager made them. */
function ourKey(): { index: number; key: Uint8Array } | undefined {
  const index = us.keys.currentLocalIndex;
  const key = index === undefined ? undefined : us.keys.keyOf(us.id, index);
  return index === undefined || key === undefined ? undefined : { index, key };
}

/** Whether `member`'s js-sdk emitted our key in use, same index and bytes. */
function jsSdkHasOurKey(member: JsSdkMember): boolean {
  const ours = ourKey();
  return (
    ours !== undefined &&
    member.emitted.some((e) => e.participantId === us.id && e.index === ours.index && equal(e.key, ours.key))
  );
}

/** Whether our key provider holds `member`'s newest own key, same index and bytes. */
function weHaveKeyOf(member: JsSdkMember): boolean {
  const theirs = newestEmitted(member, member.id);
  return theirs !== undefined && equal(us.keys.keyOf(member.id, theirs.index), theirs.key);
}

/** The status of `member`'s js-sdk membership manager (37.5 does not expose it on the session). */
function jsSdkStatus(member: JsSdkMember): Status | undefined {
  return (member.session as unknown as { membershipManager?: { status: Status } } | undefined)
    ?.membershipManager?.status;
}

/** The devices `member`'s js-sdk session counts as members. */
function jsSdkSees(member: JsSdkMember): string[] {
  return (member.session?.memberships ?? []).map((m) => `${m.sender ?? "?"}:${m.deviceId}`).sort();
}

function weSee(): string[] {
  return (us.group?.participants ?? []).map((p) => p.id).sort();
}

function joinJsSdk(member: JsSdkMember, roomId: string, variant: Variant): void {
  const room = member.tc.client.getRoom(roomId);
  if (room === null) {
    throw new Error(`${member.id} has no room ${roomId}`);
  }
  if (member.session === undefined) {
    member.session = member.tc.client.matrixRTC.getRoomSession(room);
    sessions.push(member.session);
    member.session.on(MatrixRTCSessionEvent.EncryptionKeyChanged, (key, index, participant) => {
      member.emitted.push({ participantId: participant, index, key: new Uint8Array(key) });
    });
    member.session.on(RoomAndToDeviceEvents.EnabledTransportsChanged, (enabled) => {
      member.switched.push(enabled);
    });
  }
  member.session.joinRoomSession(
    [{ type: "livekit", livekit_service_url: LIVEKIT_SERVICE_URL, livekit_alias: roomId }],
    { type: "livekit", focus_selection: "oldest_membership" },
    {
      manageMediaKeys: true,
      // The legacy membership manager makes a membership flap when two members join at once (an orphaned
      // delayed leave); Element Call itself uses the new one.
      useNewMembershipManager: true,
      makeKeyDelay: KEY_DELAY_MS,
      useKeyDelay: KEY_DELAY_MS,
      updateEncryptionKeyThrottle: KEY_DELAY_MS,
      ...variant.jsSdk,
    },
  );
}

describe("Element Call interop with matrix-js-sdk 37.5's MatrixRTCSession", () => {
  it.each(VARIANTS)(
    "$name, $first first: members, keys both ways, leaves on either side rotate",
    async (variant) => {
      const roomId = await createRoom(us.tc, [bob.tc, carol.tc], { encrypted: variant.encrypted });
      await us.voip.dispose();
      Object.assign(us, ourVoip(us.tc));
      for (const member of [bob, carol]) {
        member.session = undefined;
        member.emitted = [];
        member.switched = [];
      }
      // We never put a key in a cleartext room event (PROTOCOL K3): js-sdk on room events gets none in a plain room.
      const jsSdkGetsOurKeys = variant.ours === "to-device" || variant.encrypted;
      const sentBefore = proxy.requests.length;
      const found = new Promise<GroupCallSession>((resolve) => {
        us.voip.on("incomingGroupCall", (session) => {
          if (session.roomId === roomId) {
            resolve(session);
          }
        });
      });
      const enterUs = async (): Promise<GroupCallSession> => {
        const group = await us.voip.fetchOrCreateGroupCall(
          "",
          roomId,
          new LiveKitBackend({ livekitServiceUrl: LIVEKIT_SERVICE_URL, livekitAlias: roomId }),
          "m.call",
          "m.room",
          { membershipDialect: "element", ...(variant.ours ? { elementKeyTransport: variant.ours } : {}) },
        );
        us.group = group;
        await group.enter();
        return group;
      };
      let group: GroupCallSession;
      if (variant.first === "us") {
        group = await enterUs();
        joinJsSdk(bob, roomId, variant);
        joinJsSdk(carol, roomId, variant);
      } else {
        // Joining an Element call already running: we find it in the room and join it in Element's dialect.
        joinJsSdk(bob, roomId, variant);
        joinJsSdk(carol, roomId, variant);
        const call = await found;
        group = await enterUs();
        expect(group).toBe(call);
      }
      const everyone = [us.id, bob.id, carol.id].sort();
      const keysFlow = (m: JsSdkMember): boolean =>
        weHaveKeyOf(m) && (!jsSdkGetsOurKeys || jsSdkHasOurKey(m));

      // Each side sees the others as members.
      await waitFor("js-sdk (bob, carol) and us to see all three members", () =>
        [jsSdkSees(bob), jsSdkSees(carol), weSee()].every((seen) => same(seen, everyone)),
      );

      // Keys both ways, byte for byte: js-sdk's EncryptionKeyChanged carries our key (32 bytes: js-sdk 37.5 takes
      // any length), our key provider gets js-sdk's 16-byte keys.
      await waitFor("us to hold bob's and carol's keys, and they ours", () => [bob, carol].every(keysFlow));
      expect(ourKey()?.key).toHaveLength(32);
      expect(newestEmitted(bob, bob.id)?.key).toHaveLength(16);

      // A js-sdk member leaves: we and bob see it; both rotate, and each gets the other's new key.
      const before = { ours: ourKey()!.index, bobs: newestEmitted(bob, bob.id)!.index };
      // Without this wait carol's leave sometimes did not take effect (about one run in four: every client, carol's
      // too, still listed her membership; not diagnosed further, js-sdk side). Carol leaves once her membership
      // manager reports Connected, as a user in a call would.
      await waitFor(
        "carol's js-sdk membership manager to be connected",
        () => jsSdkStatus(carol) === Status.Connected,
      );
      await carol.session!.leaveRoomSession(5_000);
      await waitFor("bob and us to see carol gone", () =>
        [jsSdkSees(bob), weSee()].every((seen) => same(seen, [us.id, bob.id].sort())),
      );
      await waitFor("us and bob to rotate and hold each other's new key", () => {
        const bobs = newestEmitted(bob, bob.id);
        return ourKey()?.index !== before.ours && bobs?.index !== before.bobs && keysFlow(bob);
      });

      // Carol rejoins (a new membership): everyone holds everyone's current key again.
      joinJsSdk(carol, roomId, variant);
      await waitFor("everyone to see carol back", () =>
        [jsSdkSees(bob), jsSdkSees(carol), weSee()].every((seen) => same(seen, everyone)),
      );
      await waitFor("us to hold bob's and carol's current keys, and they ours", () =>
        [bob, carol].every(keysFlow),
      );

      // We leave: bob and carol see it and rotate; bob's new key reaches carol, not us.
      const bobsBefore = newestEmitted(bob, bob.id)!.index;
      await group.leave();
      await waitFor("bob and carol to see us gone", () =>
        [jsSdkSees(bob), jsSdkSees(carol)].every((seen) => same(seen, [bob.id, carol.id].sort())),
      );
      const bobsNew = await waitFor("bob to rotate and carol to get bob's new key", () => {
        const bobs = newestEmitted(bob, bob.id);
        const atCarol = bobs === undefined ? undefined : newestEmitted(carol, bob.id);
        return bobs !== undefined && bobs.index !== bobsBefore && equal(atCarol?.key, bobs.key) && bobs;
      });
      expect(us.keys.keyOf(bob.id, bobsNew.index)).not.toEqual(bobsNew.key);
      for (const member of [bob, carol]) {
        await member.session!.leaveRoomSession(5_000);
      }

      if (!jsSdkGetsOurKeys) {
        expect(bob.emitted.filter((e) => e.participantId === us.id)).toEqual([]);
      }
      if (variant.ours === "to-device") {
        // js-sdk switches to room events for good once one reaches it: none did.
        expect([...bob.switched, ...carol.switched]).toEqual([]);
      }
      // On the wire, from our client: no key readable, no key event type in the clear (PROTOCOL K3).
      const sent = proxy.requests.slice(sentBefore);
      const ourKeys = us.keys.log.filter((e) => e.isLocal).map((e) => encodeBase64(e.key));
      expect(ourKeys.length).toBeGreaterThanOrEqual(2);
      for (const request of sent) {
        for (const key of ourKeys) {
          expect(request.body).not.toContain(key.replace(/=+$/, ""));
        }
        expect(request.body).not.toContain(KeyEventType.KeysElement);
        expect(request.path).not.toContain(KeyEventType.KeysElement);
      }
      expectOnlyOlmToDevice({ ...proxy, requests: sent });
    },
    60_000,
  );
});

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
