import type { MatrixClient } from "matrix-js-sdk";
import { ClientEvent, SyncState } from "matrix-js-sdk";

/**
 * Starts `client` and resolves once its first sync is prepared, so that rooms, members and device lists are known;
 * rejects when that sync fails. Used by the demo and the integration suite when they log in with matrix-js-sdk.
 *
 * @internal
 */
export async function startClientAndSync(client: MatrixClient, initialSyncLimit: number): Promise<void> {
  const prepared = new Promise<void>((resolve, reject) => {
    const onSync = (state: SyncState): void => {
      if (state === SyncState.Prepared) {
        client.off(ClientEvent.Sync, onSync);
        resolve();
      } else if (state === SyncState.Error) {
        client.off(ClientEvent.Sync, onSync);
        reject(new Error(`the initial sync of ${client.getUserId() ?? "?"} failed`));
      }
    };
    client.on(ClientEvent.Sync, onSync);
  });
  await client.startClient({ initialSyncLimit });
  await prepared;
}
