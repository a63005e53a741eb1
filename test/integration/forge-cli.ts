import { spawn } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";

const MAIN = path.resolve(import.meta.dirname, "../../dist/cli/main.js");

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI on one event with a config and the sample traces, in a fresh folder, with the given environment. */
export async function runCli(event: unknown, config: string, env: Record<string, string>): Promise<CliRun> {
  const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-forge-cli-"));
  await writeFile(path.join(dir, "event.json"), JSON.stringify(event));
  await writeFile(path.join(dir, "pr-creator.yaml"), config);
  await writeFile(path.join(dir, "traces.yaml"), stringify({ traces: SAMPLE_TRACES }));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, "run", "event.json", "--traces", "traces.yaml", "--json"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "", CI: "true", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}
