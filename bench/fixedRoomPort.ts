// A client port over one fixed room, for measuring (and counting) the library's own work on the membership path:
// no homeserver, no crypto, sends answered at once, and the sync listener handed back to the caller to call
// directly. Used by the membership benchmark (bench/membershipEvents.ts) and its counting test
// (test/group/membershipWork.test.ts).
import type { MatrixClientPort, StateEvent, SyncBatch, WebRTCDelegate } from "../src/index.js";

/** The sync listener VoIP registered. */
export type SyncListener = (batch: SyncBatch) => void | Promise<void>;

/** `userId` (device `ME`) joined to `roomId` (plain, not direct); `getStateEvents` answers with `stateEvents(type)`. */
export function fixedRoomPort(opts: {
  roomId: string;
  userId: string;
  stateEvents: (type: string) => StateEvent[];
}): { port: MatrixClientPort; listener: () => SyncListener | undefined } {
  const { roomId, userId } = opts;
  let listener: SyncListener | undefined;
  let seq = 0;
  const port: MatrixClientPort = {
    userId,
    deviceId: "ME",
    onSync: (l) => {
      listener = l;
      return () => undefined;
    },
    getJoinedRoomIds: () => [roomId],
    getRoom: () => ({
      roomId,
      encrypted: false,
      isDirect: false,
      roomVersion: "10",
      myMembership: "join",
      joinedMembers: [userId],
      powerLevels: { users_default: 0, state_default: 0 },
    }),
    getStateEvents: (_roomId, type) => opts.stateEvents(type),
    sendRoomEvent: () => Promise.resolve({ eventId: `$r${seq++}` }),
    sendStateEvent: () => Promise.resolve({ eventId: `$s${seq++}` }),
    updateDelayedEvent: () => Promise.resolve(),
    listDelayedEvents: () => Promise.resolve([]),
    redactEvent: () => Promise.resolve({ eventId: `$x${seq++}` }),
    getRelations: () => Promise.resolve([]),
    sendToDevice: () => Promise.resolve(),
    canEncryptToDevice: () => false,
    getTurnServers: () => Promise.resolve(undefined),
    getServerFeatures: () => Promise.resolve({ delayedEvents: false }),
  };
  return { port, listener: () => listener };
}

/** A delegate for runs that must never touch media: every request for it fails, naming `what` runs. */
export function noMediaDelegate(what: string): WebRTCDelegate {
  return {
    mediaDevices: { getUserMedia: () => Promise.reject(new Error(`no media in this ${what}`)) },
    createPeerConnection: () => {
      throw new Error(`no peer connections in this ${what}`);
    },
    isWeb: false,
  };
}
