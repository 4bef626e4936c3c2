import type { MatrixClient, MatrixEvent } from "matrix-js-sdk";
import { MatrixPortError } from "../../../core/errors.js";
import type { Logger } from "../../../core/Logger.js";
import type { ToDeviceEvent } from "../../MatrixClientPort.js";
import type { DeviceCache } from "./DeviceCache.js";
import { CRYPTO_INTERNAL_TO_DEVICE_TYPES, readOlmEnvelope } from "./events.js";

/** `messages[userId][deviceId] = content`, as the port receives it. */
export type ToDeviceMessages = Record<string, Record<string, object>>;

/** js-sdk's `sendToDevice` content map. */
export type ContentMap = Map<string, Map<string, Record<string, unknown>>>;

/** A plaintext content map, as given. */
export function plainContentMap(messages: ToDeviceMessages): ContentMap {
  const map: ContentMap = new Map();
  for (const [userId, devices] of Object.entries(messages)) {
    const perDevice = new Map<string, Record<string, unknown>>();
    for (const [deviceId, content] of Object.entries(devices)) {
      perDevice.set(deviceId, { ...content });
    }
    map.set(userId, perDevice);
  }
  return map;
}

/**
 * Olm-encrypts every message for its device (one `encryptToDeviceMessages` call per distinct content) and returns
 * the `m.room.encrypted` content map. Rejects with `M_UNKNOWN_DEVICE` (400) before anything is sent when the
 * crypto store cannot encrypt for one of the devices (not a tracked user, unknown device).
 */
export async function encryptContentMap(
  client: MatrixClient,
  type: string,
  messages: ToDeviceMessages,
): Promise<ContentMap> {
  const crypto = client.getCrypto();
  if (crypto === undefined) {
    throw new MatrixPortError(
      "M_UNKNOWN",
      500,
      "sendToDevice: the client has no crypto (call initRustCrypto)",
    );
  }
  const groups = new Map<
    string,
    { payload: Record<string, unknown>; devices: { userId: string; deviceId: string }[] }
  >();
  for (const [userId, devices] of Object.entries(messages)) {
    for (const [deviceId, content] of Object.entries(devices)) {
      const key = JSON.stringify(content);
      let group = groups.get(key);
      if (group === undefined) {
        group = { payload: { ...content }, devices: [] };
        groups.set(key, group);
      }
      group.devices.push({ userId, deviceId });
    }
  }
  const map: ContentMap = new Map();
  for (const group of groups.values()) {
    const batch = await crypto.encryptToDeviceMessages(type, group.devices, group.payload);
    for (const { userId, deviceId, payload } of batch.batch) {
      let perDevice = map.get(userId);
      if (perDevice === undefined) {
        perDevice = new Map();
        map.set(userId, perDevice);
      }
      perDevice.set(deviceId, payload);
    }
  }
  const missing = Object.entries(messages).flatMap(([userId, devices]) =>
    Object.keys(devices)
      .filter((deviceId) => map.get(userId)?.has(deviceId) !== true)
      .map((deviceId) => `${userId}/${deviceId}`),
  );
  if (missing.length > 0) {
    throw new MatrixPortError(
      "M_UNKNOWN_DEVICE",
      400,
      `sendToDevice: cannot Olm-encrypt for ${missing.join(", ")} (device unknown to the crypto store, or no shared encrypted room)`,
    );
  }
  return map;
}

/**
 * Converts a to-device event from `ClientEvent.ToDeviceEvent`. Events that could not be decrypted (still
 * `m.room.encrypted`) and crypto-internal types are dropped. An event counts as `encrypted` when it carries the
 * Olm plaintext fields *and* `keys.ed25519` belongs to a device of the sender known to the crypto store; that
 * device is `senderDevice`.
 */
export async function toToDeviceEvent(
  event: MatrixEvent,
  devices: DeviceCache,
  logger: Logger,
): Promise<ToDeviceEvent | undefined> {
  const type = event.getType();
  const sender = event.getSender();
  if (sender === undefined || type === "") {
    logger.debug("dropping malformed to-device event");
    return undefined;
  }
  if (type === "m.room.encrypted") {
    logger.warn("dropping undecryptable to-device event", { sender });
    return undefined;
  }
  if (CRYPTO_INTERNAL_TO_DEVICE_TYPES.has(type)) {
    return undefined;
  }
  const content = { ...event.getContent() } as Record<string, unknown>;
  const envelope = readOlmEnvelope(event.event);
  if (envelope === undefined) {
    return { type, sender, content, encrypted: false };
  }
  const senderDevice = await devices.findDeviceByEd25519(sender, envelope.senderEd25519);
  if (senderDevice === undefined) {
    logger.warn("to-device event with Olm fields from an unknown device: treated as unencrypted", {
      type,
      sender,
      claimedDevice: envelope.claimedDeviceId,
    });
    return { type, sender, content, encrypted: false };
  }
  if (envelope.claimedDeviceId !== undefined && envelope.claimedDeviceId !== senderDevice) {
    logger.warn("to-device event: MSC4147 device id disagrees with the Olm sender key", {
      sender,
      claimed: envelope.claimedDeviceId,
      senderDevice,
    });
  }
  return { type, sender, content, encrypted: true, senderDevice };
}
