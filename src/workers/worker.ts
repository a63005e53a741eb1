/**
 * A worker process: graphile-worker hands it the runs `serve` accepted, at most `concurrency` at once, one at a
 * time per PR (the job's queue) and in the order they were accepted. Around each run it holds the PR's advisory
 * lock, so even a worker wrongly believed dead cannot overlap a run of the same PR. While it lives it holds a
 * liveness lock on its pool's id, and it sweeps: jobs of pools whose liveness lock is gone are handed back.
 */
import { EventEmitter } from "node:events";
import {
  makeWorkerUtils,
  run,
  type Job,
  type JobHelpers,
  type Runner,
  type WorkerPool,
  type WorkerUtils,
} from "graphile-worker";
import pg from "pg";
import { z } from "zod";
import type { Agent } from "../agent/create-agent.js";
import { errorText, PrCreatorError } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import type { RunResult } from "../domain/run-result.js";
import type { Database } from "../postgres/database.js";
import type { RunError } from "../server/runs-store.js";
import { LIVENESS_NAMESPACE, lockSession, withRunLock } from "./locks.js";
import { JOBS_SCHEMA, pgRunRegistry, QUIET, RUN_TASK, type RunOutcome } from "./pg-runs.js";
import { startSweeper } from "./sweeper.js";

export type WorkerLogger = (level: "info" | "warn" | "error", message: string) => void;

export interface WorkerOptions {
  db: Database;
  /** The database URL (with its password), for the liveness connection, which must be a connection of its own. */
  url: string;
  /** With its policy, the sweeper deletes runs finished longer ago than server.keep_finished_runs_days. */
  agent: Pick<Agent, "handle" | "resume"> & { policy?: Pick<Policy, "server"> };
  concurrency: number;
  log: WorkerLogger;
  now?: () => Date;
  /** How often to look for dead workers' jobs; default 1 s. */
  sweepIntervalMs?: number;
  /** A job lock younger than this is never swept (a new pool may not hold its liveness lock yet); default 2 s. */
  sweepGraceSeconds?: number;
  /** How often graphile-worker polls for jobs it was not told about (retries, swept jobs); default 1 s. */
  pollIntervalMs?: number;
  /** A run started, for tests and logs. */
  onRunStart?: (runId: string) => void;
}

export interface StopReport {
  /** Every run in flight finished before the timeout. */
  drained: boolean;
  /** Runs still in flight at the timeout: their jobs were handed back for another worker. */
  released: number;
}

export interface RunningWorker {
  /** graphile-worker's pool id: `locked_by` of the jobs this process holds. */
  readonly poolId: string;
  /** Runs executing now. */
  readonly inFlight: number;
  /** Resolves when the worker stops on its own (a fatal database error); rejects with that error. */
  readonly done: Promise<void>;
  /** Takes no new jobs, waits up to `timeoutMs` for running ones, hands the rest back, and releases everything. */
  stop(timeoutMs: number): Promise<StopReport>;
}

const PayloadSchema = z.object({ run_id: z.string().min(1), queue: z.string().min(1) });

function statusOf(result: RunResult): RunOutcome["status"] {
  if (result.status === "failed") return "failed";
  return result.status === "awaiting_approval" ? "awaiting_approval" : "done";
}

function errorOf(error: unknown): RunError {
  if (error instanceof PrCreatorError) return { reason: error.reason, message: error.paragraph };
  return { reason: "internal_error", message: `The run failed unexpectedly: ${errorText(error)}.` };
}

