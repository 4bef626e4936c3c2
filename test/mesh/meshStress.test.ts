// Repeated 6-way meshes in one process (audio only): 15 peer connections set up at once, three times over. The
// crash this guards against: reading pc.localDescription in @roamhq/wrtc while many connections are being set up
// (node-webrtc issue 696); the description returned by createOffer/createAnswer is sent instead.
import { existsSync, readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { CallState } from "../../src/index.js";
import { deferredCleanup, until } from "../helpers/calls.js";
import { meshWorld, untilFullMesh } from "../helpers/mesh.js";

const defer = deferredCleanup();

/** Open file descriptors of this process (Linux), or undefined where /proc is not there. */
function openFds(): number | undefined {
  return existsSync("/proc/self/fd") ? readdirSync("/proc/self/fd").length : undefined;
}

/** What one leaked 6-way mesh would add at the least: 15 connections × 2 sides × one socket each. */
const LEAKED_MESH_FDS = 30;

describe("mesh stress", () => {
  it("three 6-way meshes in a row each connect every pair, and leave nothing behind", async () => {
    const fdsAfter: (number | undefined)[] = [];
    for (let round = 0; round < 3; round++) {
      const users = Array.from({ length: 6 }, (_, i) => `@s${i}:local`);
      const w = await meshWorld(users);
      defer(() => w.close());
      const members = await Promise.all(users.map((u) => w.add(u)));
      await Promise.all(members.map((m) => m.group.enter()));
      await untilFullMesh(members, 60_000);
      for (const m of members) {
        expect(m.group.calls.filter((leg) => leg.state === CallState.Connected)).toHaveLength(5);
      }
      const legs = members.flatMap((m) => [...m.group.calls]);
      await Promise.all(members.map((m) => m.group.leave()));
      await until(() => legs.every((leg) => leg.state === CallState.Ended), "every leg ended");
      expect(members.every((m) => m.voip.calls.size === 0)).toBe(true);
      fdsAfter.push(openFds());
    }
    // Every leg's peer connection closed its sockets: the rounds after the first open no more descriptors than it.
    const [first, ...later] = fdsAfter;
    if (first !== undefined) {
      for (const fds of later) {
        expect(fds).toBeLessThan(first + LEAKED_MESH_FDS);
      }
    }
  }, 180_000);
});
