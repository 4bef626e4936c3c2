import { expect } from "vitest";
import {
  GroupCallState,
  VoIP,
  type GroupCallEvent,
  type GroupCallSession,
  type Logger,
  type MatrixClientPort,
  type VoipOptions,
  type WebRTCDelegate,
} from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { GroupEventType } from "../../src/matrix/eventTypes.js";
import { LocalHomeserver, ManualClock, type LocalHomeserverOptions } from "../../src/testing/index.js";

/** One group-call participant: client, VoIP, and the group delegate callbacks in order. */
export interface GroupPeer {
  userId: string;
  deviceId: string;
  client: MatrixClientPort;
  /** The Node delegate the VoIP uses (its `mediaDevices` can be wrapped to hold or fail media). */
  delegate: WebRTCDelegate;
  voip: VoIP;
  /** `handleNewGroupCall:<callId>`, `handleGroupCallEnded:<callId>`. */
  callbacks: string[];
  /** Port requests in order: `sendStateEvent <type> <stateKey>[ delayed]`, `updateDelayedEvent <action>`, … */
  requests: string[];
  /** Log lines at every level: `<level> <message>`. */
  logs: string[];
}

const RECORDED = new Set([
  "sendStateEvent",
  "updateDelayedEvent",
  "listDelayedEvents",
  "sendRoomEvent",
  "redactEvent",
  "getServerFeatures",
]);

function describeRequest(name: string, args: unknown[]): string {
  switch (name) {
    case "sendStateEvent": {
      const opts = args[4] as { delayMs?: number } | undefined;
      return `sendStateEvent ${String(args[1])} ${String(args[2])}${opts?.delayMs === undefined ? "" : " delayed"}`;
    }
    case "updateDelayedEvent":
      return `updateDelayedEvent ${String(args[1])}`;
    case "sendRoomEvent":
      return `sendRoomEvent ${String(args[1])}`;
    default:
      return name;
  }
}

/** A port that records the requests the library makes. */
export function recordingPort(inner: MatrixClientPort, requests: string[]): MatrixClientPort {
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") {
        return value;
      }
      const fn = value as (...args: unknown[]) => unknown;
      if (typeof prop === "string" && RECORDED.has(prop)) {
        return (...args: unknown[]) => {
          requests.push(describeRequest(prop, args));
          return fn.apply(target, args);
        };
      }
      return fn.bind(target);
    },
  });
}

/** A logger keeping every line. */
export function linesLogger(lines: string[]): Logger {
  const logger: Logger = {
    debug: (m) => lines.push(`debug ${m}`),
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
    child: () => logger,
  };
  return logger;
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
      const requests: string[] = [];
      const logs: string[] = [];
      const client = recordingPort(hs.createClient(userId, deviceId), requests);
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
        delegate,
        voip: new VoIP(client, delegate, { clock, logger: linesLogger(logs), ...voip }),
        callbacks,
        requests,
        logs,
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

/** A famedly-v2 membership entry as another client would publish it. */
export function famedlyEntry(opts: {
  callId: string;
  deviceId: string;
  expiresTs: number;
  application?: string;
  scope?: string;
  membershipId?: string;
  backend?: Record<string, unknown>;
}): Record<string, unknown> {
  return {
    call_id: opts.callId,
    application: opts.application ?? "m.call",
    scope: opts.scope ?? "m.room",
    foci_active: [opts.backend ?? { type: "mesh" }],
    device_id: opts.deviceId,
    expires_ts: opts.expiresTs,
    membershipID: opts.membershipId ?? `session-${opts.deviceId}`,
  };
}

/**
 * The mesh membership entry we publish, for exact matches: a {@link famedlyEntry} plus the v1 `backend` and our user
 * media feed.
 */
export function publishedMeshEntry(opts: {
  callId: string;
  deviceId: string;
  expiresTs: number;
  membershipId: string;
}): Record<string, unknown> {
  return { ...famedlyEntry(opts), backend: { type: "mesh" }, feeds: [{ purpose: "m.usermedia" }] };
}
