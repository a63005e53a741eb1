import { execFile } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** A PostgreSQL server for the tests, or "" when none could be started (see `postgresSkipReason`). */
    databaseUrl: string;
    postgresSkipReason: string;
  }
}

const project = path.resolve(import.meta.dirname, "..");
const run = promisify(execFile);

/**
 * Builds dist/ once before any test file runs, so tests that spawn the CLI never race each other's builds: the
 * library with tsc and, beside it, the CLI bundle that ships (scripts/bundle.mjs, into dist/cli/), so the tests
 * that spawn dist/cli/main.js run what users run. Type errors alone do not stop the tests (tsc still emits, and
 * `npm test` typechecks first); anything else that breaks either build does.
 */
async function buildCli(): Promise<void> {
  await Promise.all([buildLibrary(), bundleCli()]);
}

async function bundleCli(): Promise<void> {
  try {
    await run(process.execPath, [path.join(project, "scripts", "bundle.mjs")], { cwd: project });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`bundling the CLI failed:\n${stdout}${stderr}`);
  }
}

async function buildLibrary(): Promise<void> {
  const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
  try {
    await run(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: project });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    const lines = `${stdout}${stderr}`.split("\n").filter((l) => l.trim() !== "");
    const onlyTypeErrors = lines.length > 0 && lines.every((l) => /: error TS\d+:/.test(l) || /^\s/.test(l));
    if (!onlyTypeErrors) throw new Error(`building the CLI failed:\n${stdout}${stderr}`);
  }
}

/**
 * The Postgres tests get a real server: PR_CREATOR_TEST_DATABASE_URL when set (.ci/run starts one), else a
 * throwaway cluster started here with .ci/postgres.sh and stopped at the end. In CI a missing server is an
 * error, never a silent skip; elsewhere the tests are skipped with the reason printed.
 */
async function startPostgres(): Promise<{ url: string; reason: string; stop: () => Promise<void> }> {
  const given = process.env.PR_CREATOR_TEST_DATABASE_URL;
  if (given) return { url: given, reason: "", stop: async () => {} };
  const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-pg-"));
  // As root the cluster runs as the postgres user, which must be able to reach its folder.
  chmodSync(dir, 0o755);
  const script = path.join(project, ".ci", "postgres.sh");
  const stop = async (): Promise<void> => {
    await run("bash", [script, "stop", path.join(dir, "pg")]).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const { stdout } = await run("bash", [script, "start", path.join(dir, "pg")], { timeout: 120_000 });
    return { url: stdout.trim(), reason: "", stop };
  } catch (error) {
    await stop();
    const { stderr = "" } = error as { stderr?: string };
    const reason = `no PostgreSQL server could be started (${stderr.trim() || String(error)})`;
    if (process.env.CI === "true") throw new Error(`CI needs PostgreSQL for its tests: ${reason}`);
    return { url: "", reason, stop: async () => {} };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [, postgres] = await Promise.all([buildCli(), startPostgres()]);
  if (postgres.reason) console.warn(`[postgres tests skipped] ${postgres.reason}`);
  project.provide("databaseUrl", postgres.url);
  project.provide("postgresSkipReason", postgres.reason);
  return postgres.stop;
}
