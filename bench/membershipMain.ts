// The membership benchmark in a process of its own, started by `benchMembershipEvents` with `--expose-gc`:
// `node --expose-gc --import tsx bench/membershipMain.ts [small] [large] [repeats]` prints one JSON line.
import { benchMembershipEvents } from "./membershipEvents.js";

const [small, large, repeats] = process.argv.slice(2).map(Number);
const result = await benchMembershipEvents(small, large, repeats);
process.stdout.write(`${JSON.stringify(result)}\n`);
