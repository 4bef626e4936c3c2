// The Synapse rows: calls over a real Synapse through the matrix-js-sdk port — ours ↔ ours, matrix-js-sdk's own
// MatrixCall ↔ MatrixCall, and the two mixed — in two ICE configurations and in a plain and an encrypted room.
import { CallEvent } from "matrix-js-sdk";
import {
  CallErrorCode as JsCallErrorCode,
  CallState as JsCallState,
  createNewMatrixCall,
  type MatrixCall,
} from "matrix-js-sdk/lib/webrtc/call.js";
import { CallEventHandlerEvent } from "matrix-js-sdk/lib/webrtc/callEventHandler.js";
import {
  createRoom,
  registerUser,
  startClient,
  waitFor,
  waitForDevice,
  type TestClient,
} from "../test/integration/clients.js";
import { installJsSdkCallGlobals } from "../test/integration/jsSdkCall.js";
import { provisionSynapse, startSynapse, type SynapseInfo } from "../test/integration/synapse.js";
import { CallType, VoIP, type WebRTCDelegate } from "../src/index.js";
import { createNodeDelegate } from "../src/node/index.js";
import { instrumentDelegate, instrumentPort, PhaseRecorder } from "./instrument.js";
import { BENCH_MEDIA } from "./localRows.js";
import { measureCall, type BenchRatio, type BenchRow, type HangUp, type RowGroup } from "./rows.js";

/** The two ICE configurations. */
export const ICE_CONFIGS = {
  /** What the homeserver hands out: here a TURN URI on loopback where nothing answers (a TURN server down or slow). */
  turn: "served TURN (nothing answers)",
  /** No ICE servers at all: host candidates only. */
  none: "no ICE servers",
} as const;
type IceConfig = keyof typeof ICE_CONFIGS;

const PAIRINGS = {
  "ours-ours": "ours → ours",
  "js-js": "js-sdk → js-sdk",
  "ours-js": "ours → js-sdk",
  "js-ours": "js-sdk → ours",
} as const;
type Pairing = keyof typeof PAIRINGS;
type RoomKind = "plain" | "encrypted";

/** Options of {@link synapseGroup}. */
export interface SynapseGroupOptions {
  /** A running Synapse (the integration suite's); without it one is provisioned and started, and stopped on close. */
  info?: SynapseInfo;
}

/** A caller side: places a video call in a room and returns how to hang it up. */
type Place = (roomId: string, invitee: string) => Promise<HangUp>;

/**
 * Registers four accounts (two run our VoIP, two matrix-js-sdk's MatrixCall), makes one room per pairing, plain and
 * encrypted, and returns the rows: every pairing × ICE configuration × room kind.
 */
