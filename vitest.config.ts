import { defineConfig } from "vitest/config";

// The workspace packages export their TypeScript sources (see the README, "Use tapegrad from your own
// workspace package"), so tests run against src/ with no build and no special resolve conditions.
export default defineConfig({
  test: {
    include: ["packages/**/test/**/*.test.ts"],
    setupFiles: ["./test-support/all-close.ts"],
    // generous: the suite must pass on a busy 2-core machine (two busy loops beside it in our checks)
    testTimeout: 120_000,
    hookTimeout: 300_000,
  },
});
