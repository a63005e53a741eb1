/**
 * The measured side of the local-git benchmark (bench/local-git.ts), in its own process: the agent as it ships
 * (dist/, BENCH_AGENT_DIST), a preview (`dryRun`) of commits read from a local clone, one PR after another.
 * Processes this process starts are counted by wrapping child_process.spawn before the agent loads (the ESM named
 * export is re-synced, so `import { spawn }` sees the wrapper). git commands — which the agent starts from
 * long-lived shells, out of this wrapper's sight — are counted afterwards, in a separate pass over other events
 * (`counted`) by a fresh agent whose PATH puts a counting `git` script first: the script's own start would
 * distort the timed PRs. Reads its job as JSON from argv[2]; prints its result as one JSON line on stdout.
 */
import childProcess from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";

export interface LocalGitJob {
  repoDir: string;
  tracesFile: string;
  /** Unmeasured events first (a throwaway agent), then the measured ones (a fresh agent). */
  warmup: object[];
  events: object[];
  /** Events of the counting pass. */
  counted: object[];
}

export interface LocalGitDone {
  /** Per measured PR: wall time of handle() and the processes this process started during it. */
  prs: Array<{ ms: number; spawned: number; status: string }>;
  /** Per PR of the counting pass: git commands run (whoever started them). */
  git_commands: number[];
  cpu_ms: number;
}

let spawned = 0;
const spawn = childProcess.spawn;
childProcess.spawn = ((...args: Parameters<typeof spawn>) => {
  spawned += 1;
  return spawn(...args);
}) as typeof spawn;
syncBuiltinESMExports();

const job = JSON.parse(process.argv[2] ?? "{}") as LocalGitJob;
const dist = process.env.BENCH_AGENT_DIST;
if (!dist) throw new Error("local-git-runner: BENCH_AGENT_DIST (the built dist/) is not set");
const { createAgent } = (await import(
  pathToFileURL(path.join(dist, "agent", "create-agent.js")).href
)) as typeof import("../src/agent/create-agent.js");

const cwd = mkdtempSync(path.join(os.tmpdir(), "pr-creator-bench-local-"));
const make = () =>
  createAgent({ repoPath: job.repoDir, tracesFile: job.tracesFile, dryRun: true, model: null, memory: null, cwd });
try {
  if (job.warmup.length > 0) {
    const warm = await make();
    for (const event of job.warmup) {
      const r = await warm.handle(event);
      if (r.status !== "previewed") throw new Error(`warm-up ended ${r.status}: ${r.reason ?? ""} ${r.message ?? ""}`);
    }
    await warm.close();
  }
  const agent = await make();
  (globalThis as { gc?: () => void }).gc?.();
  const cpu0 = process.cpuUsage();
  const prs: LocalGitDone["prs"] = [];
  for (const event of job.events) {
    const spawned0 = spawned;
    const t0 = performance.now();
    const r = await agent.handle(event);
    prs.push({ ms: performance.now() - t0, spawned: spawned - spawned0, status: r.status });
  }
  const cpu = process.cpuUsage(cpu0);
  await agent.close();

  // The counting pass: a `git` first on PATH that notes each start, then runs the real one.
  const realGit = childProcess.execFileSync("sh", ["-c", "command -v git"], { encoding: "utf8" }).trim();
  const bin = path.join(cwd, "counting-bin");
  const log = path.join(cwd, "git-starts");
  mkdirSync(bin);
  writeFileSync(log, "");
  writeFileSync(path.join(bin, "git"), `#!/bin/sh\necho . >> '${log}'\nexec '${realGit}' "$@"\n`);
  chmodSync(path.join(bin, "git"), 0o755);
  process.env.PATH = `${bin}${path.delimiter}${process.env.PATH ?? ""}`;
  const counting = await make();
  const starts = () => readFileSync(log, "utf8").length / 2;
  const gitCommands: number[] = [];
  for (const event of job.counted) {
    const before = starts();
    await counting.handle(event);
    gitCommands.push(starts() - before);
  }
  await counting.close();
  const done: LocalGitDone = { prs, git_commands: gitCommands, cpu_ms: (cpu.user + cpu.system) / 1000 };
  process.stdout.write(`${JSON.stringify(done)}\n`);
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
