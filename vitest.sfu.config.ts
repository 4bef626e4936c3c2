import { defineConfig } from "vitest/config";

// The media suite: a real LiveKit server (test/sfu/, started once by globalSetup) and real Chromium (test/browser/).
// `npm test` runs it inside a private network namespace when it can (scripts/netns.mjs), so no packet leaves the
// machine. Forks only: @roamhq/wrtc and @livekit/rtc-node crash worker threads at exit.
export default defineConfig({
  test: {
    pool: "forks",
    include: ["test/sfu/**/*.test.ts", "test/browser/**/*.test.ts"],
    globalSetup: ["test/sfu/globalSetup.ts"],
    setupFiles: ["test/setup.ts"],
    // @livekit/rtc-node logs every FFI callback at debug level unless NODE_ENV=production.
    env: { NODE_ENV: "production" },
    testTimeout: 60_000,
    hookTimeout: 120_000,
    teardownTimeout: 30_000,
  },
});
