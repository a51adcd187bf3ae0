import { defineConfig } from "vitest/config";

// Tests run against the TypeScript sources: the "source" export condition maps each
// workspace package to its src/ (the published packages resolve to dist/ instead).
export default defineConfig({
  resolve: { conditions: ["source"] },
  ssr: { resolve: { conditions: ["source"] } },
  test: {
    include: ["packages/**/test/**/*.test.ts"],
    testTimeout: 60_000,
  },
});
