// The wire examples (`test/fixtures/wire-examples.json`), for the tests that parse them
// and the tests that rebuild them.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** One example of `wire-examples.json`. */
export interface WireExample {
  name: string;
  transport: "room" | "toDevice" | "state";
  type: string;
  dialect: string;
  content: Record<string, unknown>;
}

const FIXTURES = fileURLToPath(new URL("../fixtures/wire-examples.json", import.meta.url));

/** Every example, in file order. */
export const wireExamples: readonly WireExample[] = (
  JSON.parse(readFileSync(FIXTURES, "utf8")) as { examples: WireExample[] }
).examples;

/** A fresh copy of the example called `name`; throws for an unknown name. */
export function wireExample(name: string): WireExample {
  const found = wireExamples.find((e) => e.name === name);
  if (found === undefined) {
    throw new Error(`no wire example named ${name}`);
  }
  return structuredClone(found);
}
