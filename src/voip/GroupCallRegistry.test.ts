// The backend runtime hook and the one to-device dispatch point, with a recording runtime.
import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/Logger.js";
import type { GroupCallBackendContext, GroupCallBackendRuntime } from "../group/backendRuntime.js";
import { MeshBackend } from "../group/CallBackend.js";
import { GroupEventType } from "../matrix/eventTypes.js";
import type { ToDeviceEvent } from "../matrix/MatrixClientPort.js";
import { LocalHomeserver, ManualClock } from "../testing/index.js";
import { createNodeDelegate } from "../node/index.js";
import { GroupCallRegistry } from "./GroupCallRegistry.js";
import { resolveTimeouts } from "../call/timeouts.js";
import { cryptoRandom } from "../core/random.js";

async function setup(fail = false) {
  const clock = new ManualClock();
  const hs = new LocalHomeserver({ clock });
  const client = hs.createClient("@alice:local", "ALICE");
  const roomId = await hs.createRoom({ creator: "@alice:local", members: ["@bob:local"] });
  const log: string[] = [];
  const received: [string, ToDeviceEvent][] = [];
  const contexts: GroupCallBackendContext[] = [];
  const registry = new GroupCallRegistry({
    client,
    delegate: createNodeDelegate(),
    clock,
    random: cryptoRandom,
    logger: silentLogger,
    timeouts: resolveTimeouts(),
    sessionId: "SESSION",
    options: {
      keyRingSize: 16,
      enableSFUE2EEKeyRatcheting: false,
      allowPlaintextKeys: false,
      dialect: "famedly-v2",
      useUnprotectedPerDeviceStateKeys: false,
    },
    createRuntime: (ctx): GroupCallBackendRuntime => {
      contexts.push(ctx);
      return {
        onEnter: () => {
          log.push(`onEnter ${ctx.state()}`);
          return Promise.resolve();
        },
        onLeave: () => {
          log.push(`onLeave ${ctx.state()}`);
          return Promise.resolve();
        },
        onParticipantsChanged: (change) => {
          log.push(
            `${ctx.groupCallId === "elsewhere" ? "elsewhere " : ""}changed +${change.joined.map((m) => m.deviceId).join(",")} -${change.left.map((m) => m.deviceId).join(",")} =${change.current.length}`,
          );
        },
        onToDevice: (event) => {
          received.push([ctx.groupCallId, event]);
          if (fail) {
            throw new Error("backend bug");
          }
        },
        dispose: () => {
          log.push("dispose");
        },
      };
    },
    prefetchIceServers: () => undefined,
    emitIncoming: () => undefined,
    emitEnded: () => undefined,
  });
  const unsubscribe = client.onSync((batch) => {
    for (const room of batch.rooms) {
      registry.handleRoomState(room);
    }
  });
  return { hs, clock, client, roomId, registry, log, received, contexts, unsubscribe };
}

function toDevice(content: Record<string, unknown>): ToDeviceEvent {
  return {
    type: "com.famedly.call.member.invite",
    sender: "@bob:local",
    content,
    encrypted: true,
    senderDevice: "BOB",
  };
}

describe("GroupCallRegistry: backend runtime hook", () => {
  it("calls the runtime in lifecycle order with the call's members", async () => {
    const { hs, clock, client, roomId, registry, log, contexts, unsubscribe } = await setup();
    const group = await registry.fetchOrCreate(roomId, roomId, new MeshBackend(), {
      application: "m.call",
      scope: "m.room",
      preShareKey: false,
    });
    await group.enter();
    await hs.flush();
    await clock.advance(0);
    expect(contexts[0]?.membershipOf(client.userId, client.deviceId)?.membershipId).toBe("SESSION");
    await group.leave();
    expect(log).toEqual(["onEnter entered", "changed +ALICE - =1", "onLeave leaving", "dispose"]);
    unsubscribe();
    await hs.close();
  });

  it("routes to-device events by room_id + conf_id (famedly) or session.call_id (element); drops the rest", async () => {
    const { hs, roomId, registry, received, unsubscribe } = await setup(true);
    const opts = { application: "m.call", scope: "m.room", preShareKey: false };
    await registry.fetchOrCreate("one", roomId, new MeshBackend(), opts);
    await registry.fetchOrCreate("two", roomId, new MeshBackend(), opts);
    const events = [
      toDevice({ room_id: roomId, conf_id: "two", call_id: "x" }),
      toDevice({ room_id: roomId, conf_id: "unknown" }),
      toDevice({ conf_id: "one" }),
      toDevice({ room_id: "!other:local", conf_id: "one" }),
      toDevice({ room_id: roomId, session: { call_id: "one", application: "m.call", scope: "m.room" } }),
      toDevice({ room_id: roomId, conf_id: "one" }),
    ];
    await expect(registry.handleToDevice(events)).resolves.toBeUndefined();
    expect(received.map(([callId, event]) => [callId, event])).toEqual([
      ["two", events[0]],
      ["one", events[4]],
      ["one", events[5]],
    ]);
    await registry.dispose();
    unsubscribe();
    await hs.close();
  });

  it("a state change re-reads only what it touched: a membership of another call leaves this one alone", async () => {
    const { hs, clock, roomId, registry, log, unsubscribe } = await setup();
    const bob = hs.createClient("@bob:local", "BOB");
    await registry.fetchOrCreate(roomId, roomId, new MeshBackend(), {
      application: "m.call",
      scope: "m.room",
      preShareKey: false,
    });
    await hs.flush();
    const entry = (callId: string) => ({
      call_id: callId,
      device_id: "BOB",
      expires_ts: clock.now() + 60_000,
      foci_active: [{ type: "mesh" }],
    });
    await bob.sendStateEvent(roomId, GroupEventType.Member, bob.userId, {
      memberships: [entry("elsewhere")],
    });
    await hs.flush();
    expect(log).toEqual(["elsewhere changed +BOB - =1"]); // the new call's runtime, at its creation
    await bob.sendStateEvent(roomId, GroupEventType.Member, bob.userId, {
      memberships: [entry("elsewhere"), entry(roomId)],
    });
    await hs.flush();
    // "elsewhere" sees bob's entry re-published (updated, no join); this call sees bob join.
    expect(log).toEqual(["elsewhere changed +BOB - =1", "elsewhere changed + - =1", "changed +BOB - =1"]);
    expect([...registry.sessions.keys()].sort()).toEqual([`${roomId}:${roomId}`, `${roomId}:elsewhere`]);
    await registry.dispose();
    unsubscribe();
    await hs.close();
  });
});
