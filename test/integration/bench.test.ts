// The benchmark's Synapse rows (`npm run bench -- --synapse`), run once here with 3 calls each so they can't rot:
// ours ↔ ours, js-sdk MatrixCall ↔ MatrixCall and both mixed, two ICE configurations, plain and encrypted rooms.
// Only that every row connects and is measured; the figures come from `npm run bench`.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { computeRatios, runInterleaved, type RowGroup, type RowResult } from "../../bench/rows.js";
import { synapseGroup } from "../../bench/synapseRows.js";
import { synapse } from "./clients.js";

let group: RowGroup;

beforeAll(async () => {
  group = await synapseGroup({ info: synapse() });
}, 180_000);

afterAll(async () => {
  await group.close();
});

describe("bench rows over Synapse", () => {
  it("measures every pairing in both ICE configurations and both room kinds, with the ratios", async () => {
    const order: string[] = [];
    const results: RowResult[] = await runInterleaved([group], {
      calls: 3,
      warmup: 0,
      onCall: (_, row) => order.push(row.id),
    });
    const ids = [];
    for (const kind of ["plain", "encrypted"]) {
      for (const ice of ["turn", "none"]) {
        for (const pairing of ["ours-ours", "js-js", "ours-js", "js-ours"]) {
          ids.push(`synapse.${kind}.${ice}.${pairing}`);
        }
      }
    }
    expect(results.map((r) => r.id)).toEqual(ids);
    // Interleaved: A, B, C, …, A, B, C, …
    expect(order).toEqual([...ids, ...ids, ...ids]);
    for (const r of results) {
      expect(r.samples, r.id).toHaveLength(3);
      expect(r.p50, r.id).toBeGreaterThan(0);
      expect(r.cpuP50, r.id).toBeGreaterThan(0);
      expect(
        r.phases.map(([name]) => name),
        r.id,
      ).toEqual(expect.arrayContaining(["caller.state.connected", "callee.state.connected"]));
    }
    for (const r of results.filter((x) => x.id.endsWith("ours-ours"))) {
      expect(
        r.phases.map(([name]) => name),
        r.id,
      ).toEqual(expect.arrayContaining(["caller.send.m.call.invite", "callee.recv.m.call.invite"]));
    }
    const ratios = computeRatios([group], results);
    expect(ratios).toHaveLength(16);
    const target = ratios.filter((r) => r.target !== undefined);
    expect(target.map((r) => r.numerator)).toEqual(ids.filter((id) => id.endsWith("ours-ours")));
  }, 600_000);
});
