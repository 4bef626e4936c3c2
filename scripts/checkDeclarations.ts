// `npm run build` runs this after tsc: the published type declarations (dist/**/*.d.ts) must
//  1. contain no declaration that the source marks `@internal` (tsconfig.build.json strips them: `stripInternal`),
//  2. type-check on their own (stripping must not leave a public declaration naming a stripped type).
// Exits 1 and names every offender otherwise. `tsx scripts/checkDeclarations.ts [distDir]`.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

/** One declaration, by its dotted path inside its file (`CallSession.handleAnswer`, `callDelegate`). */
export interface Declaration {
  /** The file, relative to the scanned folder, without its extension (`call/CallSession`). */
  module: string;
  /** The dotted path inside that file. */
  name: string;
}

function isInternal(node: ts.Node, text: string): boolean {
  // The test TypeScript itself applies for `stripInternal`: an `@internal` in the leading JSDoc comment.
  const ranges = ts.getLeadingCommentRanges(text, node.pos) ?? [];
  return ranges.some(
    (r) => text.slice(r.pos, r.end).startsWith("/**") && /@internal\b/.test(text.slice(r.pos, r.end)),
  );
}

function nameOf(node: ts.Node): string | undefined {
  if (ts.isConstructorDeclaration(node)) {
    return "constructor";
  }
  const name = (node as { name?: ts.Node }).name;
  if (name && (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name))) {
    return name.text;
  }
  return undefined;
}

/**
 * Every named declaration of a source or declaration file: top-level statements (variables one by one), the members
 * of classes, interfaces and enums, and namespaces' contents. `internalOnly` keeps only those marked `@internal`
 * (a member of an `@internal` container counts through its container).
 */
export function declarations(fileName: string, text: string, internalOnly: boolean): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node, prefix: string, parentInternal: boolean): void => {
    if (ts.isVariableStatement(node)) {
      const internal = parentInternal || isInternal(node, text);
      for (const decl of node.declarationList.declarations) {
        if (ts.isIdentifier(decl.name) && (!internalOnly || internal)) {
          found.push(prefix + decl.name.text);
        }
      }
      return;
    }
    const name = nameOf(node);
    if (name === undefined) {
      return;
    }
    const internal = parentInternal || isInternal(node, text);
    if (!internalOnly || internal) {
      found.push(prefix + name);
    }
    if (internal && internalOnly) {
      return; // its members go with it
    }
    if (ts.isClassDeclaration(node) || ts.isInterfaceDeclaration(node) || ts.isEnumDeclaration(node)) {
      for (const member of node.members) {
        visit(member, `${prefix}${name}.`, internal);
      }
    } else if (ts.isModuleDeclaration(node) && node.body && ts.isModuleBlock(node.body)) {
      for (const statement of node.body.statements) {
        visit(statement, `${prefix}${name}.`, internal);
      }
    }
  };
  for (const statement of source.statements) {
    visit(statement, "", false);
  }
  return found;
}

/**
 * Import statements whose leading JSDoc says `@internal` (typically a file header): `stripInternal` drops the
 * import itself from the declarations, so whatever it imported is missing there.
 */
export function internalImports(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true);
  return source.statements
    .filter((s) => ts.isImportDeclaration(s) && isInternal(s, text))
    .map((s) => `${fileName}:${source.getLineAndCharacterOfPosition(s.getStart()).line + 1}`);
}

/** `@internal` declarations of the sources that are still present in the corresponding declaration files. */
export function internalLeaks(
  sources: ReadonlyMap<string, string>,
  declarationFiles: ReadonlyMap<string, string>,
): Declaration[] {
  const leaks: Declaration[] = [];
  for (const [module, text] of sources) {
    const internal = declarations(`${module}.ts`, text, true);
    const dts = declarationFiles.get(module);
    if (internal.length === 0 || dts === undefined) {
      continue;
    }
    const published = new Set(declarations(`${module}.d.ts`, dts, false));
    for (const name of internal) {
      if (published.has(name)) {
        leaks.push({ module, name });
      }
    }
  }
  return leaks;
}

/**
 * Type errors of the declaration files under `distDir` (other packages' declarations are not our concern).
 * `libs` defaults to what the library's declarations use: ES2022, the DOM and Node's types.
 */
export function declarationErrors(
  distDir: string,
  files: readonly string[],
  libs: { lib: string[]; types: string[] } = {
    lib: ["lib.es2022.d.ts", "lib.dom.d.ts", "lib.dom.iterable.d.ts"],
    types: ["node"],
  },
): string[] {
  const program = ts.createProgram(files, {
    noEmit: true,
    strict: true,
    skipLibCheck: false,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    ...libs,
  });
  const inDist = (file: ts.SourceFile | undefined): boolean =>
    file !== undefined && !relative(distDir, file.fileName).startsWith("..");
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => inDist(d.file))
    .map((d) => {
      const where =
        d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined;
      const file = d.file ? relative(distDir, d.file.fileName) : "?";
      return `${file}:${where ? where.line + 1 : 0}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
    });
}

function walk(dir: string, suffix: string, out: Map<string, string>, root = dir): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      walk(path, suffix, out, root);
    } else if (entry.name.endsWith(suffix) && !entry.name.endsWith(`.test${suffix}`)) {
      out.set(relative(root, path).slice(0, -suffix.length).split(sep).join("/"), readFileSync(path, "utf8"));
    }
  }
  return out;
}

function main(): void {
  const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
  const dist = resolve(repo, process.argv[2] ?? "dist");
  const sources = walk(join(repo, "src"), ".ts", new Map());
  const dts = walk(dist, ".d.ts", new Map());
  const internalCount = [...sources].reduce((n, [m, t]) => n + declarations(`${m}.ts`, t, true).length, 0);
  const leaks = internalLeaks(sources, dts);
  const strippedImports = [...sources].flatMap(([m, t]) => internalImports(`src/${m}.ts`, t));
  const errors = declarationErrors(
    dist,
    [...dts.keys()].map((m) => join(dist, `${m}.d.ts`)),
  );
  for (const leak of leaks) {
    console.error(`[declarations] @internal ${leak.name} is published in ${leak.module}.d.ts`);
  }
  for (const where of strippedImports) {
    console.error(
      `[declarations] ${where}: an @internal comment (a file header?) on an import strips the import`,
    );
  }
  for (const error of errors) {
    console.error(`[declarations] ${error}`);
  }
  if (dts.size === 0) {
    console.error(`[declarations] no .d.ts files under ${dist}: run the build first`);
    process.exit(1);
  }
  console.log(
    `[declarations] ${dts.size} declaration files, ${internalCount} @internal declarations in src: ` +
      `${leaks.length} published, ${errors.length} type errors`,
  );
  process.exit(leaks.length > 0 || errors.length > 0 || strippedImports.length > 0 ? 1 : 0);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main();
}
