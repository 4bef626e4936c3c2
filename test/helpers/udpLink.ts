// A network path between peer connections that a test can break: a UDP relay on 127.0.0.1 that every ICE packet
// between the attached delegates' connections goes through (Node only, for tests with real @roamhq/wrtc).
import { createSocket, type RemoteInfo, type Socket } from "node:dgram";
import type { WebRTCDelegate } from "../../src/index.js";

/** One relayed candidate: a socket on 127.0.0.1 that stands for a real candidate address. */
interface Mapping {
  /** The socket the other side is told about (the rewritten candidate). */
  front: Socket;
  frontPort: number;
  /** The real candidate address. */
  target: { address: string; port: number };
  /** One socket per sender, so that answers go back to the sender that asked (a port-restricted NAT). */
  backs: Map<string, Promise<Socket>>;
  /** The path is broken: packets in either direction are dropped. */
  dead: boolean;
}

/** An IPv4 UDP candidate line: its address and port. */
const UDP_V4 = /^(candidate:\S+ \d+ udp \d+ )(\d+\.\d+\.\d+\.\d+) (\d+)( typ .*)$/i;

/** What a test sees of a relayed peer connection. */
export interface LinkedConnection {
  /** The real peer connection (the library holds a proxy of it). */
  pc: RTCPeerConnection;
  /** Every `iceConnectionState` it went through, in order (starting with the first change). */
  iceStates: RTCIceConnectionState[];
  /** Whether a candidate of another attached connection reached it (its path goes through the link). */
  relayed: boolean;
}

/**
 * A breakable network between the peer connections of the delegates given to {@link UdpLink.attach}: candidates
 * one attached connection gathered reach another attached connection rewritten to relay sockets, so every
 * connectivity check and media packet between them passes through this relay (other candidates pass untouched:
 * a connection to a peer that is not attached stays direct). Only IPv4 UDP candidates of attached connections are
 * kept; their other candidates are dropped, so no direct path exists.
 *
 * - {@link UdpLink.cut}: the paths in use die (every relay socket made so far drops everything), as when a
 *   network goes away; candidates gathered later (an ICE restart) get fresh relay sockets that work.
 * - {@link UdpLink.down} / {@link UdpLink.up}: nothing passes at all, old paths or new, until `up()`.
 */
export class UdpLink {
  readonly #ours = new Set<string>();
  readonly #mappings = new Map<string, Promise<Mapping>>();
  readonly #sockets = new Set<Socket>();
  #down = false;
  #closed = false;
  /** Every attached connection, in creation order. */
  public readonly connections: LinkedConnection[] = [];
  /** Packets relayed and dropped. */
  public readonly packets = { relayed: 0, dropped: 0 };

  /** Routes the connections `delegate` creates from now on through this link. */
  public attach(delegate: Pick<WebRTCDelegate, "createPeerConnection">): void {
    const create = delegate.createPeerConnection.bind(delegate);
    delegate.createPeerConnection = async (config) => {
      const pc = await create(config);
      const linked: LinkedConnection = { pc, iceStates: [], relayed: false };
      this.connections.push(linked);
      pc.addEventListener("icecandidate", (event) => {
        const line = event.candidate?.candidate;
        if (line) {
          this.#ours.add(addressOf(line));
        }
      });
      pc.addEventListener("iceconnectionstatechange", () => {
        linked.iceStates.push(pc.iceConnectionState);
      });
      return this.#proxy(pc, linked);
    };
  }

  /** Breaks every path that exists now; candidates gathered later get new, working paths. */
  public cut(): void {
    for (const mapping of this.#mappings.values()) {
      void mapping.then((m) => {
        m.dead = true;
      });
    }
  }

  /** Breaks every path, old and new, until {@link UdpLink.up}. */
  public down(): void {
    this.cut();
    this.#down = true;
  }

  /** New paths work again (paths broken before stay broken). */
  public up(): void {
    this.#down = false;
  }

