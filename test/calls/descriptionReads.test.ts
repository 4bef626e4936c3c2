// The library never reads a peer connection's descriptions back: in @roamhq/wrtc each of those getters serialises
// the SDP natively (and blocks the JS thread until the signalling thread is free); `localDescription` even crashed
// now and then with many connections (node-webrtc issue 696). What we send is what createOffer/createAnswer
// returned, and whether a remote description is applied is tracked by the call itself.
import { describe, expect, it } from "vitest";
import { CallType, type WebRTCDelegate } from "../../src/index.js";
import { connectedCall, deferredCleanup, expectMediaFlows, twoPeers, type Peer } from "../helpers/calls.js";

const defer = deferredCleanup();

const DESCRIPTIONS = [
  "localDescription",
  "remoteDescription",
  "currentLocalDescription",
  "currentRemoteDescription",
  "pendingLocalDescription",
  "pendingRemoteDescription",
] as const;

/** Counts, per getter, how often the peer connections `peer`'s delegate hands out are asked for a description. */
function countDescriptionReads(peer: Peer, reads: Map<string, number>): void {
  const { delegate } = peer;
  const create = delegate.createPeerConnection.bind(delegate);
  (delegate as { createPeerConnection: WebRTCDelegate["createPeerConnection"] }).createPeerConnection =
    async (config) => {
      const pc = await create(config);
      const names: readonly PropertyKey[] = DESCRIPTIONS;
      return new Proxy(pc, {
        get(target, prop) {
          if (names.includes(prop)) {
            reads.set(String(prop), (reads.get(String(prop)) ?? 0) + 1);
          }
          const value: unknown = Reflect.get(target, prop, target);
          return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
        set(target, prop, value) {
          return Reflect.set(target, prop, value, target);
        },
      });
    };
}

describe("peer connection descriptions", () => {
  it("are never read back during a call: set-up, media both ways, hang-up", async () => {
    const env = await twoPeers({
      alice: { delegate: { video: false } },
      bob: { delegate: { video: false } },
    });
    defer(env.close);
    const reads = new Map<string, number>();
    countDescriptionReads(env.alice, reads);
    countDescriptionReads(env.bob, reads);

    const { outgoing, incoming } = await connectedCall(env, CallType.Voice);
    await expectMediaFlows(incoming, { video: false });
    await expectMediaFlows(outgoing, { video: false });
    await outgoing.hangup();

    expect(Object.fromEntries(reads)).toEqual({});
  });
});
