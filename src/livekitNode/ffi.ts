// The lower-level E2EE requests of @livekit/rtc-node 1.1.0 (pinned exactly: these touch its internals). Its public
// E2EE API has gaps: KeyProvider.setKey takes no key, FrameCryptor drops the track sid (so setKeyIndex throws), and
// per-participant E2EE states never surface as room events. The same requests, sent through its FFI client with the
// room's handle, do work; test/sfu/nodeBridge.test.ts proves each one against a real server.
import type { EncryptionState, Room } from "@livekit/rtc-node";

/** The piece of rtc-node's (internal) FfiClient singleton we use. */
interface FfiClient {
  request(request: unknown): unknown;
  on(event: "ffi_event", listener: (event: FfiEvent) => void): unknown;
  off(event: "ffi_event", listener: (event: FfiEvent) => void): unknown;
}

interface FfiEvent {
  message: { case?: string; value?: unknown };
}

interface RoomEventMessage {
  roomHandle?: bigint;
  message: { case?: string; value?: { participantIdentity?: string; state?: EncryptionState } };
}

/** One frame cryptor (per published or subscribed track) with the track sid that rtc-node's own wrapper drops. */
export interface CryptorInfo {
  participantIdentity: string;
  trackSid: string;
  keyIndex: number;
  enabled: boolean;
}

/** A connected room's FFI handle and client; throws a clear error when the room is not connected. */
function ffi(room: Room): { client: FfiClient; handle: bigint } {
  const handle = (room as unknown as { ffiHandle?: { handle?: bigint } }).ffiHandle?.handle;
  const client = (globalThis as { _ffiClientInstance?: FfiClient })._ffiClientInstance;
  if (handle === undefined || client === undefined) {
    throw new Error("the @livekit/rtc-node room is not connected (no FFI handle)");
  }
  return { client, handle };
}

/** Sends one E2EE request for `room`; returns the inner response value. */
function e2ee(room: Room, kind: string, value: object): Record<string, unknown> {
  const { client, handle } = ffi(room);
  const response = client.request({
    message: { case: "e2ee", value: { roomHandle: handle, message: { case: kind, value } } },
  }) as { message?: { case?: string; value?: Record<string, unknown> } } | undefined;
  if (response?.message?.case !== kind || response.message.value === undefined) {
    throw new Error(
      `@livekit/rtc-node answered an E2EE ${kind} request with ${String(response?.message?.case)}`,
    );
  }
  return response.message.value;
}

/** Installs `key` for `participantIdentity` at `keyIndex` (SetKeyRequest with the key the public API cannot pass). */
export function setKey(room: Room, participantIdentity: string, key: Uint8Array, keyIndex: number): void {
  e2ee(room, "setKey", { participantIdentity, key, keyIndex });
}

/** The key rtc-node holds for `participantIdentity` at `keyIndex` (empty when none). */
export function getKey(room: Room, participantIdentity: string, keyIndex: number): Uint8Array {
  const key = e2ee(room, "getKey", { participantIdentity, keyIndex }).key;
  return key instanceof Uint8Array ? key : new Uint8Array(0);
}

/** Ratchets the key at `keyIndex` inside rtc-node and returns the new key (empty when there was none). */
export function ratchetKey(room: Room, participantIdentity: string, keyIndex: number): Uint8Array {
  const key = e2ee(room, "ratchetKey", { participantIdentity, keyIndex }).newKey;
  return key instanceof Uint8Array ? key : new Uint8Array(0);
}

/** Every frame cryptor of the room, with track sids. */
export function frameCryptors(room: Room): CryptorInfo[] {
  const list = e2ee(room, "managerGetFrameCryptors", {}).frameCryptors;
  return (Array.isArray(list) ? (list as Partial<CryptorInfo>[]) : []).map((c) => ({
    participantIdentity: c.participantIdentity ?? "",
    trackSid: c.trackSid ?? "",
    keyIndex: c.keyIndex ?? 0,
    enabled: c.enabled ?? false,
  }));
}

/** Makes the cryptor of one track use `keyIndex` (for our own tracks: the index we encrypt with). */
export function setCryptorKeyIndex(
  room: Room,
  participantIdentity: string,
  trackSid: string,
  keyIndex: number,
): void {
  e2ee(room, "cryptorSetKeyIndex", { participantIdentity, trackSid, keyIndex });
}

/** Subscribes to the per-participant E2EE states of `room` (OK, MISSING_KEY, DECRYPTION_FAILED, …). */
export function onEncryptionState(
  room: Room,
  listener: (participantIdentity: string, state: EncryptionState) => void,
): () => void {
  const { client, handle } = ffi(room);
  const onEvent = (event: FfiEvent): void => {
    if (event.message.case !== "roomEvent") {
      return;
    }
    const roomEvent = event.message.value as RoomEventMessage;
    if (roomEvent.roomHandle !== handle || roomEvent.message.case !== "e2eeStateChanged") {
      return;
    }
    const { participantIdentity, state } = roomEvent.message.value ?? {};
    if (participantIdentity !== undefined && state !== undefined) {
      listener(participantIdentity, state);
    }
  };
  client.on("ffi_event", onEvent);
  return () => {
    client.off("ffi_event", onEvent);
  };
}
