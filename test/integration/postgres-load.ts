/**
 * A burst of events through `serve` replicas into `worker` processes (the built CLI) against the GitHub
 * emulator, optionally with one worker killed with -9 half-way, and what came of it: lost runs, duplicate PRs,
 * PullRequestCreated per PR, overlapping or reordered runs of one PR, throughput and the time from the kill to
 * the killed worker's runs starting again. Shared by postgres-scale.test.ts and bench/scale.ts.
 */
import { readFileSync } from "node:fs";
import pg from "pg";
import {
  call,
  commitOn,
  eventsOf,
  REPO,
  spawnServe,
  spawnWorker,
  startFleet,
  stop,
  until,
  type Proc,
} from "./postgres-fleet.js";

export interface LoadOptions {
  databaseUrl: string;
  events: number;
  branches: number;
  workers: number;
  /** Runs at once per worker process. */
  concurrency: number;
  latencyMs: number;
  /** Kill one worker with -9 once this share of the runs has finished (0.5 = midway); none when absent. */
  killAt?: number;
  /** Submissions in flight at once. */
  submitConcurrency?: number;
  /** Bound for the whole burst to settle. */
  boundMs?: number;
}

export interface LoadReport {
  events: number;
  accepted: number;
  done: number;
  /** Runs accepted that never reached done (failed, or never settled). */
  lost: number;
  failed: Array<{ run_id: string; reason: string | null }>;
  prs: number;
  /** PRs beyond one per branch, and creates beyond one per branch. */
  duplicatePrs: number;
  creates: number;
  /** PRs whose PullRequestCreated count is not exactly one. */
  prsNotAnnouncedOnce: number;
  /** Pairs of runs of one PR that overlapped in time, and runs that started out of acceptance order. */
  overlaps: number;
  reordered: number;
  /** Runs started more than once (the killed worker's). */
  restarted: number;
  elapsedMs: number;
  runsPerSecond: number;
  /**
   * From the kill to each run started more than once starting again (sorted): the killed worker's runs, and any
   * job retried after a database error. Empty without a kill.
   */
  deathToRerunMs: number[];
  /** CPU time (user + system) the worker processes alive at the end used, and the serve replicas. */
  workerCpuMs: number;
  serveCpuMs: number;
  /** What the workers said beyond starting and stopping (hand-backs of dead workers' jobs, database trouble). */
  workerNotes: string[];
}

/** A process's CPU time so far in ms, from /proc (Linux); 0 elsewhere. */
function cpuMs(pid: number | undefined): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    // utime and stime, fields 14 and 15 of the line, in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

interface Row {
  run_id: string;
  queue_name: string;
  status: string;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  error: { reason?: string } | null;
  result: { status?: string; reason?: string } | null;
}

async function pool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

