import { expect } from "vitest";
import {
  GroupCallState,
  VoIP,
  type GroupCallEvent,
  type GroupCallSession,
  type MatrixClientPort,
  type VoipOptions,
} from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { LocalHomeserver, ManualClock, type LocalHomeserverOptions } from "../../src/testing/index.js";

/** One group-call participant: client, VoIP, and the group delegate callbacks in order. */
export interface GroupPeer {
  userId: string;
  deviceId: string;
  client: MatrixClientPort;
  voip: VoIP;
  /** `handleNewGroupCall:<callId>`, `handleGroupCallEnded:<callId>`. */
  callbacks: string[];
}

/** A homeserver on a manual clock, and a way to add participants to it. */
export interface GroupWorld {
  hs: LocalHomeserver;
  clock: ManualClock;
  peer(userId: string, deviceId: string, voip?: VoipOptions): GroupPeer;
  /** Advances the clock and lets the homeserver deliver what that caused. */
  advance(ms: number): Promise<void>;
  /** Lets the homeserver deliver everything in flight. */
  settle(): Promise<void>;
  dispose(): Promise<void>;
}

/** Creates a {@link GroupWorld}; `dispose()` it in `afterEach`. */
export function groupWorld(options: Omit<LocalHomeserverOptions, "clock"> = {}): GroupWorld {
  const clock = new ManualClock();
  const hs = new LocalHomeserver({ ...options, clock });
  hs.setTurnServers(undefined);
  const peers: GroupPeer[] = [];
  const settle = async (): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await hs.flush();
      await clock.advance(0);
    }
  };
  return {
    hs,
    clock,
    peer(userId, deviceId, voip = {}) {
      const client = hs.createClient(userId, deviceId);
      const callbacks: string[] = [];
      const delegate = createNodeDelegate({
        handleNewGroupCall: (group) => {
          callbacks.push(`handleNewGroupCall:${group.groupCallId}`);
        },
        handleGroupCallEnded: (group) => {
          callbacks.push(`handleGroupCallEnded:${group.groupCallId}`);
        },
      });
      const peer = {
        userId,
        deviceId,
        client,
        voip: new VoIP(client, delegate, { clock, ...voip }),
        callbacks,
      };
      peers.push(peer);
      return peer;
    },
    async advance(ms) {
      await clock.advance(ms);
      await settle();
    },
    settle,
    async dispose() {
      for (const peer of peers) {
        await peer.voip.dispose();
      }
      await hs.close();
    },
  };
}

/** Records every group event of a session (the aggregated stream). */
export function recordGroup(group: GroupCallSession): GroupCallEvent[] {
  const events: GroupCallEvent[] = [];
  group.on("event", (event) => {
    events.push(event);
  });
  return events;
}

/** Participant ids of a session, sorted. */
export function participantIds(group: GroupCallSession): string[] {
  return group.participants.map((p) => p.id).sort();
}

/** The `com.famedly.call.member` content under `stateKey` in the server's state. */
export function memberContent(hs: LocalHomeserver, roomId: string, stateKey: string): unknown {
  return hs.getRoomState(roomId).find((e) => e.type === GroupEventType.Member && e.stateKey === stateKey)
    ?.content;
}

/** The state events of `com.famedly.call.member` the server accepted, in order (delayed ones included). */
export function memberTranscript(
  hs: LocalHomeserver,
): { sender: string; stateKey?: string; content: unknown; delayed?: boolean }[] {
  return hs
    .transcript()
    .filter((e) => e.kind === "state" && e.type === GroupEventType.Member)
    .map((e) => ({
      sender: e.sender,
      stateKey: e.stateKey,
      content: e.content,
      ...(e.delayed ? { delayed: true } : {}),
    }));
}

/** Expects the session to be entered. */
export function expectEntered(group: GroupCallSession): void {
  expect(group.state).toBe(GroupCallState.Entered);
}
