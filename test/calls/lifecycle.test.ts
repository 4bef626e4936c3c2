import { describe, expect, it } from "vitest";
import { CallState, CallType, VoIP, type MatrixClientPort } from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { LocalHomeserver, ManualClock } from "../../src/testing/index.js";
import { deferredCleanup, makePeer, nextIncomingCall, untilState } from "../helpers/calls.js";

const defer = deferredCleanup();

/** Counts live sync subscriptions of a port. */
function countingPort(inner: MatrixClientPort): { port: MatrixClientPort; live: () => number } {
  let live = 0;
  const onSync: MatrixClientPort["onSync"] = (listener) => {
    live++;
    const off = inner.onSync(listener);
    let done = false;
    return () => {
      if (!done) {
        done = true;
        live--;
        off();
      }
    };
  };
  const port = new Proxy(inner, {
    get(target, prop) {
      if (prop === "onSync") {
        return onSync;
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { port, live: () => live };
}

describe("VoIP lifecycle", () => {
  it("dispose() hangs up, and leaves no timer, sync subscription or device-change handler behind", async () => {
    const hs = new LocalHomeserver();
    hs.setTurnServers({ uris: ["turn:127.0.0.1:3478"], username: "u", password: "p", ttl: 3600 });
    defer(() => hs.close());
    const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"] });
    const clock = new ManualClock();
    const counted = countingPort(hs.createClient("@alice:local", "ALICE"));
    const appHandler = (): void => undefined;
    const delegate = createNodeDelegate();
    delegate.mediaDevices.ondevicechange = appHandler;
    const voip = new VoIP(counted.port, delegate, { clock });
    expect(counted.live()).toBe(1);
    expect(delegate.mediaDevices.ondevicechange).not.toBe(appHandler);

    const bob = makePeer(hs, "@bob:local", "BOB");
    defer(() => bob.voip.dispose());
    const ringing = nextIncomingCall(bob);
    const call = await voip.inviteToCall(roomId, CallType.Voice, "@bob:local");
    // The TURN server is unreachable, so ICE gathering does not complete: the gathering cap sends the invite.
    for (let i = 0; i < 100 && call.state !== CallState.InviteSent; i++) {
      await new Promise((r) => setTimeout(r, 20));
      await clock.advance(50);
    }
    const incoming = await ringing;
    await untilState(call, CallState.InviteSent);
    expect(clock.pendingTimers()).toBeGreaterThan(0);

    await voip.dispose();
    expect(call.state).toBe(CallState.Ended);
    expect(voip.calls.size).toBe(0);
    expect(clock.pendingTimers()).toBe(0);
    expect(counted.live()).toBe(0);
    expect(delegate.mediaDevices.ondevicechange).toBe(appHandler);
    await untilState(incoming, CallState.Ended);
    await voip.dispose(); // idempotent
  });

  it("keeps another VoIP's device-change handler when instances are disposed out of order", async () => {
    const hs = new LocalHomeserver();
    defer(() => hs.close());
    const delegate = createNodeDelegate();
    const a = new VoIP(hs.createClient("@a:local", "A"), delegate);
    const b = new VoIP(hs.createClient("@b:local", "B"), delegate);
    const bHandler = delegate.mediaDevices.ondevicechange;
    await a.dispose();
    expect(delegate.mediaDevices.ondevicechange).toBe(bHandler);
    await b.dispose();
  });
});