export async function runLoad(options: LoadOptions): Promise<LoadReport> {
  const fleet = await startFleet(options.databaseUrl, { latencyMs: options.latencyMs });
  const db = new pg.Client({ connectionString: options.databaseUrl });
  await db.connect();
  const procs: Proc[] = [];
  try {
    const serves = await Promise.all([spawnServe(fleet), spawnServe(fleet)]);
    procs.push(...serves);
    const workers = await Promise.all(
      Array.from({ length: options.workers }, () => spawnWorker(fleet, options.concurrency)),
    );
    procs.push(...workers);
    // Round-robin over the branches, so every PR's queue holds runs in a known order.
    const events = Array.from({ length: options.events }, (_, i) =>
      commitOn(fleet, `feature/load-${i % options.branches}`, 10_000 + i),
    );
    const started = performance.now();
    let accepted = 0;
    // One PR's events go out one after another, as its source sends them (each after the previous one's 202):
    // that is the order its runs must keep. Different PRs' events go out side by side, to both replicas.
    const byBranch = new Map<string, typeof events>();
    for (const event of events) byBranch.set(event.branch, [...(byBranch.get(event.branch) ?? []), event]);
    await pool([...byBranch.values()], options.submitConcurrency ?? 16, async (branchEvents) => {
      for (const event of branchEvents) {
        const serve = serves[accepted % serves.length]!;
        const answer = await call(serve.base, "POST", "/v1/events", { body: event });
        if (answer.status !== 202)
          throw new Error(`POST /v1/events answered ${answer.status}: ${JSON.stringify(answer.body)}`);
        accepted += 1;
      }
    });
    const settledCount = async () =>
      Number(
        (
          await db.query<{ n: string }>(
            "SELECT count(*) AS n FROM pr_creator.runs WHERE status IN ('done', 'failed', 'awaiting_approval')",
          )
        ).rows[0]!.n,
      );
    let killedAt: number | null = null;
    if (options.killAt !== undefined) {
      await until(settledCount, (n) => n >= options.events * options.killAt!, "half of the runs", options.boundMs);
      killedAt = Date.now();
      workers[0]!.child.kill("SIGKILL");
      await workers[0]!.exited;
    }
    await until(settledCount, (n) => n >= options.events, "every run to settle", options.boundMs);
    const elapsedMs = performance.now() - started;
    const alive = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const workerCpuMs = alive.reduce((sum, w) => sum + cpuMs(w.child.pid), 0);
    const serveCpuMs = serves.reduce((sum, s) => sum + cpuMs(s.child.pid), 0);

    const rows = (
      await db.query<Row>(
        "SELECT run_id, queue_name, status, attempts, started_at, finished_at, error, result FROM pr_creator.runs ORDER BY seq",
      )
    ).rows;
    const byQueue = new Map<string, Row[]>();
    for (const row of rows) byQueue.set(row.queue_name, [...(byQueue.get(row.queue_name) ?? []), row]);
    let overlaps = 0;
    let reordered = 0;
    for (const runs of byQueue.values()) {
      for (let i = 1; i < runs.length; i += 1) {
        const [before, after] = [runs[i - 1]!, runs[i]!];
        if (after.started_at! < before.finished_at!) overlaps += 1;
        if (after.started_at! < before.started_at!) reordered += 1;
      }
    }
    const restartedRuns = rows.filter((r) => r.attempts > 1);
    const deathToRerunMs =
      killedAt === null ? [] : restartedRuns.map((r) => Date.parse(r.started_at!) - killedAt!).sort((a, b) => a - b);
    const pulls = fleet.gh.state.repos.get(REPO.toLowerCase())!.pulls;
    const created = (await eventsOf(fleet)).filter((e) => e.event === "PullRequestCreated");
    const announced = new Map<string, number>();
    for (const e of created) announced.set(String(e.pr_id), (announced.get(String(e.pr_id)) ?? 0) + 1);
    const failed = rows.filter((r) => r.status !== "done");
    return {
      events: options.events,
      accepted,
      done: rows.filter((r) => r.status === "done").length,
      lost: accepted - rows.filter((r) => r.status === "done").length,
      failed: failed.map((r) => ({ run_id: r.run_id, reason: r.error?.reason ?? r.result?.reason ?? null })),
      prs: pulls.length,
      duplicatePrs: pulls.length - new Set(pulls.map((p) => p.head.ref)).size,
      creates: fleet.gh.calls("pulls.create"),
      prsNotAnnouncedOnce: pulls.filter((p) => announced.get(String(p.number)) !== 1).length,
      overlaps,
      reordered,
      restarted: restartedRuns.length,
      elapsedMs: Math.round(elapsedMs),
      runsPerSecond: Number((options.events / (elapsedMs / 1000)).toFixed(2)),
      deathToRerunMs,
      workerCpuMs,
      serveCpuMs,
      workerNotes: workers.flatMap((w) =>
        w
          .stderr()
          .split("\n")
          .filter((l) => /^pr-creator worker: (warn|error): /.test(l)),
      ),
    };
  } finally {
    await Promise.all(procs.map((p) => stop(p)));
    await db.end();
    await fleet.gh.close();
  }
}
