/**
 * The SFU page's server side: `/livekit/config` (where the LiveKit server is) and `/livekit/token?identity=…` (an
 * access token for that identity, as a deployment's JWT service would hand out).
 */
import { livekitToken, type LiveKitServerInfo } from "../livekit/sfuCall.js";
import type { ApiRoute } from "./staticServer.js";

/** Routes for a LiveKit server; every token is for the page's one room. */
export function livekitRoutes(server: LiveKitServerInfo): ApiRoute {
  return async (url) => {
    if (url.pathname === "/livekit/config") {
      return { type: "application/json", body: JSON.stringify({ wsUrl: server.wsUrl }) };
    }
    const identity = url.searchParams.get("identity");
    if (url.pathname === "/livekit/token" && identity !== null && identity !== "") {
      return { type: "text/plain", body: await livekitToken(server, identity, "sfu-demo") };
    }
    return undefined;
  };
}
