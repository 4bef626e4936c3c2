#!/usr/bin/env node
// `npm run check:package` (after `npm run build`): checks the package as npm would publish it.
//   1. `npm pack`: the tarball holds no test files, fixtures or test folders (scripts/packageRules.mjs);
//   2. every source map in it points at sources inside the package that the package contains;
//   3. publint --strict and @arethetypeswrong/cli (profile esm-only: the package is ESM only) pass on the tarball;
//   4. every entry point of package.json `exports` (read from the file, so new entry points are checked too) loads
//      in Node as an ESM import of the unpacked package, and type-checks as an import from a strict NodeNext
//      TypeScript consumer (TS7016 if its types do not resolve).
// The consumer lives in .cache/ inside the repository, so the package's dependencies and optional peers resolve
// from the repository's node_modules, without a network. Exits non-zero and lists every problem found.
import { spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { exportEntries, fileListProblems, sourceMapProblems } from "./packageRules.mjs";

const repo = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = (name) => join(repo, "node_modules", ".bin", process.platform === "win32" ? `${name}.cmd` : name);
const problems = [];
const step = (what) => console.log(`[check:package] ${what}`);

/** Runs a command; returns its stdout, or records a problem (with its output) and returns undefined. */
function run(label, command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.status !== 0) {
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`.trim();
    problems.push(`${label} failed (exit ${result.status ?? result.signal})${output ? `:\n${output}` : ""}`);
    return undefined;
  }
  return result.stdout;
}

/** Every file under `dir`, package-relative with `/`. */
function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split(sep).join("/"));
}

const pkg = JSON.parse(readFileSync(join(repo, "package.json"), "utf8"));
const { entries, problems: exportProblems } = exportEntries(pkg);
problems.push(...exportProblems);
if (!existsSync(join(repo, "dist"))) {
  console.error("[check:package] dist/ not found: run npm run build first");
  process.exit(1);
}

mkdirSync(join(repo, ".cache"), { recursive: true });
const work = mkdtempSync(join(repo, ".cache", "check-package-"));
try {
  step("npm pack");
  const packed = run("npm pack", "npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work], {
    cwd: repo,
  });
  if (packed === undefined) {
    throw new Error("npm pack failed");
  }
  const [{ filename, files }] = JSON.parse(packed);
  const tarball = join(work, filename);
  const packedFiles = files.map((f) => f.path);
  console.log(`[check:package] ${filename}: ${packedFiles.length} files`);
  problems.push(...fileListProblems(packedFiles));

  // The unpacked package, installed into a consumer project (its own package.json, so "famedly-calls" is not a
  // self-reference to the repository).
  const consumer = join(work, "consumer");
  const installed = join(consumer, "node_modules", pkg.name);
  mkdirSync(installed, { recursive: true });
  run("tar", "tar", ["-xzf", tarball, "-C", installed, "--strip-components=1"]);
  const fileSet = new Set(listFiles(installed));

  step("source maps");
  let maps = 0;
  for (const file of fileSet) {
    if (file.endsWith(".map")) {
      maps++;
      let map;
      try {
        map = JSON.parse(readFileSync(join(installed, file), "utf8"));
      } catch (error) {
        problems.push(`${file}: unreadable source map (${String(error)})`);
        continue;
      }
      problems.push(...sourceMapProblems(file, map, fileSet));
    }
  }
  console.log(`[check:package] ${maps} source maps`);

  for (const entry of entries) {
    for (const file of [entry.types, entry.import]) {
      if (!fileSet.has(file)) {
        problems.push(`exports["${entry.subpath}"]: ${file} is not in the package`);
      }
    }
  }

  step("publint --strict");
  run("publint", bin("publint"), ["run", tarball, "--strict", "--level", "warning"], { cwd: work });
  step("attw --profile esm-only");
  run(
    "attw",
    bin("attw"),
    [tarball, "--profile", "esm-only", "--format", "ascii", "--no-emoji", "--no-color"],
    {
      cwd: work,
    },
  );

  writeFileSync(
    join(consumer, "package.json"),
    JSON.stringify({ name: "consumer", private: true, type: "module" }),
  );
  step(`ESM imports: ${entries.map((e) => e.specifier).join(", ")}`);
  const loader = entries
    .map((e) => `const m${entries.indexOf(e)} = await import(${JSON.stringify(e.specifier)});`)
    .concat(
      entries.map(
        (e, i) =>
          `if (Object.keys(m${i}).length === 0) throw new Error(${JSON.stringify(`${e.specifier}: no exports`)});`,
      ),
    )
    .concat(["process.exit(0);"])
    .join("\n");
  writeFileSync(join(consumer, "load.mjs"), loader);
  run("ESM import of every entry point", process.execPath, ["load.mjs"], { cwd: consumer });

  step("types for a NodeNext consumer");
  const typesCheck = entries
    .map((e, i) => `import * as m${i} from ${JSON.stringify(e.specifier)};`)
    .concat([`export const modules = [${entries.map((_, i) => `m${i}`).join(", ")}];`])
    .join("\n");
  writeFileSync(join(consumer, "consumer.ts"), `${typesCheck}\n`);
  writeFileSync(
    join(consumer, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        target: "ES2022",
        module: "NodeNext",
        moduleResolution: "NodeNext",
        lib: ["ES2022", "DOM", "DOM.Iterable"],
        types: ["node"],
        strict: true,
        noEmit: true,
        skipLibCheck: true,
      },
      files: ["consumer.ts"],
    }),
  );
  run("tsc (consumer)", bin("tsc"), ["-p", join(consumer, "tsconfig.json")], { cwd: consumer });
} catch (error) {
  problems.push(String(error));
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (problems.length > 0) {
  console.error(`[check:package] ${problems.length} problem(s):\n- ${problems.join("\n- ")}`);
  process.exit(1);
}
console.log(`[check:package] ok: ${entries.length} entry points, publint and attw clean`);
