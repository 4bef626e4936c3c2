// Access tokens for the local LiveKit server, minted with livekit-server-sdk (what an app's token service does).
import { AccessToken } from "livekit-server-sdk";
import type { LiveKitInfo } from "./livekitServer.js";

/** A token for `identity` to join `room`, publish and subscribe. */
export async function mintToken(server: LiveKitInfo, identity: string, room: string): Promise<string> {
  const token = new AccessToken(server.apiKey, server.apiSecret, { identity, ttl: "10m" });
  token.addGrant({ room, roomJoin: true, canPublish: true, canSubscribe: true });
  return token.toJwt();
}
