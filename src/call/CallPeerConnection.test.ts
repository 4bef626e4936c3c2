import { afterEach, describe, expect, it, vi } from "vitest";
import { VoipErrorCode } from "../core/errors.js";
import { silentLogger, type LogContext, type Logger } from "../core/Logger.js";
import { loadWrtc } from "../node/wrtc.js";
import type { CallContext } from "./CallContext.js";
import type { CallMedia } from "./CallMedia.js";
import { CallPeerConnection } from "./CallPeerConnection.js";
import type { IceAgent } from "./IceAgent.js";
import { CallDirection, CallState } from "./types.js";

const created: RTCPeerConnection[] = [];
afterEach(() => {
  for (const pc of created.splice(0)) {
    pc.close();
  }
});

const TURN: RTCIceServer[] = [{ urls: "turn:turn.test:3478", username: "u", credential: "p" }];

function setup(opts: { iceServers?: () => Promise<RTCIceServer[]>; state?: () => CallState } = {}) {
  const configs: RTCConfiguration[] = [];
  const warnings: [string, LogContext | undefined][] = [];
  const log: Logger = { ...silentLogger, warn: (message, context) => warnings.push([message, context]) };
  let negotiationNeeded = 0;
  const listenedTo: string[] = [];
  const ctx = {
    getIceServers: opts.iceServers ?? (() => Promise.resolve(TURN)),
    delegate: {
      createPeerConnection: (config: RTCConfiguration) => {
        configs.push(config);
        const pc = new (loadWrtc().RTCPeerConnection)(config);
        created.push(pc);
        const addEventListener = pc.addEventListener.bind(pc);
        pc.addEventListener = (type: string, ...rest: [EventListenerOrEventListenerObject]) => {
          listenedTo.push(type);
          addEventListener(type, ...rest);
        };
        return Promise.resolve(pc);
      },
    },
  } as unknown as CallContext;
  const peer: CallPeerConnection = new CallPeerConnection({
    ctx,
    log,
    direction: CallDirection.Outgoing,
    peerConnection: () => peer.current,
    state: opts.state ?? (() => CallState.CreateOffer),
    emit: () => undefined,
    hangup: () => Promise.resolve(),
    ice: {} as unknown as IceAgent,
    media: {} as unknown as CallMedia,
    mayRestartIce: () => true,
    onNegotiationNeeded: () => {
      negotiationNeeded++;
    },
    onIceConnected: () => undefined,
  });
  return { peer, configs, warnings, listenedTo, negotiationNeeded: () => negotiationNeeded };
}

/** Resolves once `check` holds (real WebRTC events arrive asynchronously). */
async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !check(); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe("CallPeerConnection", () => {
  it("opens with the current ICE servers and routes negotiationneeded to the call", async () => {
    const t = setup();
    const pc = await t.peer.open();
    expect(t.peer.current).toBe(pc);
    expect(t.configs).toEqual([{ iceServers: TURN }]);
    pc.addTransceiver("audio");
    await until(() => t.negotiationNeeded() > 0);
    expect(t.negotiationNeeded()).toBe(1);
  });

  it("opens without ICE servers when they cannot be fetched", async () => {
    const failure = new Error("no TURN");
    const t = setup({ iceServers: () => Promise.reject(failure) });
    await t.peer.open();
    expect(t.configs).toEqual([{ iceServers: [] }]);
    expect(t.warnings).toEqual([["no ICE servers", { error: failure }]]);
  });

  it("closes at once a connection opened after the call ended, and does not listen to it", async () => {
    const t = setup({ state: () => CallState.Ended });
    const pc = await t.peer.open();
    expect(pc.signalingState).toBe("closed");
    expect(t.peer.current).toBe(pc);
    expect(t.listenedTo).toEqual([]);
  });

  it("stops listening when closed, once", async () => {
    const t = setup();
    const pc = await t.peer.open();
    expect([...t.listenedTo].sort()).toEqual([
      "icecandidate",
      "iceconnectionstatechange",
      "icegatheringstatechange",
      "negotiationneeded",
      "track",
    ]);
    const remove = vi.spyOn(pc, "removeEventListener");
    t.peer.close();
    t.peer.close();
    expect(pc.signalingState).toBe("closed");
    expect(remove.mock.calls.map(([type]) => type).sort()).toEqual([
      "icecandidate",
      "iceconnectionstatechange",
      "icegatheringstatechange",
      "negotiationneeded",
      "track",
    ]);
  });

  it("restarts ICE only on a live connection, with fresh ICE servers", async () => {
    let turn = TURN;
    const t = setup({ iceServers: () => Promise.resolve(turn) });
    await expect(t.peer.restartIce()).rejects.toMatchObject({ code: VoipErrorCode.InvalidState });
    const pc = await t.peer.open();
    turn = [{ urls: "turn:fresh.test:3478", username: "u2", credential: "p2" }];
    await t.peer.restartIce();
    expect(pc.getConfiguration().iceServers?.[0]?.urls).toEqual(turn[0]?.urls);
  });

  it("restarts ICE with the old servers when fresh ones cannot be fetched", async () => {
    let fetches = 0;
    const failure = new Error("no TURN");
    const t = setup({
      iceServers: () => (fetches++ === 0 ? Promise.resolve(TURN) : Promise.reject(failure)),
    });
    const pc = await t.peer.open();
    await t.peer.restartIce();
    expect(pc.getConfiguration().iceServers?.[0]?.urls).toEqual(TURN[0]?.urls);
    expect(t.warnings).toEqual([["could not refresh ICE servers for the restart", { error: failure }]]);
  });
});
