// The SFU scenario: N participants of a LiveKit group call exchange end-to-end media keys over an in-process
// homeserver (encrypted room, Olm-encrypted to-device); one leaves, the others rotate; it rejoins. No media: that
// is the LiveKit SDK's job; the keys are what the library delivers to it.
import {
  GroupCallState,
  LiveKitBackend,
  VoIP,
  type CallTimeouts,
  type GroupCallSession,
} from "../../src/index.js";
import { createNodeDelegate } from "../../src/node/index.js";
import { LocalHomeserver, RecordingKeyProvider } from "../../src/testing/index.js";
import type { DemoSummary, ScenarioOutcome, StepFailure } from "../summary.js";
import { waitFor } from "./wait.js";
import { StepScenario, type StepScenarioOptions } from "./steps.js";

/** Key timings of the demo: the reference's, scaled down so that a rotation takes about a second. */
export const SFU_DEMO_TIMEOUTS: Partial<CallTimeouts> = {
  makeKeyOnLeaveDelayMs: 400,
  useKeyDelayMs: 400,
  makeKeyOnJoinDelayMs: 800,
};

const CALL_ID = "demo-sfu-call";

interface Member {
  id: string;
  userId: string;
  deviceId: string;
  voip: VoIP;
  keys: RecordingKeyProvider;
  states: string[];
  group?: GroupCallSession;
}

/** `--scenario sfu --participants N`. {@link SfuScenario.run} never throws. */
export class SfuScenario extends StepScenario {
  readonly #hs = new LocalHomeserver();
  readonly #members: Member[] = [];
  #roomId = "";
  #startedAt = 0;
  #setupMs = 0;

  public constructor(opts: StepScenarioOptions) {
    super(opts, 8000);
  }

  /** The result so far. */
  public override snapshot(failure?: StepFailure): ScenarioOutcome {
    const inCall = this.#members.filter((m) => m.group?.state === GroupCallState.Entered);
    const keys: Record<string, [string, number][]> = {};
    for (const member of inCall) {
      keys[member.id] = member.keys.heldPairs();
    }
    const consistent = inCall.length > 0 && this.#consistent(inCall);
    const summary: DemoSummary = {
      scenario: "sfu",
      ok: failure === undefined && this.step === "done" && consistent,
      setupMs: Math.round(this.#setupMs),
      participants: this.#members.map((m) => ({
        userId: m.userId,
        deviceId: m.deviceId,
        states: m.states,
        audioBytesReceived: 0,
        videoFramesReceived: 0,
      })),
      keysConsistent: consistent,
      keys,
      events: this.timeline.events(),
    };
    return failure === undefined ? { summary } : { summary, failure };
  }

  /** Disposes every VoIP and the homeserver. Idempotent. */
  public override async dispose(): Promise<void> {
    await Promise.allSettled(this.#members.map((m) => m.voip.dispose()));
    await this.#hs.close();
  }

  protected async steps(): Promise<void> {
    this.#hs.setTurnServers(undefined);
    const users = Array.from({ length: this.n }, (_, i) => `@user${i + 1}:local`);
    this.#roomId = await this.#hs.createRoom({
      creator: users[0] ?? "@user1:local",
      members: users.slice(1),
      encrypted: true,
      powerLevels: { events: { "com.famedly.call.member": 0 } },
    });
    this.timeline.add(
      "demo",
      `encrypted room ${this.#roomId}, ${this.n} participants, key timings ${JSON.stringify(SFU_DEMO_TIMEOUTS)}`,
    );
    users.forEach((userId, i) => this.#members.push(this.#member(userId, `DEV${i + 1}`)));
    this.#startedAt = this.timeline.elapsed();
    for (const member of this.#members) {
      await this.doStep(`${member.id} joins`, () => this.#join(member));
    }
    await this.doStep("every member holds every other member's current key", async () => {
      await this.#untilConsistent();
      this.#setupMs = this.timeline.elapsed() - this.#startedAt;
      return `keys consistent after ${Math.round(this.#setupMs)} ms`;
    });
    const leaver = this.#members.at(-1);
    if (leaver === undefined) {
      return;
    }
    await this.doStep(`${leaver.id} leaves`, async () => {
      const before = new Map(this.#members.map((m) => [m.id, m.keys.currentLocalIndex]));
      await leaver.group?.leave();
      leaver.group = undefined;
      const heldBefore = leaver.keys.log.length;
      await this.#untilConsistent();
      const stayed = this.#members.filter((m) => m !== leaver);
      const rotated = stayed.filter((m) => m.keys.currentLocalIndex !== before.get(m.id));
      if (rotated.length !== stayed.length) {
        throw new Error(`only ${rotated.length} of ${stayed.length} members rotated their key`);
      }
      if (leaver.keys.log.length !== heldBefore) {
        throw new Error("the leaver received a key after it left");
      }
      return `all ${rotated.length} others use a new key; the leaver got none of them`;
    });
    await this.doStep(`${leaver.id} rejoins`, async () => {
      await this.#join(leaver);
      await this.#untilConsistent();
      return "keys consistent again";
    });
  }

  #member(userId: string, deviceId: string): Member {
    const keys = new RecordingKeyProvider();
    const client = this.#hs.createClient(userId, deviceId);
    const voip = new VoIP(client, createNodeDelegate({ keyProvider: keys }), { timeouts: SFU_DEMO_TIMEOUTS });
    return { id: `${userId}:${deviceId}`, userId, deviceId, voip, keys, states: [] };
  }

  async #join(member: Member): Promise<string> {
    const backend = new LiveKitBackend({
      livekitServiceUrl: "https://livekit-jwt.local",
      livekitAlias: "demo",
    });
    const group = await member.voip.fetchOrCreateGroupCall(CALL_ID, this.#roomId, backend);
    if (member.group !== group) {
      member.group = group;
      member.states.push(group.state);
      group.on("stateChanged", (state) => member.states.push(state));
      group.on("keysChanged", ({ participant, index }) => {
        const what = participant.isLocal
          ? `encrypting with own key #${index}`
          : `got key #${index} of ${participant.id}`;
        this.timeline.add(member.id, what);
      });
    }
    await group.enter();
    return `entered (${group.participants.length} participants)`;
  }

  #consistent(inCall: Member[]): boolean {
    for (const owner of inCall) {
      const index = owner.keys.currentLocalIndex;
      const key = index === undefined ? undefined : owner.keys.keyOf(owner.id, index);
      if (index === undefined || key === undefined) {
        return false;
      }
      for (const other of inCall) {
        const held = other.keys.keyOf(owner.id, index);
        if (other !== owner && (held === undefined || !sameBytes(held, key))) {
          return false;
        }
      }
    }
    return true;
  }

  async #untilConsistent(): Promise<void> {
    // Let pending rotations finish (a leave is debounced, a new key is used after a delay), then check.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await waitFor(
      () => this.#consistent(this.#members.filter((m) => m.group?.state === GroupCallState.Entered)),
      "every member to hold every other member's current key",
      this.stepTimeoutMs,
    );
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
