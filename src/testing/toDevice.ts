import { MatrixPortError } from "../core/errors.js";
import type { ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import { olmCiphertext } from "./ciphertext.js";
import type { DeviceEndpoint } from "./DeviceEndpoint.js";
import type { HomeserverCore, RequestContext } from "./HomeserverCore.js";
import type { DeviceAddress, TranscriptEntry } from "./types.js";
import { cloneContent, isJsonObject } from "./wire.js";

/** Resolved targets of a to-device send: `"*"` expanded, explicit devices winning over `"*"`. */
interface Target {
  endpoint: DeviceEndpoint;
  content: Record<string, unknown>;
}

function resolveTargets(core: HomeserverCore, messages: unknown): Target[] {
  if (!isJsonObject(messages)) {
    throw new MatrixPortError("M_BAD_JSON", 400, "messages must be a JSON object");
  }
  const targets = new Map<DeviceEndpoint, Record<string, unknown>>();
  for (const [userId, byDevice] of Object.entries(messages)) {
    if (!isJsonObject(byDevice)) {
      throw new MatrixPortError("M_BAD_JSON", 400, `messages[${userId}] must be a JSON object`);
    }
    const entries = Object.entries(byDevice).sort(([a], [b]) => Number(b === "*") - Number(a === "*"));
    for (const [deviceId, content] of entries) {
      if (!isJsonObject(content)) {
        throw new MatrixPortError(
          "M_BAD_JSON",
          400,
          `messages[${userId}][${deviceId}] must be a JSON object`,
        );
      }
      const endpoints = deviceId === "*" ? core.devicesOf(userId) : [core.device(userId, deviceId)];
      for (const endpoint of endpoints) {
        if (endpoint) {
          targets.set(endpoint, content);
        } else {
          core.logger.debug("to-device message to an unknown device dropped", { userId, deviceId });
        }
      }
    }
  }
  return [...targets].map(([endpoint, content]) => ({ endpoint, content }));
}

/**
 * `PUT /sendToDevice/{type}/{txnId}`: delivers to exactly the addressed devices (`"*"` = all of that user's),
 * silently dropping unknown ones like Synapse. With `encrypted`, the sender's client has Olm-encrypted each message
 * (it checked that it could): the server stores ciphertext, the recipient gets the cleartext with `encrypted: true`
 * and the verified `senderDevice`. Duplication and reordering faults apply per message.
 */
export function sendToDevice(
  core: HomeserverCore,
  ctx: RequestContext,
  type: string,
  messages: unknown,
  encrypted: boolean,
): void {
  if (typeof type !== "string" || type.length === 0) {
    throw new MatrixPortError("M_BAD_JSON", 400, `Invalid event type ${JSON.stringify(type)}`);
  }
  const targets = resolveTargets(core, messages);
  const sender = core.device(ctx.userId, ctx.deviceId);
  const recipients: DeviceAddress[] = [];
  const perDevice: Record<string, Record<string, Record<string, unknown>>> = {};
  for (const { endpoint, content } of targets) {
    const event: ToDeviceEvent = { type, sender: ctx.userId, content: cloneContent(content), encrypted };
    if (encrypted) {
      event.senderDevice = ctx.deviceId;
    }
    const fate = core.faults.nextToDevice();
    for (let copy = 0; copy < fate.copies; copy++) {
      // A duplicate travels on its own, so that it arrives in a later batch.
      const extra = (fate.extraDelayMs[copy] ?? 0) + (copy > 0 ? 1 : 0);
      endpoint.inbox.push({ kind: "toDevice", event }, extra);
    }
    recipients.push({ userId: endpoint.userId, deviceId: endpoint.deviceId });
    const stored = encrypted
      ? olmCiphertext(core.ids, content, sender?.curveKey ?? "", endpoint.curveKey)
      : cloneContent(content);
    (perDevice[endpoint.userId] ??= {})[endpoint.deviceId] = stored;
  }
  const first = recipients[0];
  const entry: TranscriptEntry = {
    kind: "toDevice",
    sender: ctx.userId,
    senderDevice: ctx.deviceId,
    type,
    content: first ? (perDevice[first.userId]?.[first.deviceId] ?? {}) : {},
    encrypted,
    recipients,
    perDevice,
    ts: core.clock.now(),
  };
  core.recordEntry(structuredClone(entry));
}
