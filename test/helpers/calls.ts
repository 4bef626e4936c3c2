import { afterEach, expect } from "vitest";
import {
  CallState,
  VoIP,
  type CallSession,
  type MatrixClientPort,
  type SyncBatch,
  type VoipOptions,
  type WebRTCDelegate,
} from "../../src/index.js";
import { createNodeDelegate, probeRemoteMedia, type NodeDelegateOptions } from "../../src/node/index.js";
import { LocalHomeserver } from "../../src/testing/index.js";

/** One participant: a client, its delegate, its VoIP, and a log of delegate callbacks. */
export interface Peer {
  userId: string;
  deviceId: string;
  client: MatrixClientPort;
  delegate: WebRTCDelegate;
  voip: VoIP;
  /** Delegate callbacks in call order, e.g. `playRingtone`, `handleNewCall:<callId>`. */
  callbacks: string[];
}

/** Creates a participant with a recording delegate. */
export function makePeer(
  hs: LocalHomeserver,
  userId: string,
  deviceId: string,
  opts: { delegate?: NodeDelegateOptions; voip?: VoipOptions; client?: MatrixClientPort } = {},
): Peer {
  const client = opts.client ?? hs.createClient(userId, deviceId);
  const callbacks: string[] = [];
  const rec =
    (name: string) =>
    (call?: { callId: string }): void => {
      callbacks.push(call ? `${name}:${call.callId}` : name);
    };
  const delegate = createNodeDelegate({
    playRingtone: rec("playRingtone"),
    stopRingtone: rec("stopRingtone"),
    registerListeners: rec("registerListeners"),
    handleNewCall: rec("handleNewCall"),
    handleCallEnded: rec("handleCallEnded"),
    handleMissedCall: rec("handleMissedCall"),
    ...opts.delegate,
  });
  const voip = new VoIP(client, delegate, opts.voip);
  return { userId, deviceId, client, delegate, voip, callbacks };
}

