import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

/**
 * Builds dist/ once before any test file runs, so tests that spawn the CLI never race each other's builds.
 * Type errors alone do not stop the tests (tsc still emits, and `npm test` typechecks first); anything
 * else that breaks the build does.
 */
export default async function setup(): Promise<void> {
  const project = path.resolve(import.meta.dirname, "..");
  const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: project });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    const lines = `${stdout}${stderr}`.split("\n").filter((l) => l.trim() !== "");
    const onlyTypeErrors = lines.length > 0 && lines.every((l) => /: error TS\d+:/.test(l) || /^\s/.test(l));
    if (!onlyTypeErrors) throw new Error(`building the CLI failed:\n${stdout}${stderr}`);
  }
}
