import { afterEach, describe, it } from "vitest";
import { SfuWorld, expectKeysConsistent } from "../helpers/livekit.js";

let world: SfuWorld;
afterEach(async () => {
  await world.dispose();
});

describe.each([true, false])("LiveKit keys over LocalHomeserver (encrypted room: %s)", (encrypted) => {
  it.each([3, 5, 10])(
    "%i members joining one by one each hold every other member's current key",
    async (n) => {
      world = new SfuWorld();
      const peers = await world.setup(n, { encrypted });
      for (const peer of peers) {
        await world.join(peer);
        await world.advance(1_000);
      }
      await world.advance(10_000);
      expectKeysConsistent(world);
    },
  );
});
