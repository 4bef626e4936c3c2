// The messages between the mesh benchmark's parent and its member processes (bench/meshPerProcess.ts,
// bench/memberMain.ts): the parent hosts the LocalHomeserver and relays the limit row's signalling; each member
// process runs one participant, as on a real device. Sent with `serialization: "advanced"` (structured clone).
import type { SyncBatch } from "../src/index.js";
import type { PairPhase } from "./meshTimeline.js";

/** Parent → member. */
export type ToMember =
  /** Set up one mesh run: a VoIP over the served port, joined to `roomId` with a MeshBackend, not entered yet. */
  | {
      kind: "meshSetup";
      userId: string;
      deviceId: string;
      roomId: string;
      members: number;
      /** `user|device` of every device this member can Olm-encrypt to. */
      encryptable: string[];
    }
  /** Every member calls enter() now; report when every leg is connected. */
  | { kind: "enter" }
  /** The limit row: bare peer connections to every other member, `index` of `members`. */
  | { kind: "limitSetup"; index: number; members: number }
  /** Start the limit run: offer to every member with a higher index. */
  | { kind: "limitStart" }
  /** A limit-row signalling message from member `from`. */
  | { kind: "signal"; from: number; signal: LimitSignal }
  /** End the current run (dispose the VoIP or close the peer connections); answer "down". */
  | { kind: "teardown" }
  /** A sync batch for the served port. */
  | { kind: "sync"; batch: SyncBatch }
  /** The answer to a port call. */
  | { kind: "reply"; id: number; value?: unknown; error?: PortErrorData };

/** Member → parent. */
export type FromMember =
  /** The process is up (its delegate loaded). */
  | { kind: "up" }
  /** The run is set up (mesh: the group call fetched; limit: local media acquired). */
  | { kind: "ready" }
  /** Every leg or bare connection of this member is connected, at `at` (`process.hrtime.bigint()` as a string). */
  | {
      kind: "connected";
      at: string;
      cpuMs: number;
      /** Mesh runs: this member's marks of its pairs (bench/meshTimeline.ts), ms after it got "enter". */
      pairs?: Record<string, Partial<Record<PairPhase, number>>>;
    }
  /** The run failed in this member. */
  | { kind: "failed"; error: string }
  /** The run's resources are released. */
  | { kind: "down" }
  /** Subscribe the served port's sync (the parent forwards each batch as "sync"). */
  | { kind: "subscribe" }
  /** A call of the served port's method. */
  | { kind: "call"; id: number; method: PortMethod; args: unknown[] }
  /** A limit-row signalling message for member `to`. */
  | { kind: "signal"; to: number; signal: LimitSignal };

/** The asynchronous port methods a member calls on the parent's LocalClient. */
export type PortMethod =
  | "sendRoomEvent"
  | "sendStateEvent"
  | "updateDelayedEvent"
  | "listDelayedEvents"
  | "redactEvent"
  | "getRelations"
  | "sendToDevice"
  | "getTurnServers"
  | "getServerFeatures";

/** A MatrixPortError across the process boundary. */
export interface PortErrorData {
  message: string;
  errcode?: string;
  httpStatus?: number;
  retryAfterMs?: number;
}

/** The limit row's signalling between two members. */
export type LimitSignal =
  | { type: "offer"; sdp: string }
  | { type: "answer"; sdp: string }
  | { type: "candidate"; candidate: string; sdpMid: string | null; sdpMLineIndex: number | null };
