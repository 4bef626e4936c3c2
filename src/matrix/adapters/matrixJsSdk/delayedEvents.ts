import type { Logger } from "../../../core/Logger.js";
import type { DelayedEvent } from "../../MatrixClientPort.js";

/**
 * Reads one page of `GET /delayed_events` (MSC4140): `{ delayed_events: [{ delay_id, room_id, type, state_key?,
 * delay, running_since, content }], next_batch? }`. Malformed entries are dropped with a debug line.
 */
export function readDelayedEvents(page: unknown, logger: Logger): DelayedEvent[] {
  const list = isRecord(page) && Array.isArray(page.delayed_events) ? (page.delayed_events as unknown[]) : [];
  const out: DelayedEvent[] = [];
  for (const entry of list) {
    if (
      !isRecord(entry) ||
      typeof entry.delay_id !== "string" ||
      typeof entry.room_id !== "string" ||
      typeof entry.type !== "string" ||
      typeof entry.delay !== "number" ||
      typeof entry.running_since !== "number"
    ) {
      logger.debug("dropping malformed delayed event entry");
      continue;
    }
    const event: DelayedEvent = {
      delayId: entry.delay_id,
      roomId: entry.room_id,
      type: entry.type,
      delayMs: entry.delay,
      runningSince: entry.running_since,
      content: isRecord(entry.content) ? { ...entry.content } : {},
    };
    if (typeof entry.state_key === "string") {
      event.stateKey = entry.state_key;
    }
    out.push(event);
  }
  return out;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
