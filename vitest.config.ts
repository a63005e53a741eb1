import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    // A fresh PR_CREATOR_STATE_DIR per test file and per test: the state file is no longer per working directory.
    setupFiles: ["test/setup-state-dir.ts"],
    testTimeout: 30_000,
    // In-process agents would log a JSON line per run to the runner's stderr; spawned CLIs get it back (test/helpers.ts).
    env: { PR_CREATOR_LOG_LEVEL: "silent" },
    reporters: ["default", ["json", { outputFile: "reports/vitest.json" }]],
  },
});
