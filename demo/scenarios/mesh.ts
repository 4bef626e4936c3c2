// The mesh scenario: N participants of a mesh group call in an encrypted room (Olm-encrypted to-device signalling),
// real WebRTC between every pair; one leaves, the others drop its legs; it rejoins. The same steps run on the
// in-process homeserver and between accounts on a real one: the environment (demo/env) supplies the clients.
import {
  CallState,
  GroupCallState,
  MeshBackend,
  VoIP,
  type CallSession,
  type GroupCallSession,
  type MatrixClientPort,
} from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import type { MeshEnv } from "../env/local.js";
import type { DemoSummary, PairSummary, ScenarioOutcome, StepFailure } from "../summary.js";
import { sleep, waitFor } from "./wait.js";
import { StepScenario, type StepScenarioOptions } from "./steps.js";

interface Member {
  id: string;
  userId: string;
  deviceId: string;
  voip: VoIP;
  states: string[];
  group?: GroupCallSession;
}

/**
 * `--scenario mesh`: one member per client of the environment. {@link MeshScenario.run} never throws; it disposes
 * the members' VoIPs, the caller closes the environment.
 */
export class MeshScenario extends StepScenario {
  readonly #env: MeshEnv;
  readonly #members: Member[] = [];
  /** `a|b` (a before b) → when the pair was connected on both sides, ms after everyone called enter(). */
  readonly #connectedAt = new Map<string, number>();
  #pairs: PairSummary[] = [];
  #startedAt = 0;
  #setupMs = 0;

  public constructor(env: MeshEnv, opts: Omit<StepScenarioOptions, "participants">) {
    super({ ...opts, participants: env.members.length }, 20_000);
    this.#env = env;
  }

