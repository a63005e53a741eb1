/**
 * The agent's overhead on a local clone, as issue 17 first measured it: a preview (dry run) of commits read with
 * local git, one PR after another in one long-running process (bench/local-git-runner.ts, the agent from dist/).
 * Nothing but the agent and its git processes runs, so the whole wall time per PR is overhead. The clone is the
 * demo's (src/demo/sample-repo.ts) plus one branch per PR off `dev`, each a commit adding the demo's handler and
 * its tests with a line of its own, so no two commits share a blob and every digest reads and parses its files.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createGitRepo } from "../src/demo/git-fixture.js";
import { buildSampleRepo, HANDLER, HANDLER_TESTS } from "../src/demo/sample-repo.js";
import { AGENT_DIST, bundledEntry, percentile, round } from "./forge-harness.js";
import type { LocalGitDone, LocalGitJob } from "./local-git-runner.js";

/** PRs of the pass that counts git commands (not timed). */
const COUNTED_PRS = 10;

export interface LocalGitFigures {
  prs: number;
  warmup_prs: number;
  /** Wall time per PR (all of it the agent's own, git included), p50 / p95 ms. */
  overhead: { p50_ms: number; p95_ms: number };
  /** git commands run per PR (from the agent's long-lived shells or directly): median and most, over a separate pass. */
  git_per_pr: { median: number; max: number };
  /** Processes the agent's own process started per PR (forks of the agent: shells, a batch reader, direct gits), median. */
  spawned_per_pr: number;
  cpu_ms_per_pr: number;
  load_1m: number;
}

/** Commits for `count` events on branches feature/bench-local-<tag>-<i>, each adding the handler with its own line. */
async function seed(repoDir: string, tag: string, count: number): Promise<object[]> {
  // The sample's clone, taken over (git init on an existing repository only re-reads it).
  const repo = await createGitRepo(repoDir);
  const events: object[] = [];
  for (let i = 0; i < count; i++) {
    const branch = `feature/bench-local-${tag}-${i}`;
    await repo.checkout("dev");
    await repo.checkout(branch, { create: true });
    await repo.writeFile("src/Application/Handlers/CreateOrderHandler.cs", `// bench ${tag} ${i}\n${HANDLER}`);
    await repo.writeFile("tests/Order/CreateOrderHandlerTests.cs", `// bench ${tag} ${i}\n${HANDLER_TESTS}`);
    const hash = await repo.commit(
      "feat(order): implement CreateOrderHandler [trace:ord-8128]\n\n- Persist the new order through IOrderRepository\n",
    );
    events.push({
      event: "CommitCompleted",
      repo: "OrderService",
      agent: "code-committer-agent",
      timestamp: "2026-12-06T06:00:00Z",
      trace_id: "trace-ord-8128",
      commit_hash: hash,
      branch,
    });
  }
  return events;
}

function runJob(job: LocalGitJob): Promise<LocalGitDone> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        "--expose-gc",
        ...(process.env.BENCH_RUNNER_FLAGS?.split(/\s+/).filter(Boolean) ?? []),
        bundledEntry("local-git-runner"),
        JSON.stringify(job),
      ],
      { env: { ...process.env, BENCH_AGENT_DIST: AGENT_DIST }, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`local-git runner failed: ${error.message}\n${stderr.slice(-2000)}`));
        else resolve(JSON.parse(stdout.trim().split("\n").at(-1)!) as LocalGitDone);
      },
    );
  });
}

/** `prs` measured previews in a process that first made `warmupPrs` unmeasured ones. */
export async function measureLocalGit(prs: number, warmupPrs: number): Promise<LocalGitFigures> {
  const base = await mkdtemp(path.join(os.tmpdir(), "pr-creator-bench-local-git-"));
  try {
    const sample = await buildSampleRepo(base);
    const warmup = await seed(sample.dir, "warm", warmupPrs);
    const events = await seed(sample.dir, "measured", prs);
    const counted = await seed(sample.dir, "counted", COUNTED_PRS);
    const load = os.loadavg()[0] ?? 0;
    const done = await runJob({ repoDir: sample.dir, tracesFile: sample.tracesFile, warmup, events, counted });
    const failed = done.prs.filter((p) => p.status !== "previewed");
    if (failed.length > 0) throw new Error(`local-git bench: ${failed.length} previews ended ${failed[0]!.status}`);
    const ms = done.prs.map((p) => p.ms);
    const git = done.git_commands;
    return {
      prs,
      warmup_prs: warmupPrs,
      overhead: { p50_ms: round(percentile(ms, 50)), p95_ms: round(percentile(ms, 95)) },
      git_per_pr: { median: percentile(git, 50), max: Math.max(...git) },
      spawned_per_pr: percentile(
        done.prs.map((p) => p.spawned),
        50,
      ),
      cpu_ms_per_pr: round(done.cpu_ms / prs, 1),
      load_1m: round(load, 2),
    };
  } finally {
    await rm(base, { recursive: true, force: true });
  }
}
