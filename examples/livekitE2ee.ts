// The README's LiveKit example, kept compiling: `npm run typecheck` checks it against the real API.
import { LiveKitBackend, VoIP, createBrowserDelegate } from "famedly-calls";
import { LiveKitKeyBridge } from "famedly-calls/livekit";
import { createMatrixJsSdkPort } from "famedly-calls/matrix-js-sdk";
import { Room, RoomEvent, type RemoteTrack } from "livekit-client";
import type { MatrixClient } from "matrix-js-sdk";

// What the app brings: a Matrix client, the LiveKit URL and a token for the identity `${userId}:${deviceId}` from the
// deployment's token service (the JWT service of Element Call / Famedly), and somewhere to show video.
declare const matrixClient: MatrixClient;
declare const roomId: string;
declare const livekitUrl: string;
declare const fetchLiveKitToken: (identity: string) => Promise<string>;
declare const ui: { show(track: RemoteTrack, identity: string): void };

export async function joinEncryptedLiveKitRoom(): Promise<Room> {
  // One bridge per call: the library's key manager hands it every media key (ours and the other members', per
  // device and key index); the bridge installs them into livekit-client.
  const bridge = new LiveKitKeyBridge();
  const voip = new VoIP(createMatrixJsSdkPort(matrixClient), {
    ...createBrowserDelegate(),
    keyProvider: bridge,
  });

  // Entering the group call publishes our membership; the key manager then makes, sends and receives media keys.
  const backend = new LiveKitBackend({ livekitServiceUrl: "https://jwt.example.org", livekitAlias: roomId });
  const group = await voip.fetchOrCreateGroupCall("my-call", roomId, backend);
  await group.enter();

  // livekit-client's E2EE worker, bundled as its own file (esbuild: an entry of its own, format "iife").
  const worker = new Worker(new URL("livekit-client/e2ee-worker", import.meta.url), { type: "module" });
  const room = new Room({ e2ee: { keyProvider: bridge.keyProvider, worker } });
  room.on(RoomEvent.TrackSubscribed, (track, _publication, participant) => {
    ui.show(track, participant.identity);
  });
  await room.setE2EEEnabled(true);

  const identity = `${matrixClient.getUserId() ?? ""}:${matrixClient.getDeviceId() ?? ""}`;
  await room.connect(livekitUrl, await fetchLiveKitToken(identity));
  await room.localParticipant.enableCameraAndMicrophone();
  return room;
}
