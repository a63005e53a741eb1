import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";

/** Builds dist/ once before any test file runs, so tests that spawn the CLI never race each other's builds. */
export default async function setup(): Promise<void> {
  const project = path.resolve(import.meta.dirname, "..");
  const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
  try {
    await promisify(execFile)(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: project });
  } catch (error) {
    const { stdout = "", stderr = "" } = error as { stdout?: string; stderr?: string };
    throw new Error(`building the CLI failed:\n${stdout}${stderr}`);
  }
}