  /** Closes every relay socket. */
  public async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(
      [...this.#sockets].map(
        (socket) =>
          new Promise<void>((resolve) => {
            try {
              socket.close(() => {
                resolve();
              });
            } catch {
              resolve();
            }
          }),
      ),
    );
    this.#sockets.clear();
  }

  #proxy(pc: RTCPeerConnection, linked: LinkedConnection): RTCPeerConnection {
    return new Proxy(pc, {
      get: (target, prop) => {
        if (prop === "addIceCandidate") {
          return async (init?: RTCIceCandidateInit | null) => {
            const line = init?.candidate;
            if (!init || !line) {
              return target.addIceCandidate(init ?? undefined);
            }
            const rewritten = await this.#rewrite(line, linked);
            return rewritten === undefined
              ? undefined
              : target.addIceCandidate({ ...init, candidate: rewritten });
          };
        }
        if (prop === "setRemoteDescription") {
          return async (description: RTCSessionDescriptionInit) =>
            target.setRemoteDescription(
              description.sdp === undefined
                ? description
                : { type: description.type, sdp: await this.#rewriteSdp(description.sdp, linked) },
            );
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
  }

  async #rewriteSdp(sdp: string, linked: LinkedConnection): Promise<string> {
    const lines = sdp.split("\r\n");
    const out: string[] = [];
    for (const line of lines) {
      if (!line.startsWith("a=candidate:")) {
        out.push(line);
        continue;
      }
      const rewritten = await this.#rewrite(line.slice(2), linked);
      if (rewritten !== undefined) {
        out.push(`a=${rewritten}`);
      }
    }
    return out.join("\r\n");
  }

  /** A candidate line with the address of an attached connection replaced by its relay socket; `undefined` drops it. */
  async #rewrite(line: string, linked: LinkedConnection): Promise<string | undefined> {
    const key = addressOf(line);
    if (!this.#ours.has(key)) {
      return line; // a peer outside the link: untouched
    }
    linked.relayed = true;
    const match = UDP_V4.exec(line);
    if (!match) {
      return undefined; // IPv6, TCP: dropped, or the peers would find a direct path around the relay
    }
    const mapping = await this.#mapping(key, match[2] ?? "", Number(match[3]));
    return `${match[1]}127.0.0.1 ${mapping.frontPort}${match[4]}`;
  }

  #mapping(key: string, address: string, port: number): Promise<Mapping> {
    let mapping = this.#mappings.get(key);
    if (!mapping) {
      mapping = this.#newMapping(address, port);
      this.#mappings.set(key, mapping);
    }
    return mapping;
  }

  async #newMapping(address: string, port: number): Promise<Mapping> {
    const front = await this.#bind();
    const mapping: Mapping = {
      front,
      frontPort: front.address().port,
      target: { address, port },
      backs: new Map(),
      dead: false,
    };
    front.on("message", (msg, from) => {
      if (mapping.dead || this.#down || this.#closed) {
        this.packets.dropped++;
        return;
      }
      void this.#back(mapping, from).then((back) => {
        this.packets.relayed++;
        back.send(msg, mapping.target.port, mapping.target.address);
      });
    });
    return mapping;
  }

  /** The socket that forwards `from`'s packets to the mapping's target and its answers back to `from`. */
  #back(mapping: Mapping, from: RemoteInfo): Promise<Socket> {
    const key = `${from.address}:${from.port}`;
    let back = mapping.backs.get(key);
    if (!back) {
      back = this.#bind().then((socket) => {
        socket.on("message", (msg) => {
          if (mapping.dead || this.#down || this.#closed) {
            this.packets.dropped++;
            return;
          }
          this.packets.relayed++;
          mapping.front.send(msg, from.port, from.address);
        });
        return socket;
      });
      mapping.backs.set(key, back);
    }
    return back;
  }

  #bind(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = createSocket("udp4");
      socket.once("error", reject);
      socket.bind(0, "127.0.0.1", () => {
        socket.off("error", reject);
        socket.on("error", () => undefined);
        this.#sockets.add(socket);
        resolve(socket);
      });
    });
  }
}

/** `"address:port"` of a candidate line (`candidate:foundation component transport priority address port typ …`). */
function addressOf(line: string): string {
  const parts = line.split(" ");
  return `${parts[4] ?? ""}:${parts[5] ?? ""}`;
}
