/**
 * Every test gets its own state folder: the state file now defaults to the user's state directory (not the
 * working directory), so without this all tests would share one file in the home folder. Runs before each
 * test file (vitest setupFiles); test/helpers.ts passes PR_CREATOR_STATE_DIR on to spawned CLIs.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeEach } from "vitest";

const made: string[] = [];
const fresh = (): string => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-state-"));
  made.push(dir);
  return dir;
};

// For the file's beforeAll hooks, then one per test.
process.env.PR_CREATOR_STATE_DIR = fresh();
// A developer's own config must not leak into the tests.
delete process.env.PR_CREATOR_CONFIG;

beforeEach(() => {
  process.env.PR_CREATOR_STATE_DIR = fresh();
});

afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});
