// Timestamps of one call's setup, taken from the outside: a wrapped delegate, peer connection and client port.
import { performance } from "node:perf_hooks";
import type { CallSession, MatrixClientPort, SyncBatch, WebRTCDelegate } from "../src/index.js";

/**
 * Named marks in milliseconds since {@link PhaseRecorder.start}; only the first occurrence of a name counts.
 * Waiters can await a mark.
 */
export class PhaseRecorder {
  #t0 = performance.now();
  #cpu0 = process.cpuUsage();
  #generation = 0;
  #marks = new Map<string, number>();
  #waiters = new Map<string, ((t: number) => void)[]>();

  /** Starts a new call: forgets the marks. */
  public start(): void {
    this.#cpu0 = process.cpuUsage();
    this.#t0 = performance.now();
    this.#generation++;
    this.#marks = new Map();
  }

  /** Counts {@link PhaseRecorder.start} calls: a late event of an earlier call carries an older generation. */
  public get generation(): number {
    return this.#generation;
  }

  /** Records `name` now, unless it was recorded already since {@link PhaseRecorder.start}. */
  public mark(name: string): void {
    if (this.#marks.has(name)) {
      return;
    }
    const t = performance.now() - this.#t0;
    this.#marks.set(name, t);
    const waiters = this.#waiters.get(name) ?? [];
    this.#waiters.delete(name);
    for (const resolve of waiters) {
      resolve(t);
    }
  }

  /** Resolves with the time of `name` (at once if it is recorded already). */
  public when(name: string): Promise<number> {
    const t = this.#marks.get(name);
    if (t !== undefined) {
      return Promise.resolve(t);
    }
    return new Promise((resolve) => {
      this.#waiters.set(name, [...(this.#waiters.get(name) ?? []), resolve]);
    });
  }

  /** Process CPU time (user + system, all threads) since {@link PhaseRecorder.start}, in ms. */
  public cpuMs(): number {
    const { user, system } = process.cpuUsage(this.#cpu0);
    return (user + system) / 1000;
  }

  /** The marks of the current call. */
  public marks(): Record<string, number> {
    return Object.fromEntries(this.#marks);
  }
}

/**
 * Wraps a delegate so that media capture, SDP steps, ICE gathering and connection, and the call's states are
 * marked as `<side>.<what>`. The wrapped peer connection is the real one with timed methods.
 */
export function instrumentDelegate(base: WebRTCDelegate, side: string, rec: PhaseRecorder): WebRTCDelegate {
  const m = (what: string): void => {
    rec.mark(`${side}.${what}`);
  };
  const media = base.mediaDevices;
  return {
    isWeb: base.isWeb,
    mediaDevices: {
      getUserMedia: async (constraints) => {
        m("getUserMedia.call");
        const stream = await media.getUserMedia(constraints);
        m("getUserMedia");
        return stream;
      },
      ...(media.getDisplayMedia ? { getDisplayMedia: media.getDisplayMedia.bind(media) } : {}),
      ondevicechange: null,
    },
    createPeerConnection: async (config) => {
      const pc = await base.createPeerConnection(config);
      const generation = rec.generation;
      const m = (what: string): void => {
        if (rec.generation === generation) {
          rec.mark(`${side}.${what}`);
        }
      };
      m("createPeerConnection");
      timeMethod(pc, "createOffer", m);
      timeMethod(pc, "createAnswer", m);
      timeMethod(pc, "setLocalDescription", m);
      timeMethod(pc, "setRemoteDescription", m);
      pc.addEventListener("icegatheringstatechange", () => {
        m(`gathering.${pc.iceGatheringState}`);
      });
      pc.addEventListener("icecandidate", (e) => {
        m(e.candidate ? "firstCandidate" : "endOfCandidates");
      });
      pc.addEventListener("iceconnectionstatechange", () => {
        m(`ice.${pc.iceConnectionState}`);
      });
      return pc;
    },
    registerListeners: (call: CallSession) => {
      m(`state.${call.state}`);
      call.on("stateChanged", (state) => {
        m(`state.${state}`);
      });
    },
  };
}

type TimedMethod = "createOffer" | "createAnswer" | "setLocalDescription" | "setRemoteDescription";

function timeMethod(pc: RTCPeerConnection, name: TimedMethod, m: (what: string) => void): void {
  const original = (pc[name] as (...args: unknown[]) => Promise<unknown>).bind(pc);
  Object.defineProperty(pc, name, {
    configurable: true,
    value: async (...args: unknown[]): Promise<unknown> => {
      const kind = (args[0] as { type?: string } | undefined)?.type;
      const label = kind !== undefined && name.startsWith("set") ? `${name}(${kind})` : name;
      const result = await original(...args);
      m(label);
      return result;
    },
  });
}

/**
 * Wraps a client port so that sent call events (`send.<type>` when the send resolved) and received ones
 * (`recv.<type>` when the sync batch reached the library) are marked.
 */
export function instrumentPort(inner: MatrixClientPort, side: string, rec: PhaseRecorder): MatrixClientPort {
  const m = (what: string): void => {
    rec.mark(`${side}.${what}`);
  };
  const sendRoomEvent: MatrixClientPort["sendRoomEvent"] = async (roomId, type, content) => {
    m(`send.${type}.call`);
    const result = await inner.sendRoomEvent(roomId, type, content);
    m(`send.${type}`);
    return result;
  };
  const onSync: MatrixClientPort["onSync"] = (listener) =>
    inner.onSync((batch: SyncBatch) => {
      for (const room of batch.rooms) {
        for (const event of room.timeline) {
          if (event.sender !== inner.userId) {
            m(`recv.${event.type}`);
          }
        }
      }
      return listener(batch);
    });
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === "sendRoomEvent") {
        return sendRoomEvent;
      }
      if (prop === "onSync") {
        return onSync;
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
