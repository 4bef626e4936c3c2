/**
 * `famedly-calls/matrix-js-sdk`: the {@link MatrixClientPort} adapter for matrix-js-sdk (37.5 and later, with
 * Rust crypto).
 *
 * @packageDocumentation
 */
import type { MatrixClient } from "matrix-js-sdk";
import type { Clock } from "../../../core/Clock.js";
import { systemClock } from "../../../core/Clock.js";
import type { Logger } from "../../../core/Logger.js";
import { silentLogger } from "../../../core/Logger.js";
import type { RandomSource } from "../../../core/random.js";
import { cryptoRandom } from "../../../core/random.js";
import type { MatrixClientPort } from "../../MatrixClientPort.js";
import { MatrixJsSdkPort } from "./MatrixJsSdkPort.js";
import type { RetryPolicy } from "./retry.js";
import { DEFAULT_RETRY_POLICY } from "./retry.js";

export { MatrixJsSdkPort } from "./MatrixJsSdkPort.js";
export type { RetryPolicy } from "./retry.js";

/** Options of {@link createMatrixJsSdkPort}. */
export interface MatrixJsSdkPortOptions {
  /** Where the adapter logs (retries, dropped events); silent by default. */
  logger?: Logger;
  /** Timers of retries and decryption waits; the system clock by default. */
  clock?: Clock;
  /** Source of transaction ids; the platform CSPRNG by default. */
  random?: RandomSource;
  /** Retries of transport failures (network errors, 5xx); by default 4 attempts, 500 ms, 1 s, 2 s apart. */
  retry?: Partial<RetryPolicy>;
  /**
   * How long an incremental sync batch waits for the keys of an undecryptable room event before dropping it;
   * 2000 ms. (Senders share Megolm keys before they send, so keys normally arrive in the same or an earlier sync.)
   */
  decryptionTimeoutMs?: number;
  /** Pages of 100 that `getRelations` reads at most; 10. */
  maxRelationPages?: number;
}

/**
 * A {@link MatrixClientPort} over `client`: a matrix-js-sdk `MatrixClient` with a user id and a device id, Rust
 * crypto initialised (`initRustCrypto`) for encrypted rooms and Olm to-device messages, and started
 * (`startClient`) so that sync batches flow. Create the port before `startClient` to see the initial sync as
 * `initial` batches. Call `dispose()` on the result to detach it from the client.
 *
 * Room events go through `client.sendEvent` (Megolm-encrypted by the client in encrypted rooms), to-device
 * messages with `{ encrypted: true }` through `encryptToDeviceMessages` and `sendToDevice`. The port owns the
 * transaction ids and retries network failures and 5xx answers with the same id; other failures reject with a
 * `MatrixPortError`.
 */
export function createMatrixJsSdkPort(
  client: MatrixClient,
  opts: MatrixJsSdkPortOptions = {},
): MatrixClientPort & {
  /** Detaches the port from the client: no more sync batches, no more device-list refreshes. */
  dispose(): void;
} {
  return new MatrixJsSdkPort(client, {
    clock: opts.clock ?? systemClock,
    logger: opts.logger ?? silentLogger,
    random: opts.random ?? cryptoRandom,
    retry: { ...DEFAULT_RETRY_POLICY, ...opts.retry },
    decryptionTimeoutMs: opts.decryptionTimeoutMs ?? 2_000,
    maxRelationPages: opts.maxRelationPages ?? 10,
  });
}
