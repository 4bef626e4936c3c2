/**
 * The LiveKit backend's behaviour in a group call (reference §2.6, §7): no media (that is the LiveKit SDK's job),
 * only membership and end-to-end media keys through a {@link LiveKitKeyManager}.
 * Internal to the library.
 */
import type { GroupCallBackendContext, GroupCallBackendRuntime } from "../../group/backendRuntime.js";
import type { LiveKitBackend } from "../../group/CallBackend.js";
import { LiveKitKeyManager } from "./LiveKitKeyManager.js";

/**
 * Our key index counter per backend object: like the reference's backend, it survives leaving and rejoining with
 * the same `LiveKitBackend` (reference §10.2), so a rejoin never reuses the index of the key it left with.
 */
const indexCounters = new WeakMap<LiveKitBackend, number>();

/** @internal Creates the runtime of a LiveKit group call. */
export function createLiveKitRuntime(
  ctx: GroupCallBackendContext,
  backend: LiveKitBackend,
): GroupCallBackendRuntime {
  const log = ctx.logger.child("keys");
  const manager = new LiveKitKeyManager({
    client: ctx.client,
    clock: ctx.clock,
    random: ctx.random,
    logger: log,
    roomId: ctx.roomId,
    groupCallId: ctx.groupCallId,
    keyProvider: ctx.delegate.keyProvider,
    timeouts: ctx.timeouts,
    keyRingSize: ctx.options.keyRingSize,
    ratchet: ctx.options.enableSFUE2EEKeyRatcheting,
    e2eeEnabled: backend.e2eeEnabled,
    allowPlaintextKeys: ctx.options.allowPlaintextKeys,
    defaultDialect: ctx.options.dialect,
    elementKeyTransport: ctx.elementKeyTransport,
    indexCounter: indexCounters.get(backend) ?? 0,
    onKeysChanged: (participant, index) => {
      ctx.emit({ kind: "keysChanged", change: { participant, index } });
    },
    onError: (error) => {
      ctx.emit({ kind: "error", error });
    },
  });
  const saveCounter = (): void => {
    indexCounters.set(backend, manager.indexCounter);
  };
  return {
    preShareKey: async () => {
      await manager.preShareKey();
      saveCounter();
    },
    onEnter: async () => {
      await manager.enter();
      saveCounter();
    },
    onParticipantsChanged: (change) => {
      manager.membershipChanged([...change.joined, ...change.updated], change.left);
      saveCounter();
    },
    onToDevice: (event) => {
      manager.handleToDevice(event);
    },
    onRoomEvent: (event) => {
      manager.handleRoomEvent(event);
    },
    setElementKeyTransport: (mode) => {
      manager.setElementKeyTransport(mode);
    },
    requestEncryptionKey: (participants) => manager.requestEncryptionKey(participants),
    dispose: () => {
      saveCounter();
      manager.close();
    },
  };
}