export async function synapseGroup(opts: SynapseGroupOptions = {}): Promise<RowGroup> {
  const server = opts.info === undefined ? await startSynapse(await provisionSynapse()) : undefined;
  const info = opts.info ?? server!;
  const rec = new PhaseRecorder();
  const ice = { config: "turn" as IceConfig };
  const clients: TestClient[] = [];
  const voips: VoIP[] = [];
  const jsCalls: MatrixCall[] = [];
  try {
    const [ourA, ourB, jsA, jsB] = await Promise.all(
      ["oura", "ourb", "jsa", "jsb"].map((name) => registerUser(name, info)),
    );
    // Our accounts' js-sdk clients are made before the globals MatrixCall needs exist: they run no CallEventHandler.
    const ourCaller = await startClient(ourA!, { info });
    clients.push(ourCaller);
    const ourCallee = await startClient(ourB!, { info });
    clients.push(ourCallee);
    installJsSdkCallGlobals(createNodeDelegate(BENCH_MEDIA).mediaDevices);
    const jsCaller = await startClient(jsA!, { info });
    clients.push(jsCaller);
    const jsCallee = await startClient(jsB!, { info });
    clients.push(jsCallee);
    if (ourCaller.client.callEventHandler !== undefined || jsCaller.client.callEventHandler === undefined) {
      throw new Error("bench: MatrixCall must run on the js-sdk accounts only");
    }
    for (const js of [jsCaller, jsCallee]) {
      await waitFor("js-sdk to fetch the TURN servers", () => js.client.getTurnServers().length > 0);
      const served = js.client.getTurnServers.bind(js.client);
      js.client.getTurnServers = () => (ice.config === "none" ? [] : served());
    }

    const ours = (tc: TestClient, side: string): VoIP => {
      const base = createNodeDelegate(BENCH_MEDIA);
      const delegate: WebRTCDelegate = {
        ...base,
        createPeerConnection: (config) =>
          base.createPeerConnection(ice.config === "none" ? { ...config, iceServers: [] } : config),
      };
      const voip = new VoIP(instrumentPort(tc.port, side, rec), instrumentDelegate(delegate, side, rec));
      voips.push(voip);
      return voip;
    };
    const follow = (call: MatrixCall, side: string): MatrixCall => {
      jsCalls.push(call);
      call.on(CallEvent.State, (state) => {
        rec.mark(`${side}.state.${state}`);
      });
      call.on(CallEvent.Error, () => {
        rec.mark(`${side}.error`);
      });
      return call;
    };

    const ourVoipCaller = ours(ourCaller, "caller");
    const ourVoipCallee = ours(ourCallee, "callee");
    ourVoipCallee.on("incomingCall", (call) => {
      rec.mark("callee.incomingCall");
      void call.answer().catch(() => {
        rec.mark("callee.answerFailed");
      });
    });
    jsCallee.client.on(CallEventHandlerEvent.Incoming, (call) => {
      rec.mark("callee.incomingCall");
      follow(call, "callee");
      void call.answer().catch(() => {
        rec.mark("callee.answerFailed");
      });
    });
    const placeOurs: Place = async (roomId, invitee) => {
      const call = await ourVoipCaller.inviteToCall(roomId, CallType.Video, invitee);
      return () => call.hangup();
    };
    const placeJs: Place = async (roomId, invitee) => {
      const call = follow(createNewMatrixCall(jsCaller.client, roomId, { invitee })!, "caller");
      rec.mark("caller.state.fledgling");
      await call.placeVideoCall();
      return () => {
        call.hangup(JsCallErrorCode.UserHangup, false);
      };
    };
    const ends: Record<Pairing, { caller: TestClient; callee: TestClient; place: Place }> = {
      "ours-ours": { caller: ourCaller, callee: ourCallee, place: placeOurs },
      "js-js": { caller: jsCaller, callee: jsCallee, place: placeJs },
      "ours-js": { caller: ourCaller, callee: jsCallee, place: placeOurs },
      "js-ours": { caller: jsCaller, callee: ourCallee, place: placeJs },
    };

    const rows: BenchRow[] = [];
    const ratios: BenchRatio[] = [];
    for (const kind of ["plain", "encrypted"] as RoomKind[]) {
      const roomOf = {} as Record<Pairing, string>;
      for (const pairing of Object.keys(PAIRINGS) as Pairing[]) {
        const { caller, callee } = ends[pairing];
        roomOf[pairing] = await createRoom(caller, [callee], { encrypted: kind === "encrypted" });
        if (kind === "encrypted") {
          await waitForDevice(caller.client, callee.user.userId, callee.deviceId);
          await waitForDevice(callee.client, caller.user.userId, caller.deviceId);
        }
      }
      for (const config of Object.keys(ICE_CONFIGS) as IceConfig[]) {
        const id = (pairing: Pairing): string => `synapse.${kind}.${config}.${pairing}`;
        for (const pairing of Object.keys(PAIRINGS) as Pairing[]) {
          const { callee, place } = ends[pairing];
          rows.push({
            id: id(pairing),
            label: `Synapse, ${kind} room, ${ICE_CONFIGS[config]}: ${PAIRINGS[pairing]}`,
            call: () => {
              ice.config = config;
              return measureCall(rec, () => place(roomOf[pairing], callee.user.userId));
            },
          });
        }
        const where = `${kind}, ${ICE_CONFIGS[config]}`;
        ratios.push(
          {
            name: `${where}: ours→ours / js-sdk→js-sdk`,
            numerator: id("ours-ours"),
            denominator: id("js-js"),
            target: 1 / 3,
          },
          {
            name: `${where}: ours→js-sdk / js-sdk→js-sdk`,
            numerator: id("ours-js"),
            denominator: id("js-js"),
          },
          {
            name: `${where}: js-sdk→ours / js-sdk→js-sdk`,
            numerator: id("js-ours"),
            denominator: id("js-js"),
          },
          {
            name: `${where}: CPU ours→ours / js-sdk→js-sdk`,
            numerator: id("ours-ours"),
            denominator: id("js-js"),
            cpu: true,
          },
        );
      }
    }
    return {
      name: "synapse",
      description: `Synapse on 127.0.0.1 through the matrix-js-sdk port (js-sdk 37.5 clients, Rust crypto); rooms plain and encrypted (the invite as m.room.encrypted); TURN URIs served: ${info.turnUris.join(", ")} (no TURN server runs)`,
      rows,
      ratios,
      timelines: ["synapse.plain.turn.ours-ours", "synapse.plain.none.ours-ours"],
      close: () => closeAll(),
    };
  } catch (error) {
    await closeAll();
    throw error;
  }

  async function closeAll(): Promise<void> {
    for (const call of jsCalls) {
      if (call.state !== JsCallState.Ended) {
        call.hangup(JsCallErrorCode.UserHangup, true);
      }
    }
    await Promise.allSettled(voips.map((v) => v.dispose()));
    for (const c of clients) {
      c.client.getMediaHandler().stopAllStreams();
      c.stop();
    }
    await server?.stop();
  }
}
