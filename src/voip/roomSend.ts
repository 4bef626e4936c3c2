import type { SignallingTransport } from "../call/CallContext.js";
import { withRetry, type RetryContext } from "../core/retry.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";

/**
 * Sends one room event through the port. The library's retry layer: only rate limits (429) are retried here,
 * after the server's `retry_after_ms` ({@link withRetry}); transport failures (5xx, network) were retried by the
 * port already, with the same transaction id, and are not retried again.
 */
export async function sendRoomEvent(
  retry: RetryContext,
  client: MatrixClientPort,
  roomId: string,
  type: string,
  content: object,
): Promise<void> {
  await withRetry(`send ${type}`, retry, ["rate_limited"], () => client.sendRoomEvent(roomId, type, content));
}

/** The signalling transport of a 1:1 call: room events in `roomId`, through {@link sendRoomEvent}. */
export function roomSignallingTransport(
  retry: RetryContext,
  client: MatrixClientPort,
  roomId: string,
): SignallingTransport {
  return { send: (type, content) => sendRoomEvent(retry, client, roomId, type, content) };
}
