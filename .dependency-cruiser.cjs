// @ts-check
/**
 * Layer rules for `src/` (docs/architecture.md), checked by `npm run lint` (`depcruise src`). Layers, inner first:
 *
 *   core                       imports nothing of ours
 *   matrix, webrtc (ports)     core only (and themselves)
 *   call                       core, matrix, webrtc
 *   group, backend             call, core, matrix, webrtc (and each other)
 *   voip (the facade)          everything above
 *   adapters                   src/node, src/testing, src/livekit*, src/matrix/adapters, src/webrtc/adapters:
 *                              may import the domain; no domain code imports them
 *
 * plus: no import cycle anywhere (type-only imports included), and the root entry stays browser-safe.
 */

/** Adapter code: platform and client bindings, test doubles. */
const ADAPTERS = "^src/(node|testing|livekit[^/]*)/|^src/(matrix|webrtc)/adapters/";
/** Domain code: everything in the layered folders that is not an adapter. */
const DOMAIN = "^src/(core|matrix|webrtc|call|group|backend|voip)/";

/** A rule: files matching `from` (but not an adapter) may import only `allowed` layers of `src/`. */
function layer(name, comment, from, allowed) {
  return {
    name,
    comment,
    severity: "error",
    from: { path: from, pathNot: ADAPTERS },
    to: { path: "^src/", pathNot: [`^src/(${allowed.join("|")})/`, ADAPTERS] },
  };
}

/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment:
        "Import cycles (type-only imports included) tie layers together; break them with a port or a move.",
      severity: "error",
      from: {},
      to: { circular: true },
    },
    layer(
      "core-imports-nothing",
      "src/core is the innermost layer: clock, logger, errors, random.",
      "^src/core/",
      ["core"],
    ),
    layer(
      "matrix-port-core-only",
      "The Matrix port (events, schemas, parse) depends on core only.",
      "^src/matrix/",
      ["core", "matrix"],
    ),
    layer("webrtc-port-core-only", "The WebRTC port depends on core only.", "^src/webrtc/", [
      "core",
      "webrtc",
    ]),
    layer("call-layer", "1:1 calls use core and the two ports; never group, backend or voip.", "^src/call/", [
      "core",
      "matrix",
      "webrtc",
      "call",
    ]),
    layer(
      "group-and-backend-layer",
      "Group calls and their backends build on calls and the ports; never on the voip facade.",
      "^src/(group|backend)/",
      ["core", "matrix", "webrtc", "call", "group", "backend"],
    ),
    {
      name: "domain-imports-no-adapter",
      comment:
        "Adapters (Node, matrix-js-sdk, LiveKit, browser, testing) plug into the domain, never the reverse.",
      severity: "error",
      from: { path: DOMAIN, pathNot: ADAPTERS },
      to: { path: ADAPTERS },
    },
    {
      name: "root-entry-browser-safe",
      comment:
        "`famedly-calls` loads in browsers: no Node, matrix-js-sdk, LiveKit or testing adapter behind it.",
      severity: "error",
      from: { path: "^src/index\\.ts$" },
      to: { path: ADAPTERS, pathNot: "^src/webrtc/adapters/" },
    },
    {
      name: "domain-no-heavy-dependency",
      comment: "Heavy dependencies are optional peers, only adapters load them.",
      severity: "error",
      from: { path: DOMAIN, pathNot: ADAPTERS },
      to: { path: "node_modules/(matrix-js-sdk|@roamhq/wrtc|livekit-client|@livekit/|livekit-server-sdk)" },
    },
    {
      name: "src-imports-no-test-code",
      comment: "Library code never imports tests, test helpers, the demo or scripts.",
      severity: "error",
      from: { path: "^src/", pathNot: "\\.test\\.ts$" },
      to: { path: "(^(test|demo|bench|scripts|examples)/)|\\.test\\.ts$" },
    },
  ],
  options: {
    // Unit tests sit beside the code; they may reach anything (helpers, adapters, fixtures).
    exclude: { path: "\\.test\\.ts$" },
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
  },
};
