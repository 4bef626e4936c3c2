// The rules of `npm run check:package` (scripts/packageRules.mjs): tarball contents, source maps, exports entries.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
// @ts-expect-error -- a plain .mjs script without types
import * as untyped from "../../scripts/packageRules.mjs";

interface ExportEntry {
  specifier: string;
  subpath: string;
  types: string;
  import: string;
}
const rules = untyped as {
  fileListProblems(files: string[]): string[];
  sourceMapProblems(mapPath: string, map: unknown, files: string[]): string[];
  exportEntries(pkg: unknown): { entries: ExportEntry[]; problems: string[] };
};

describe("package rules", () => {
  it("flags test files, test folders and fixtures, and passes a library's files", () => {
    expect(
      rules.fileListProblems([
        "package.json",
        "README.md",
        "dist/index.js",
        "dist/testing/LocalHomeserver.js",
        "src/testing/helpers.ts",
        "dist/call/glare.test.js",
        "dist/call/glare.test.d.ts",
        "src/node/wrtc.spec.ts",
        "test/calls/basic.ts",
        "dist/__tests__/x.js",
        "src/fixtures/wire.json",
        "dist/wireFixture.json",
      ]),
    ).toEqual([
      "dist/call/glare.test.js: a test file",
      "dist/call/glare.test.d.ts: a test file",
      "src/node/wrtc.spec.ts: a test file",
      "test/calls/basic.ts: test material (folder test/)",
      "dist/__tests__/x.js: test material (folder __tests__/)",
      "src/fixtures/wire.json: test material (folder fixtures/)",
      "dist/wireFixture.json: a fixture",
    ]);
  });

  it("accepts source maps whose sources are packed files, and flags sources outside the package or missing", () => {
    const files = ["dist/call/glare.js.map", "src/call/glare.ts"];
    expect(
      rules.sourceMapProblems("dist/call/glare.js.map", { sources: ["../../src/call/glare.ts"] }, files),
    ).toEqual([]);
    expect(
      rules.sourceMapProblems(
        "dist/call/glare.js.map",
        { sourceRoot: "../../src/", sources: ["call/glare.ts"] },
        files,
      ),
    ).toEqual([]);
    expect(
      rules.sourceMapProblems(
        "dist/call/glare.js.map",
        {
          sources: [
            "../../../test/helpers/calls.ts",
            "../../src/call/gone.ts",
            "/abs/x.ts",
            "webpack://x/y.ts",
          ],
        },
        files,
      ),
    ).toEqual([
      "dist/call/glare.js.map: source ../../../test/helpers/calls.ts points outside the package",
      "dist/call/glare.js.map: source ../../src/call/gone.ts (src/call/gone.ts) is not in the package",
      'dist/call/glare.js.map: source "/abs/x.ts" is not a relative path',
      'dist/call/glare.js.map: source "webpack://x/y.ts" is not a relative path',
    ]);
    expect(rules.sourceMapProblems("dist/x.js.map", { version: 3 }, files)).toEqual([
      "dist/x.js.map: not a source map (no sources array)",
    ]);
  });

  it("derives every ESM entry point from exports, and flags entries without types or import", () => {
    const { entries, problems } = rules.exportEntries({
      name: "pkg",
      exports: {
        ".": { types: "./dist/index.d.ts", import: "./dist/index.js" },
        "./sub": { import: { types: "./dist/sub.d.ts", default: "./dist/sub.js" } },
        "./untyped": { import: "./dist/untyped.js" },
        "./cjs": { types: "./dist/cjs.d.ts", require: "./dist/cjs.cjs" },
        "./glob/*": "./dist/glob/*.js",
        "./package.json": "./package.json",
      },
    });
    expect(entries).toEqual([
      { specifier: "pkg", subpath: ".", types: "dist/index.d.ts", import: "dist/index.js" },
      { specifier: "pkg/sub", subpath: "./sub", types: "dist/sub.d.ts", import: "dist/sub.js" },
    ]);
    expect(problems).toEqual([
      'exports["./untyped"]: no "types" condition',
      'exports["./cjs"]: no "import" (or "default") condition',
      'exports["./glob/*"]: patterns are not checked; list the entry points',
    ]);
  });

  it("finds every entry point of this package's exports map", () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      exports: Record<string, unknown>;
    };
    const { entries, problems } = rules.exportEntries(pkg);
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.subpath)).toEqual(
      Object.keys(pkg.exports).filter((k) => k !== "./package.json"),
    );
  });
});