  /** The result so far. */
  public override snapshot(failure?: StepFailure): ScenarioOutcome {
    const expected = (this.n * (this.n - 1)) / 2;
    const pairsConnected = this.#pairs.filter((p) => p.connectedMs !== undefined).length;
    const flowing = this.#pairs.every((p) => p.bytesAtoB > 0 && p.bytesBtoA > 0);
    const summary: DemoSummary = {
      scenario: "mesh",
      ok: failure === undefined && this.step === "done" && pairsConnected === expected && flowing,
      setupMs: Math.round(this.#setupMs),
      participants: this.#members.map((m) => ({
        userId: m.userId,
        deviceId: m.deviceId,
        states: m.states,
        audioBytesReceived: this.#pairs
          .filter((p) => p.a === m.id || p.b === m.id)
          .reduce((sum, p) => sum + (p.a === m.id ? p.bytesBtoA : p.bytesAtoB), 0),
        videoFramesReceived: 0,
      })),
      pairsConnected,
      pairs: this.#pairs,
      events: this.timeline.events(),
    };
    return failure === undefined ? { summary } : { summary, failure };
  }

  /** Disposes every VoIP (each leaves its group call). Idempotent. */
  public override async dispose(): Promise<void> {
    await Promise.allSettled(this.#members.map((m) => m.voip.dispose()));
  }

  protected async steps(): Promise<void> {
    this.timeline.add(
      "demo",
      `encrypted room ${this.#env.roomId}, call ${this.#env.callId}, ${this.n} participants, audio only`,
    );
    this.#env.members.forEach((client) => this.#members.push(this.#member(client)));
    this.#startedAt = this.timeline.elapsed();
    await this.doStep("everyone enters at once", async () => {
      await Promise.all(this.#members.map((m) => this.#join(m)));
      return `${this.#members.length} entered`;
    });
    await this.doStep("every pair connected", async () => {
      await this.#untilFullMesh(this.#members);
      this.#setupMs = this.timeline.elapsed() - this.#startedAt;
      return `full mesh of ${this.n} after ${Math.round(this.#setupMs)} ms`;
    });
    await this.doStep("audio flows both ways on every pair", async () => {
      await sleep(500);
      this.#pairs = await this.#measurePairs(this.#members);
      for (const p of this.#pairs) {
        this.timeline.add(
          "demo",
          `${p.a} ⇄ ${p.b}: connected at ${p.connectedMs ?? "-"} ms, ${p.bytesAtoB} / ${p.bytesBtoA} audio bytes`,
        );
      }
      const dry = this.#pairs.filter((p) => p.bytesAtoB === 0 || p.bytesBtoA === 0);
      if (dry.length > 0) {
        throw new Error(`no audio on ${dry.map((p) => `${p.a} ⇄ ${p.b}`).join(", ")}`);
      }
      return `${this.#pairs.length} pairs carry audio both ways`;
    });
    const leaver = this.#members.at(-1);
    if (leaver === undefined) {
      return;
    }
    await this.doStep(`${leaver.id} leaves`, async () => {
      await leaver.group?.leave();
      const stayed = this.#members.filter((m) => m !== leaver);
      await waitFor(
        () => stayed.every((m) => !m.group?.calls.some((leg) => leg.remoteUserId === leaver.userId)),
        "the others to drop their legs to the leaver",
        this.stepTimeoutMs,
      );
      return `the other ${stayed.length} dropped their legs to it`;
    });
    await this.doStep(`${leaver.id} rejoins`, async () => {
      await this.#join(leaver);
      await this.#untilFullMesh(this.#members);
      return "full mesh again";
    });
  }

  #member(client: MatrixClientPort): Member {
    const { userId, deviceId } = client;
    const voip = new VoIP(client, createNodeDelegate({ video: false }));
    return { id: `${userId}:${deviceId}`, userId, deviceId, voip, states: [] };
  }

  async #join(member: Member): Promise<void> {
    const group = await member.voip.fetchOrCreateGroupCall(
      this.#env.callId,
      this.#env.roomId,
      new MeshBackend(),
    );
    if (member.group !== group) {
      member.group = group;
      member.states.push(group.state);
      group.on("stateChanged", (state) => member.states.push(state));
      group.on("callAdded", (leg) => {
        this.timeline.add(
          member.id,
          `leg ${leg.direction} ${leg.remoteUserId ?? "?"}:${leg.remoteDeviceId ?? "?"}`,
        );
        leg.on("stateChanged", (state) => {
          if (state === CallState.Connected) {
            this.#onConnected(member, leg);
          }
        });
      });
    }
    await group.enter();
  }

  #onConnected(member: Member, leg: CallSession): void {
    const other = `${leg.remoteUserId ?? ""}:${leg.remoteDeviceId ?? ""}`;
    this.timeline.add(member.id, `connected to ${other}`);
    const [a, b] = [member.id, other].sort();
    const key = `${a}|${b}`;
    const peer = this.#members.find((m) => m.id === other);
    if (!this.#connectedAt.has(key) && peer && legOf(peer, member) !== undefined) {
      this.#connectedAt.set(key, Math.round(this.timeline.elapsed() - this.#startedAt));
    }
  }

  async #untilFullMesh(members: readonly Member[]): Promise<void> {
    await waitFor(
      () => members.every((x) => members.every((y) => x === y || legOf(x, y) !== undefined)),
      "every pair to be connected on both sides",
      this.stepTimeoutMs,
    );
  }

  async #measurePairs(members: readonly Member[]): Promise<PairSummary[]> {
    const pairs: PairSummary[] = [];
    for (const [i, x] of members.entries()) {
      for (const y of members.slice(i + 1)) {
        const [a, b] = x.id < y.id ? [x, y] : [y, x];
        const ab = legOf(b, a);
        const ba = legOf(a, b);
        const connectedMs = this.#connectedAt.get(`${a.id}|${b.id}`);
        pairs.push({
          a: a.id,
          b: b.id,
          ...(connectedMs !== undefined ? { connectedMs } : {}),
          // bytes a → b: what b received from a on its leg to a.
          bytesAtoB: ab ? (await ab.getStats()).audio.bytesReceived : 0,
          bytesBtoA: ba ? (await ba.getStats()).audio.bytesReceived : 0,
        });
      }
    }
    return pairs;
  }
}

/** `from`'s connected leg to `to`. */
function legOf(from: Member, to: Member): CallSession | undefined {
  return from.group?.state === GroupCallState.Entered
    ? from.group.calls.find(
        (leg) =>
          leg.remoteUserId === to.userId &&
          leg.remoteDeviceId === to.deviceId &&
          leg.state === CallState.Connected,
      )
    : undefined;
}
