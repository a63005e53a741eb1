/**
 * CLI cold start for the consolidated bench (bench/index.ts): `node dist/cli/main.js --version` and `--help`,
 * and a dry-run `run` of the demo's first event (src/demo/sample-repo.ts) against its local git repository,
 * each in a fresh process, timed from spawn to exit. dist/cli/main.js is the bundle `npm run build` makes
 * (scripts/bundle.mjs), the file package.json's `bin` names.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSampleRepo } from "../src/demo/sample-repo.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
/** BENCH_CLI points at another build (e.g. of an earlier commit) to measure it with the same spawns. */
export const CLI = process.env.BENCH_CLI
  ? path.resolve(process.env.BENCH_CLI)
  : path.join(root, "dist", "cli", "main.js");

/**
 * Only what node and git need: no model keys (so drafting is deterministic), no forge tokens, no OTLP
 * endpoint, whatever the caller's shell holds.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = ["PATH", "HOME", "TMPDIR", "LANG"];
  return Object.fromEntries(keep.flatMap((k) => (process.env[k] === undefined ? [] : [[k, process.env[k]]])));
}

interface Spawned {
  ms: number;
  code: number | null;
  stdout: string;
  stderr: string;
}

function timeSpawn(args: string[], cwd: string): Promise<Spawned> {
  // The state file in the fresh folder too: the default one (~/.local/state/pr-creator) grows with every run.
  const env = { ...cleanEnv(), PR_CREATOR_STATE_DIR: path.join(cwd, "state") };
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ ms: performance.now() - t0, code, stdout, stderr }));
  });
}

export interface CliStart {
  runs: number;
  version_ms: number[];
  help_ms: number[];
  dry_run_ms: number[];
  /** What the dry runs ended with (status from --json), e.g. { previewed: 5 }. */
  dry_run_status: Record<string, number>;
}

/**
 * `runs` spawns of each, after one unmeasured spawn of each (the OS file cache, not the process, is warmed).
 * Every dry run gets a fresh working directory and state folder, so it opens a new state file as a first run would.
 */
export async function measureCliStart(runs: number): Promise<CliStart> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const base = await mkdtemp(path.join(os.tmpdir(), "pr-creator-bench-cli-"));
  try {
    const sample = await buildSampleRepo(base);
    const dryRun = [
      "run",
      sample.eventFile,
      "--repo-path",
      sample.dir,
      "--traces",
      sample.tracesFile,
      "--dry-run",
      "--json",
    ];
    const once = async (args: string[]) => {
      const cwd = await mkdtemp(path.join(base, "cwd-"));
      const r = await timeSpawn(args, cwd);
      if (r.code !== 0) throw new Error(`pr-creator ${args.join(" ")} exited ${r.code}: ${r.stderr.slice(0, 500)}`);
      return r;
    };
    await once(["--version"]);
    await once(["--help"]);
    await once(dryRun);
    const version_ms: number[] = [];
    const help_ms: number[] = [];
    const dry_run_ms: number[] = [];
    const dry_run_status: Record<string, number> = {};
    for (let i = 0; i < runs; i++) {
      version_ms.push((await once(["--version"])).ms);
      help_ms.push((await once(["--help"])).ms);
      const r = await once(dryRun);
      dry_run_ms.push(r.ms);
      const status = (JSON.parse(r.stdout) as { status?: string }).status ?? "?";
      dry_run_status[status] = (dry_run_status[status] ?? 0) + 1;
    }
    return { runs, version_ms, help_ms, dry_run_ms, dry_run_status };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}
