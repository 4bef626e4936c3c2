// `--scenario sfu --livekit`: the SFU scenario with real media. A LiveKit server (built with Go, cached) runs on
// 127.0.0.1; N members enter the group call over the in-process homeserver, our key manager distributes their media
// keys, and each member's @livekit/rtc-node participant publishes a tone and a video, end-to-end encrypted with those
// keys only. Every member must decode every other; then the last one leaves the group call (but stays in the LiveKit
// room): the others rotate and keep decoding each other, the leaver decodes nothing new.
import { EncryptionState } from "@livekit/rtc-node";
import { SfuCall, type SfuMember } from "../livekit/sfuCall.js";
import { systemClock } from "../../src/index.js";
import { provisionLiveKit, startLiveKit, type LiveKitServer } from "../../test/sfu/livekitServer.js";
import type { DemoSummary, ScenarioOutcome, StepFailure } from "../summary.js";
import { SFU_DEMO_TIMEOUTS } from "./sfu.js";
import { waitFor } from "./wait.js";
import { StepScenario, type StepScenarioOptions } from "./steps.js";

/** `--scenario sfu --livekit --participants N`. {@link SfuMediaScenario.run} never throws. */
export class SfuMediaScenario extends StepScenario {
  #server: LiveKitServer | undefined;
  #call: SfuCall | undefined;
  #leaver: SfuMember | undefined;
  #setupMs = 0;

  public constructor(opts: StepScenarioOptions) {
    super(opts, 15_000);
  }

  /** The result so far: per member the frames it decoded from the others and the key index it encrypts with. */
  public override snapshot(failure?: StepFailure): ScenarioOutcome {
    const members = this.#call?.members ?? [];
    const staying = members.filter((m) => m !== this.#leaver);
    const keys: Record<string, [string, number][]> = {};
    for (const member of members) {
      keys[member.id] = members.flatMap((m): [string, number][] => {
        const index = member.bridge.keyIndex(m.id);
        return index === undefined ? [] : [[m.id, index]];
      });
    }
    const consistent = staying.length > 0 && staying.every((m) => this.#holdsCurrentKeys(m, staying));
    const summary: DemoSummary = {
      scenario: "sfu",
      ok: failure === undefined && this.step === "done" && consistent,
      setupMs: Math.round(this.#setupMs),
      participants: members.map((m) => {
        const [userId, deviceId] = splitId(m.id);
        const from = members.filter((o) => o !== m).map((o) => m.media.from(o.id));
        return {
          userId,
          deviceId,
          states: [m.group.state],
          audioBytesReceived: 0,
          videoFramesReceived: from.reduce((n, r) => n + r.colourFrames, 0),
          audioFramesDecoded: from.reduce((n, r) => n + r.tonalFrames, 0),
          keyIndex: m.bridge.keyIndex(m.id) ?? -1,
        };
      }),
      keysConsistent: consistent,
      keys,
      events: this.timeline.events(),
    };
    return failure === undefined ? { summary } : { summary, failure };
  }

  /** Leaves LiveKit and Matrix, stops the server. Idempotent. */
  public override async dispose(): Promise<void> {
    const call = this.#call;
    this.#call = undefined;
    await call?.dispose().catch(() => undefined);
    await this.#server?.stop();
    this.#server = undefined;
  }

  protected async steps(): Promise<void> {
    await this.doStep("LiveKit server", async () => {
      const bin = await provisionLiveKit();
      this.#server = await startLiveKit(bin);
      return `livekit-server v1.13.5 on ${this.#server.wsUrl} (127.0.0.1 only)`;
    });
    const call = new SfuCall(this.#server!, systemClock, this.n, { timeouts: SFU_DEMO_TIMEOUTS });
    this.#call = call;
    await call.setup();
    const started = this.timeline.elapsed();
    for (let i = 0; i < this.n; i++) {
      await this.doStep(`${call.idOf(i)} joins`, async () => {
        const member = await call.join(i);
        const last = new Map<string, EncryptionState>();
        member.bridge.on("encryptionStateChanged", (identity, state) => {
          if (identity !== member.id && last.get(identity) !== state) {
            last.set(identity, state);
            this.timeline.add(member.id, `media of ${identity}: ${EncryptionState[state] ?? String(state)}`);
          }
        });
        return "entered the group call, connected to LiveKit with E2EE, publishing tone and video";
      });
    }
    await this.doStep("every member decodes every other member", async () => {
      await this.#untilAllDecode(call.members, "decrypted tone and video from everyone");
      this.#setupMs = this.timeline.elapsed() - started;
      return `after ${Math.round(this.#setupMs)} ms`;
    });
    const leaver = call.members.at(-1);
    if (leaver === undefined || call.members.length < 3) {
      return;
    }
    await this.doStep(`${leaver.id} leaves the group call (stays in the LiveKit room)`, async () => {
      const staying = call.members.filter((m) => m !== leaver);
      const before = new Map(staying.map((m) => [m.id, m.bridge.keyIndex(m.id)]));
      await call.leave(leaver);
      this.#leaver = leaver;
      await waitFor(
        () =>
          staying.every(
            (m) => m.bridge.keyIndex(m.id) !== before.get(m.id) && this.#holdsCurrentKeys(m, staying),
          ),
        "every remaining member to encrypt with a new key the others hold",
        this.stepTimeoutMs,
      );
      await this.#untilAllDecode(staying, "media with the new keys", true);
      await waitFor(
        () => staying.every((m) => leaver.bridge.encryptionState(m.id) === EncryptionState.MISSING_KEY),
        "the leaver to miss the new keys",
        this.stepTimeoutMs,
      );
      return `the others use keys ${staying.map((m) => `#${m.bridge.keyIndex(m.id) ?? "?"}`).join(", ")}; the leaver reports MISSING_KEY`;
    });
  }

  #holdsCurrentKeys(member: SfuMember, members: SfuMember[]): boolean {
    return members.every(
      (o) =>
        o.bridge.keyIndex(o.id) !== undefined && member.bridge.keyIndex(o.id) === o.bridge.keyIndex(o.id),
    );
  }

  async #untilAllDecode(members: SfuMember[], what: string, more = false): Promise<void> {
    const base = new Map(
      members.flatMap((r) => members.map((s) => [`${r.id}<${s.id}`, r.media.from(s.id)] as const)),
    );
    await waitFor(
      () =>
        members.every((r) =>
          members.every((s) => {
            if (r === s) {
              return true;
            }
            const now = r.media.from(s.id);
            const was = more ? base.get(`${r.id}<${s.id}`)! : { tonalFrames: 0, colourFrames: 0 };
            return now.tonalFrames >= was.tonalFrames + 20 && now.colourFrames >= was.colourFrames + 5;
          }),
        ),
      what,
      this.stepTimeoutMs,
    );
  }
}

function splitId(id: string): [string, string] {
  const at = id.lastIndexOf(":");
  return [id.slice(0, at), id.slice(at + 1)];
}
