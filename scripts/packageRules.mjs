// The pure rules of `npm run check:package` (scripts/checkPackage.mjs): what the packed tarball may contain, where
// its source maps may point, and which entry points the exports map declares. Paths are package-relative with `/`.
import { posix } from "node:path";

/** Path segments that mark test material, and file names of tests. */
const TEST_DIRS = new Set([
  "test",
  "tests",
  "__tests__",
  "fixtures",
  "__fixtures__",
  "__mocks__",
  "coverage",
]);
const TEST_FILE = /\.(test|spec)\.[cm]?[jt]sx?(\.map)?$|\.(test|spec)\.d\.[cm]?ts(\.map)?$/;

/** Problems with the packed file list: test files, fixtures, test folders. */
export function fileListProblems(files) {
  const problems = [];
  for (const file of files) {
    const segments = file.split("/");
    if (segments.slice(0, -1).some((s) => TEST_DIRS.has(s))) {
      problems.push(`${file}: test material (folder ${segments.find((s) => TEST_DIRS.has(s))}/)`);
    } else if (TEST_FILE.test(segments.at(-1) ?? "")) {
      problems.push(`${file}: a test file`);
    } else if (/fixture/i.test(segments.at(-1) ?? "")) {
      problems.push(`${file}: a fixture`);
    }
  }
  return problems;
}

/**
 * Problems with one source map (`mapPath` inside the package, `map` its parsed JSON): every source must resolve,
 * against the map's folder and `sourceRoot`, to a file inside the package that the package contains.
 */
export function sourceMapProblems(mapPath, map, files) {
  const problems = [];
  const present = files instanceof Set ? files : new Set(files);
  if (map === null || typeof map !== "object" || !Array.isArray(map.sources)) {
    return [`${mapPath}: not a source map (no sources array)`];
  }
  const root = typeof map.sourceRoot === "string" ? map.sourceRoot : "";
  for (const source of map.sources) {
    if (
      typeof source !== "string" ||
      /^[a-z][a-z0-9+.-]*:/i.test(source) ||
      posix.isAbsolute(root + source)
    ) {
      problems.push(`${mapPath}: source ${JSON.stringify(source)} is not a relative path`);
      continue;
    }
    const resolved = posix.normalize(posix.join(posix.dirname(mapPath), root, source));
    if (resolved.startsWith("../") || resolved === "..") {
      problems.push(`${mapPath}: source ${source} points outside the package`);
    } else if (!present.has(resolved)) {
      problems.push(`${mapPath}: source ${source} (${resolved}) is not in the package`);
    }
  }
  return problems;
}

/**
 * The entry points of `pkg.exports` for ESM consumers: `{ specifier, subpath, types, import }` for every subpath
 * but `./package.json`, plus the problems (an entry without `types` or `import`, a pattern, a file outside the
 * package).
 */
export function exportEntries(pkg) {
  const entries = [];
  const problems = [];
  const exportsMap = pkg.exports;
  if (exportsMap === null || typeof exportsMap !== "object" || Array.isArray(exportsMap)) {
    return { entries, problems: ['package.json: "exports" must be an object of subpaths'] };
  }
  for (const [subpath, target] of Object.entries(exportsMap)) {
    if (subpath === "./package.json") {
      continue;
    }
    if (!subpath.startsWith(".")) {
      problems.push(`exports: "${subpath}" is a condition at the top level; use subpaths ("." …)`);
      continue;
    }
    if (subpath.includes("*")) {
      problems.push(`exports["${subpath}"]: patterns are not checked; list the entry points`);
      continue;
    }
    const specifier = subpath === "." ? pkg.name : `${pkg.name}/${subpath.slice(2)}`;
    const { types, import: importTarget } = esmTargets(target);
    if (types === undefined) {
      problems.push(`exports["${subpath}"]: no "types" condition`);
    }
    if (importTarget === undefined) {
      problems.push(`exports["${subpath}"]: no "import" (or "default") condition`);
    }
    for (const file of [types, importTarget]) {
      if (file !== undefined && !file.startsWith("./")) {
        problems.push(`exports["${subpath}"]: ${file} must start with ./`);
      }
    }
    if (types !== undefined && importTarget !== undefined) {
      entries.push({ specifier, subpath, types: types.slice(2), import: importTarget.slice(2) });
    }
  }
  if (entries.length === 0 && problems.length === 0) {
    problems.push("exports: no entry point");
  }
  return { entries, problems };
}

/** The `types` and `import` files of an exports value: `{types, import}`, `{import: {types, default}}` or a string. */
function esmTargets(target) {
  if (typeof target === "string") {
    return { types: undefined, import: target };
  }
  if (target === null || typeof target !== "object" || Array.isArray(target)) {
    return { types: undefined, import: undefined };
  }
  const esm = target.import ?? target.default;
  const nested =
    esm !== null && typeof esm === "object" ? esmTargets(esm) : { types: undefined, import: undefined };
  return {
    types: typeof target.types === "string" ? target.types : nested.types,
    import: typeof esm === "string" ? esm : nested.import,
  };
}
