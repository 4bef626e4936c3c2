import type { SignallingTransport } from "../call/CallContext.js";
import { RetryBudget, withRetry, type RetryContext } from "../core/retry.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";

/**
 * Sends one room event through the port. The library's retry layer: only rate limits (429) are retried here,
 * after the server's `retry_after_ms` ({@link withRetry}); transport failures (5xx, network) were retried by the
 * port already, with the same transaction id, and are not retried again. One {@link RetryBudget} of
 * `maxAttempts` requests is handed to the port and bounds both layers together. `signal` cancels a send waiting
 * out a rate limit (it rejects with the signal's reason and sends nothing more).
 */
export async function sendRoomEvent(
  retry: RetryContext,
  client: MatrixClientPort,
  roomId: string,
  type: string,
  content: object,
  signal?: AbortSignal,
): Promise<void> {
  const budget = new RetryBudget(retry.policy.maxAttempts);
  await withRetry(`send ${type}`, { ...retry, budget, signal }, ["rate_limited"], () =>
    client.sendRoomEvent(roomId, type, content, { budget }),
  );
}

/** The signalling transport of a 1:1 call: room events in `roomId`, through {@link sendRoomEvent}. */
export function roomSignallingTransport(
  retry: RetryContext,
  client: MatrixClientPort,
  roomId: string,
): SignallingTransport {
  return { send: (type, content, opts) => sendRoomEvent(retry, client, roomId, type, content, opts?.signal) };
}
