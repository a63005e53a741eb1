import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { stringify } from "yaml";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import { runCli, type CliResult } from "../helpers.js";

/**
 * Runs the built CLI on one event with a config and the sample traces, in a fresh folder (or `inDir`, so
 * runs share a state file as a user's runs from one folder do), with the given environment.
 */
export async function runEventCli(
  event: unknown,
  config: string,
  env: Record<string, string>,
  inDir?: string,
): Promise<CliResult> {
  const dir = inDir ?? (await mkdtemp(path.join(tmpdir(), "pr-creator-forge-cli-")));
  await writeFile(path.join(dir, "event.json"), JSON.stringify(event));
  await writeFile(path.join(dir, "pr-creator.yaml"), config);
  await writeFile(path.join(dir, "traces.yaml"), stringify({ traces: SAMPLE_TRACES }));
  return runCli(["run", "event.json", "--traces", "traces.yaml", "--json"], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "", ...env },
  });
}

/** A fresh folder for CLI runs that should share one state file. */
export function cliFolder(): Promise<string> {
  return mkdtemp(path.join(tmpdir(), "pr-creator-forge-cli-"));
}
