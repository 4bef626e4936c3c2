import type { MatrixClient } from "matrix-js-sdk";
import type { Logger } from "../../../core/Logger.js";

/**
 * A synchronous view of the devices js-sdk's crypto can Olm-encrypt to: per user, device id to Ed25519 key.
 *
 * Rust crypto only encrypts to-device messages for *tracked* users (members of an encrypted room we share), and
 * `getUserDeviceInfo` without `downloadUncached` reads exactly that set, so the cache mirrors it. It is refreshed
 * on `CryptoEvent.DevicesUpdated`, after sync batches that change room membership, and on demand.
 */
export class DeviceCache {
  readonly #devices = new Map<string, Map<string, string | undefined>>();
  readonly #client: MatrixClient;
  readonly #logger: Logger;
  readonly #pending = new Set<string>();

  public constructor(client: MatrixClient, logger: Logger) {
    this.#client = client;
    this.#logger = logger;
  }

  /** Whether the crypto store knows `deviceId` of `userId` (as of the last refresh). */
  public has(userId: string, deviceId: string): boolean {
    return this.#devices.get(userId)?.has(deviceId) ?? false;
  }

  /** Whether `userId` was ever looked up. */
  public knowsUser(userId: string): boolean {
    return this.#devices.has(userId);
  }

  /** Reloads the devices of `userIds` from the crypto store; failures are logged, never thrown. */
  public async refresh(userIds: Iterable<string>): Promise<void> {
    const users = [...new Set(userIds)];
    const crypto = this.#client.getCrypto();
    if (users.length === 0 || crypto === undefined) {
      return;
    }
    try {
      const map = await crypto.getUserDeviceInfo(users);
      for (const userId of users) {
        const devices = new Map<string, string | undefined>();
        for (const [deviceId, device] of map.get(userId) ?? []) {
          devices.set(deviceId, device.getFingerprint());
        }
        this.#devices.set(userId, devices);
      }
    } catch (error) {
      this.#logger.warn("device list refresh failed", { users: users.length, error: String(error) });
    }
  }

  /** Starts a refresh of `userId` unless one is already running; for synchronous callers. */
  public refreshInBackground(userId: string): void {
    if (this.#pending.has(userId)) {
      return;
    }
    this.#pending.add(userId);
    void this.refresh([userId]).finally(() => {
      this.#pending.delete(userId);
    });
  }

  /**
   * The id of the device of `userId` whose Ed25519 key is `ed25519`, refreshing the user's devices once if the
   * key is not known yet; `undefined` when no such device exists.
   */
  public async findDeviceByEd25519(userId: string, ed25519: string): Promise<string | undefined> {
    const cached = this.#lookup(userId, ed25519);
    if (cached !== undefined) {
      return cached;
    }
    await this.refresh([userId]);
    return this.#lookup(userId, ed25519);
  }

  #lookup(userId: string, ed25519: string): string | undefined {
    for (const [deviceId, key] of this.#devices.get(userId) ?? []) {
      if (key === ed25519) {
        return deviceId;
      }
    }
    return undefined;
  }
}
