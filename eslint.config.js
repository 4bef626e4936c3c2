// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import prettier from "eslint-config-prettier";

export default tseslint.config(
  {
    ignores: [
      "dist/**",
      "demo/web/dist/**",
      "docs/api/**",
      "node_modules/**",
      ".cache/**",
      "coverage/**",
      "eslint.config.js",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    rules: {
      "@typescript-eslint/consistent-type-imports": "error",
      "@typescript-eslint/switch-exhaustiveness-check": "error",
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      eqeqeq: "error",
      curly: ["error", "all"],
      "max-lines": ["warn", 600],
    },
  },
  {
    files: ["src/**/*.ts"],
    ignores: [
      "src/**/*.test.ts",
      "src/core/Clock.ts",
      "src/core/Logger.ts",
      "src/node/**",
      "src/testing/**",
      "src/webrtc/adapters/**",
    ],
    rules: {
      "no-restricted-globals": [
        "error",
        { name: "setTimeout", message: "use the injected Clock" },
        { name: "setInterval", message: "use the injected Clock" },
        { name: "clearTimeout", message: "use the injected Clock" },
        { name: "clearInterval", message: "use the injected Clock" },
        { name: "Date", message: "use the injected Clock" },
        { name: "RTCPeerConnection", message: "use the WebRTCDelegate" },
        { name: "navigator", message: "use the WebRTCDelegate" },
        { name: "window", message: "no browser globals in domain code" },
        { name: "document", message: "no browser globals in domain code" },
        { name: "console", message: "use the injected Logger" },
      ],
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "events", message: "use core/TypedEventEmitter" }],
          patterns: ["matrix-js-sdk", "@roamhq/wrtc", "livekit-client", "@livekit/*"],
        },
      ],
    },
  },
  {
    // The LiveKit bridges (entries "famedly-calls/livekit" and "famedly-calls/livekit-node") may import their SDK.
    files: ["src/livekit/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "events", message: "use core/TypedEventEmitter" }],
          patterns: ["matrix-js-sdk", "@roamhq/wrtc", "@livekit/*"],
        },
      ],
    },
  },
  {
    files: ["src/livekitNode/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: [{ name: "events", message: "use core/TypedEventEmitter" }],
          patterns: ["matrix-js-sdk", "@roamhq/wrtc", "livekit-client", "@livekit/*", "!@livekit/rtc-node"],
        },
      ],
    },
  },
  {
    // Plain Node scripts (scripts/test.mjs) and configs (.dependency-cruiser.cjs): no TypeScript project, so no
    // type-aware rules.
    files: ["**/*.mjs", "**/*.cjs"],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { process: "readonly", console: "readonly", module: "writable" },
    },
  },
  {
    // The matrix-js-sdk adapter (entry "famedly-calls/matrix-js-sdk") is the one place that may import the SDK.
    files: ["src/matrix/adapters/matrixJsSdk/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { paths: [{ name: "events", message: "use core/TypedEventEmitter" }], patterns: ["@roamhq/wrtc"] },
      ],
    },
  },
  {
    files: ["**/*.test.ts", "test/**/*.ts", "demo/**/*.ts", "bench/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
      "@typescript-eslint/no-unnecessary-condition": "off",
      "max-lines": "off",
    },
  },
  prettier,
);