/** Resolves with the next incoming call of `peer`. */
export function nextIncomingCall(peer: Peer, timeoutMs = 5000): Promise<CallSession> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`${peer.userId}/${peer.deviceId}: no incoming call within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = peer.voip.on("incomingCall", (call) => {
      clearTimeout(timer);
      off();
      resolve(call);
    });
  });
}

/** Records every state of a call, starting now. */
export function recordStates(call: CallSession): CallState[] {
  const states: CallState[] = [];
  call.on("stateChanged", (state) => states.push(state));
  return states;
}

/** Waits until `predicate` holds (real time). */
export async function until(predicate: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > end) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits for a call to reach `state`. */
export function untilState(call: CallSession, state: CallState, timeoutMs = 5000): Promise<void> {
  return until(() => call.state === state, `${call.callId} ${state} (is ${call.state})`, timeoutMs);
}

/** Asserts media flows from `from`'s local user media into `to`'s remote stream: audio samples and video frames. */
export async function expectMediaFlows(
  to: CallSession,
  { audio = true, video = true, ms = 600 }: { audio?: boolean; video?: boolean; ms?: number } = {},
): Promise<{ audioSamples: number; videoFrames: number }> {
  const remote = to.remoteUserMediaStream;
  expect(remote, "remote user media stream").toBeDefined();
  const probe = probeRemoteMedia(remote!.mediaStream);
  try {
    await until(
      () => (!audio || probe.audioSamples() > 0) && (!video || probe.videoFrames() > 0),
      "media to arrive",
      ms + 4000,
    );
    await new Promise((r) => setTimeout(r, ms));
    const result = { audioSamples: probe.audioSamples(), videoFrames: probe.videoFrames() };
    if (audio) {
      expect(result.audioSamples).toBeGreaterThan(0);
    }
    if (video) {
      expect(result.videoFrames).toBeGreaterThan(0);
    }
    return result;
  } finally {
    probe.stop();
  }
}

/**
 * A port that forwards to a real client but lets a test push hand-made sync batches to the subscribers
 * (events with a chosen age, malformed content, forged senders).
 */
export class InjectablePort implements MatrixClientPort {
  readonly #listeners = new Set<(batch: SyncBatch) => void | Promise<void>>();
  #held: (() => void | Promise<void>)[] | undefined;
  public constructor(private readonly inner: MatrixClientPort) {}
  public get userId(): string {
    return this.inner.userId;
  }
  public get deviceId(): string {
    return this.inner.deviceId;
  }
  public onSync(listener: (batch: SyncBatch) => void | Promise<void>): () => void {
    this.#listeners.add(listener);
    const off = this.inner.onSync((batch) => {
      if (this.#held !== undefined) {
        this.#held.push(() => listener(batch));
        return;
      }
      return listener(batch);
    });
    return () => {
      this.#listeners.delete(listener);
      off();
    };
  }
  /** Delivers `batch` to every subscriber, awaiting each. */
  public async inject(batch: SyncBatch): Promise<void> {
    for (const l of this.#listeners) {
      await l(batch);
    }
  }
  /** Holds back the server's sync batches (this client has not synced yet) until {@link release}. */
  public hold(): void {
    this.#held ??= [];
  }
  /** Delivers the held batches in order, awaiting each, and stops holding. */
  public async release(): Promise<void> {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const deliver of held) {
      await deliver();
    }
  }
  public getJoinedRoomIds = (): string[] => this.inner.getJoinedRoomIds();
  public getRoom: MatrixClientPort["getRoom"] = (r) => this.inner.getRoom(r);
  public getStateEvents: MatrixClientPort["getStateEvents"] = (r, t) => this.inner.getStateEvents(r, t);
  public sendRoomEvent: MatrixClientPort["sendRoomEvent"] = (r, t, c, o) =>
    this.inner.sendRoomEvent(r, t, c, o);
  public sendStateEvent: MatrixClientPort["sendStateEvent"] = (r, t, k, c, o) =>
    this.inner.sendStateEvent(r, t, k, c, o);
  public updateDelayedEvent: MatrixClientPort["updateDelayedEvent"] = (d, a) =>
    this.inner.updateDelayedEvent(d, a);
  public listDelayedEvents: MatrixClientPort["listDelayedEvents"] = () => this.inner.listDelayedEvents();
  public redactEvent: MatrixClientPort["redactEvent"] = (r, e, c) => this.inner.redactEvent(r, e, c);
  public getRelations: MatrixClientPort["getRelations"] = (r, e, rt, et) =>
    this.inner.getRelations(r, e, rt, et);
  public sendToDevice: MatrixClientPort["sendToDevice"] = (t, m, o) => this.inner.sendToDevice(t, m, o);
  public canEncryptToDevice: MatrixClientPort["canEncryptToDevice"] = (u, d) =>
    this.inner.canEncryptToDevice(u, d);
  public getTurnServers: MatrixClientPort["getTurnServers"] = () => this.inner.getTurnServers();
  public getServerFeatures: MatrixClientPort["getServerFeatures"] = () => this.inner.getServerFeatures();
}

/** A standard two-party setup: alice and bob in a direct room. */
export async function twoPeers(
  opts: {
    alice?: Parameters<typeof makePeer>[3];
    bob?: Parameters<typeof makePeer>[3];
    hs?: LocalHomeserver;
  } = {},
): Promise<{ hs: LocalHomeserver; roomId: string; alice: Peer; bob: Peer; close: () => Promise<void> }> {
  const hs = opts.hs ?? new LocalHomeserver();
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"], isDirect: true });
  const alice = makePeer(hs, "@alice:local", "ALICE", opts.alice);
  const bob = makePeer(hs, "@bob:local", "BOB", opts.bob);
  return {
    hs,
    roomId,
    alice,
    bob,
    close: async () => {
      await Promise.all([alice.voip.dispose(), bob.voip.dispose()]);
      await hs.close();
    },
  };
}

/** Places a call alice → bob and waits until both sides are connected. */
export async function connectedCall(
  env: { roomId: string; alice: Peer; bob: Peer },
  type: Parameters<VoIP["inviteToCall"]>[1],
): Promise<{ outgoing: CallSession; incoming: CallSession }> {
  const ringing = nextIncomingCall(env.bob);
  const outgoing = await env.alice.voip.inviteToCall(env.roomId, type, env.bob.userId);
  const incoming = await ringing;
  await incoming.answer();
  await Promise.all([untilState(outgoing, CallState.Connected), untilState(incoming, CallState.Connected)]);
  return { outgoing, incoming };
}

/** What a peer's delegate handed out, for leak checks. */
export interface DelegateResources {
  /** Tracks from `getUserMedia`/`getDisplayMedia` that are still live. */
  liveTracks(): MediaStreamTrack[];
  /** Peer connections from `createPeerConnection` that are not closed. */
  openPeerConnections(): RTCPeerConnection[];
  /** How many tracks and peer connections the delegate handed out in all. */
  handedOut(): { tracks: number; peerConnections: number };
}

/** Wraps `peer`'s delegate in place so every track and peer connection it hands out is recorded. */
export function recordDelegateResources(peer: Peer): DelegateResources {
  const tracks: MediaStreamTrack[] = [];
  const pcs: RTCPeerConnection[] = [];
  const { delegate } = peer;
  const md = delegate.mediaDevices;
  const recordStream = async (stream: Promise<MediaStream>): Promise<MediaStream> => {
    const s = await stream;
    tracks.push(...s.getTracks());
    return s;
  };
  const getUserMedia = md.getUserMedia.bind(md);
  md.getUserMedia = (c) => recordStream(getUserMedia(c));
  const getDisplayMedia = md.getDisplayMedia?.bind(md);
  if (getDisplayMedia) {
    md.getDisplayMedia = (c) => recordStream(getDisplayMedia(c));
  }
  const createPeerConnection = delegate.createPeerConnection.bind(delegate);
  (delegate as { createPeerConnection: WebRTCDelegate["createPeerConnection"] }).createPeerConnection =
    async (config) => {
      const pc = await createPeerConnection(config);
      pcs.push(pc);
      return pc;
    };
  return {
    liveTracks: () => tracks.filter((t) => t.readyState === "live"),
    openPeerConnections: () => pcs.filter((pc) => pc.signalingState !== "closed"),
    handedOut: () => ({ tracks: tracks.length, peerConnections: pcs.length }),
  };
}

/**
 * Registers an `afterEach` that runs the functions handed to the returned `defer`, last first, then forgets them:
 * one place for the teardown of calls, VoIPs, homeservers and tracks in every test file.
 */
export function deferredCleanup(): (fn: () => Promise<void> | void) => void {
  let pending: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    const fns = pending.reverse();
    pending = [];
    for (const fn of fns) {
      await fn();
    }
  });
  return (fn) => {
    pending.push(fn);
  };
}

/** One direct-message room per pair of `peers` (the earlier peer creates it and calls), in order. */
export async function directRoomPerPair(
  hs: LocalHomeserver,
  peers: readonly Peer[],
): Promise<{ caller: Peer; callee: Peer; roomId: string }[]> {
  const pairs: { caller: Peer; callee: Peer; roomId: string }[] = [];
  for (const [i, caller] of peers.entries()) {
    for (const callee of peers.slice(i + 1)) {
      const roomId = await hs.createRoom({
        creator: caller.userId,
        members: [callee.userId],
        isDirect: true,
      });
      pairs.push({ caller, callee, roomId });
    }
  }
  return pairs;
}