/** Starts a worker; resolves once it holds its liveness lock and takes jobs. */
export async function startWorker(options: WorkerOptions): Promise<RunningWorker> {
  const { db, agent, log } = options;
  const now = options.now ?? (() => new Date());
  const registry = pgRunRegistry(db);
  const inFlight = new Set<string>();

  // Its own connection, never returned to a pool: the lock lives exactly as long as this process's session.
  const liveness = new pg.Client({ connectionString: options.url, application_name: "pr-creator worker liveness" });
  let runner: Runner | undefined;
  let stopping: Promise<StopReport> | undefined;
  // Without its liveness lock this worker looks dead to the others, who hand its jobs out again: it stops taking
  // runs at once (the PR locks still keep a handed-out run from overlapping one of its own still going).
  let lostLiveness = false;
  const onLivenessLost = (why: string) => {
    if (lostLiveness || stopping) return;
    lostLiveness = true;
    log("error", `The liveness connection was lost (${why}); taking no more runs.`);
    void runner?.stop().catch(() => undefined);
  };
  liveness.on("error", (error) => onLivenessLost(errorText(error)));
  liveness.on("end", () => onLivenessLost("the server closed it"));
  await liveness.connect();

  let pool: WorkerPool | undefined;
  let alive: Promise<void> | undefined;
  const events = new EventEmitter();
  // Emitted as the pool is created, before it asks for a job: the lock query goes out first.
  events.on("pool:create", ({ workerPool }: { workerPool: WorkerPool }) => {
    pool = workerPool;
    alive = lockSession(liveness, LIVENESS_NAMESPACE, workerPool.id);
    // Awaited once the pool is up and by every task; until then a failure must not count as unhandled.
    alive.catch(() => undefined);
  });

  // A job throws only when the database failed it (a run's own failure is recorded, not thrown): graphile-worker
  // retries it after a back-off, and the PR's next run may go first, so it is worth a line.
  events.on("job:error", ({ job, error }: { job: Job; error: unknown }) =>
    log(
      "warn",
      `Job ${job.key ?? job.id} failed (attempt ${job.attempts} of ${job.max_attempts}): ${errorText(error)}; it will be retried.`,
    ),
  );

  const execute = async (runId: string): Promise<void> => {
    const run = await registry.claim(runId, now().toISOString());
    // Recorded as ended by an earlier attempt (its job was handed back after the outcome was written).
    if (!run) return;
    options.onRunStart?.(runId);
    let outcome: Omit<RunOutcome, "at">;
    try {
      const result = run.decision ? await agent.resume(run.thread_id, run.decision) : await agent.handle(run.input);
      outcome = { status: statusOf(result), result, error: null };
    } catch (error) {
      outcome = { status: "failed", result: null, error: errorOf(error) };
    }
    if (!(await registry.finish(runId, { ...outcome, at: now().toISOString() })))
      log("warn", `Run ${runId} was no longer running when it ended; its outcome was recorded elsewhere.`);
  };

  const task = async (payload: unknown, _helpers: JobHelpers): Promise<void> => {
    const parsed = PayloadSchema.safeParse(payload);
    // A job that is not ours to read: failing it again would only retry it; it is logged and dropped.
    if (!parsed.success) {
      log("error", `A ${RUN_TASK} job has an unreadable payload (${parsed.error.issues[0]?.message}); dropped.`);
      return;
    }
    const { run_id: runId, queue } = parsed.data;
    await alive;
    inFlight.add(runId);
    try {
      await withRunLock(db.pool, queue, () => execute(runId));
    } finally {
      inFlight.delete(runId);
    }
  };

  let utils: WorkerUtils | undefined;
  try {
    utils = await makeWorkerUtils({ pgPool: db.pool, schema: JOBS_SCHEMA, logger: QUIET });
    runner = await run({
      pgPool: db.pool,
      schema: JOBS_SCHEMA,
      concurrency: options.concurrency,
      taskList: { [RUN_TASK]: task },
      noHandleSignals: true,
      logger: QUIET,
      events: events as never,
      pollInterval: options.pollIntervalMs ?? 1000,
    });
    await alive;
  } catch (error) {
    lostLiveness = true;
    await runner?.stop().catch(() => undefined);
    await Promise.resolve(utils?.release()).catch(() => undefined);
    await liveness.end().catch(() => undefined);
    throw error;
  }
  const poolId = pool!.id;
  // A test's stand-in agent has no policy: nothing is pruned.
  const keepDays = agent.policy?.server.keep_finished_runs_days ?? 0;
  const sweeper = startSweeper({
    db,
    utils,
    intervalMs: options.sweepIntervalMs ?? 1000,
    graceSeconds: options.sweepGraceSeconds ?? 2,
    onSwept: (dead) => {
      log(
        "warn",
        `Handed back the jobs of ${dead.length} dead worker${dead.length === 1 ? "" : "s"} (${dead.join(", ")}).`,
      );
      pool?.nudge(options.concurrency);
    },
    onError: (error) => log("warn", `Looking for dead workers failed (${errorText(error)}); trying again.`),
    prune: {
      registry,
      keepDays,
      onPruned: (deleted) =>
        log("info", `Deleted ${deleted} run${deleted === 1 ? "" : "s"} finished over ${keepDays} days ago.`),
      onError: (error) => log("warn", `Deleting long-finished runs failed (${errorText(error)}); trying again later.`),
    },
  });

  const started = runner;
  const workerUtils = utils;
  return {
    poolId,
    get inFlight() {
      return inFlight.size;
    },
    done: started.promise,
    stop(timeoutMs) {
      stopping ??= (async () => {
        await sweeper.stop();
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
        const stopped = started.stop().then(
          () => "stopped" as const,
          () => "stopped" as const,
        );
        const how = await Promise.race([stopped, timedOut]);
        clearTimeout(timer);
        const released = inFlight.size;
        // Runs still going are cut off with the process: their jobs go back now, not after the sweep of another worker.
        if (how === "timeout") await workerUtils.forceUnlockWorkers([poolId]).catch(() => undefined);
        await Promise.resolve(workerUtils.release()).catch(() => undefined);
        await liveness.end().catch(() => undefined);
        return { drained: how === "stopped" && released === 0, released: how === "timeout" ? released : 0 };
      })();
      return stopping;
    },
  };
}
