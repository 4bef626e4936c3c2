import type { Clock, TimerHandle } from "../core/Clock.js";
import type { Logger } from "../core/Logger.js";
import type { MatrixClientPort } from "../matrix/MatrixClientPort.js";

/** How long an empty or failed TURN answer is trusted before asking again. */
const NEGATIVE_CACHE_MS = 60_000;

/**
 * TURN credentials from the homeserver (`GET /voip/turnServer`, PROTOCOL D11): fetched on demand, shared by
 * concurrent callers, and refreshed when 90% of their `ttl` has passed — proactively while `isBusy()` says calls
 * are running, else on the next request. An empty `uris` list means no TURN.
 */
export class TurnCache {
  #servers: RTCIceServer[] = [];
  #expiresAt = 0;
  #refreshAt = 0;
  #inFlight: Promise<RTCIceServer[]> | undefined;
  #timer: TimerHandle | undefined;
  #disposed = false;

  public constructor(
    private readonly client: MatrixClientPort,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly isBusy: () => boolean,
  ) {}

  /** Current ICE servers (possibly empty). Never rejects. */
  public get(): Promise<RTCIceServer[]> {
    if (this.clock.now() < this.#refreshAt) {
      return Promise.resolve(this.#servers);
    }
    this.#inFlight ??= this.#fetch().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  /** Stops the refresh timer. */
  public dispose(): void {
    this.#disposed = true;
    this.clock.clearTimer(this.#timer);
  }

  async #fetch(): Promise<RTCIceServer[]> {
    const now = this.clock.now();
    try {
      const answer = await this.client.getTurnServers();
      const uris = answer?.uris.filter((uri) => uri.length > 0) ?? [];
      if (!answer || uris.length === 0) {
        this.#servers = [];
        this.#expiresAt = now + NEGATIVE_CACHE_MS;
        this.#refreshAt = this.#expiresAt;
        return this.#servers;
      }
      const server: RTCIceServer = { urls: uris };
      if (answer.username !== undefined) {
        server.username = answer.username;
      }
      if (answer.password !== undefined) {
        server.credential = answer.password;
      }
      this.#servers = [server];
      const ttlMs = Math.max(1, answer.ttl ?? 86_400) * 1000;
      this.#expiresAt = now + ttlMs;
      this.#refreshAt = now + ttlMs * 0.9;
      this.#scheduleRefresh(ttlMs * 0.9);
      return this.#servers;
    } catch (error) {
      this.log.warn("could not fetch TURN servers", { error });
      if (now >= this.#expiresAt) {
        this.#servers = [];
      }
      this.#refreshAt = now + Math.min(NEGATIVE_CACHE_MS, Math.max(0, this.#expiresAt - now));
      return this.#servers;
    }
  }

  #scheduleRefresh(delayMs: number): void {
    this.clock.clearTimer(this.#timer);
    if (this.#disposed) {
      return;
    }
    this.#timer = this.clock.setTimeout(() => {
      this.#timer = undefined;
      if (!this.#disposed && this.isBusy()) {
        void this.get();
      }
    }, delayMs);
  }
}
