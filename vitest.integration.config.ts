import { defineConfig } from "vitest/config";

// The Synapse suite (test/integration/): one Synapse for all files (globalSetup), real matrix-js-sdk clients.
// Forks only: @roamhq/wrtc (used by call tests) crashes worker threads at exit.
export default defineConfig({
  test: {
    pool: "forks",
    include: ["test/integration/**/*.test.ts"],
    globalSetup: ["test/integration/globalSetup.ts"],
    setupFiles: ["test/setup.ts", "test/integration/setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
