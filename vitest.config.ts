import { defineConfig } from "vitest/config";

// @roamhq/wrtc crashes worker threads at exit: forks only (see docs/architecture.md, "Runtimes").
export default defineConfig({
  test: {
    pool: "forks",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // test/sfu and test/browser run with vitest.sfu.config.ts (a LiveKit server, a private network namespace).
    exclude: ["test/integration/**", "test/sfu/**", "test/browser/**", "node_modules/**", "dist/**"],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    setupFiles: ["test/setup.ts"],
  },
});
