// scripts/checkDeclarations.ts (run by `npm run build`): it finds every `@internal` declaration that a build
// publishes, and type errors in the published declarations.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  declarationErrors,
  declarations,
  internalImports,
  internalLeaks,
} from "../../scripts/checkDeclarations.js";

const source = `
/** A public class. */
export class Session {
  /** @internal */
  public constructor(ctx: Ctx) {}
  /** Public. */
  public get state(): string { return ""; }
  /** @internal Routed by the facade. */
  public handleAnswer(): void {}
}
/** @internal What a session needs. */
export interface Ctx { clock: number; }
/** @internal */
export const helper = 1, other = 2;
/** Public. */
export function build(): void {}
/** @internal Runs a callback. */
export async function callDelegate(): Promise<void> {}
`;

const leaky = `
export declare class Session {
    constructor(ctx: Ctx);
    get state(): string;
    handleAnswer(): void;
}
export interface Ctx { clock: number; }
export declare const helper = 1, other = 2;
export declare function build(): void;
export declare function callDelegate(): Promise<void>;
`;

const stripped = `
export declare class Session {
    get state(): string;
}
export declare function build(): void;
`;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) {
    rmSync(dir, { recursive: true, force: true });
  }
});

describe("published declarations check", () => {
  it("lists the @internal declarations of a source file, members by their class", () => {
    expect(declarations("s.ts", source, true)).toEqual([
      "Session.constructor",
      "Session.handleAnswer",
      "Ctx",
      "helper",
      "other",
      "callDelegate",
    ]);
  });

  it("reports each @internal declaration a declaration file still carries, and none once they are stripped", () => {
    const sources = new Map([["call/Session", source]]);
    expect(internalLeaks(sources, new Map([["call/Session", leaky]])).map((l) => l.name)).toEqual([
      "Session.constructor",
      "Session.handleAnswer",
      "Ctx",
      "helper",
      "other",
      "callDelegate",
    ]);
    expect(internalLeaks(sources, new Map([["call/Session", stripped]]))).toEqual([]);
  });

  it("reports an @internal file header on an import, which would strip the import", () => {
    const header =
      '/**\n * @internal The seam.\n */\nimport type { A } from "./a.js";\n/** @internal */\nexport type B = A;\n';
    expect(internalImports("seam.ts", header)).toEqual(["seam.ts:4"]);
    expect(internalImports("seam.ts", header.replace("@internal The", "Internal: the"))).toEqual([]);
  });

  it("reports a published declaration that names a stripped type", () => {
    const dir = mkdtempSync(join(tmpdir(), "dts-"));
    dirs.push(dir);
    writeFileSync(join(dir, "ok.d.ts"), "export declare function build(): void;\n");
    writeFileSync(join(dir, "broken.d.ts"), "export declare function make(ctx: Ctx): void;\n");
    const errors = declarationErrors(dir, [join(dir, "ok.d.ts"), join(dir, "broken.d.ts")], {
      lib: ["lib.es2022.d.ts"],
      types: [],
    });
    expect(errors).toEqual(["broken.d.ts:1: Cannot find name 'Ctx'."]);
  }, 60_000);
});
