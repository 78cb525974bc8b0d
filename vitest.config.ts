import { defineConfig } from "vitest/config";
import { TEST_SECRETS } from "./test/support/env.js";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Secrets configuration requires; CLI processes spawned by tests inherit them.
    env: { ...TEST_SECRETS },
  },
});
