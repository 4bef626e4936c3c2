import { describe, expect, it } from "vitest";
import { silentLogger } from "../core/Logger.js";
import type { DelayedEvent, MatrixClientPort } from "../matrix/MatrixClientPort.js";
import { ManualClock } from "../testing/ManualClock.js";
import { DelayedLeave } from "./DelayedLeave.js";

const ROOM = "!room:local";
const TYPE = "com.famedly.call.member";
const KEY = "@alice:local";

function delayed(delayId: string, stateKey = KEY): DelayedEvent {
  return { delayId, roomId: ROOM, type: TYPE, stateKey, delayMs: 18_000, runningSince: 0, content: {} };
}

/** A port whose listing answers only after the new delayed event is on the server (and so lists it too). */
function overlappingPort(sendFails = false) {
  const started: string[] = [];
  const cancelled: string[] = [];
  let sent: () => void = () => undefined;
  const sentOnServer = new Promise<void>((resolve) => {
    sent = resolve;
  });
  const port = {
    sendStateEvent: () => {
      started.push("send");
      sent();
      return sendFails
        ? Promise.reject(new Error("refused"))
        : Promise.resolve({ eventId: "", delayId: "new" });
    },
    listDelayedEvents: async () => {
      started.push("list");
      await sentOnServer;
      const listed = [delayed("stale"), delayed("other key", "@bob:local")];
      return sendFails ? listed : [...listed, delayed("new")];
    },
    updateDelayedEvent: (delayId: string, action: string) => {
      cancelled.push(`${action} ${delayId}`);
      return Promise.resolve();
    },
  };
  return { port: port as unknown as MatrixClientPort, started, cancelled };
}

function leaveFor(client: MatrixClientPort, clock = new ManualClock()): DelayedLeave {
  return new DelayedLeave({
    client,
    clock,
    log: silentLogger,
    roomId: ROOM,
    delayMs: 18_000,
    restartMs: 4_000,
  });
}

describe("DelayedLeave.schedule", () => {
  it("lists stale delayed leaves while it sends the new one, and cancels the stale ones only", async () => {
    const { port, started, cancelled } = overlappingPort();
    const clock = new ManualClock();
    const leave = leaveFor(port, clock);
    await leave.schedule(KEY, { memberships: [] });
    expect(started).toEqual(["list", "send"]);
    expect(cancelled).toEqual(["cancel stale"]);
    expect(leave.delayId).toBe("new");
    leave.forget();
    expect(clock.pendingTimers()).toBe(0);
  });

  it("still cancels the stale ones when the new one is refused, then rejects", async () => {
    const { port, cancelled } = overlappingPort(true);
    const leave = leaveFor(port);
    await expect(leave.schedule(KEY, { memberships: [] })).rejects.toThrow("refused");
    expect(cancelled).toEqual(["cancel stale"]);
    expect(leave.delayId).toBeUndefined();
  });
});
