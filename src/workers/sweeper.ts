/**
 * graphile-worker keeps the jobs and queues of a worker that died without a word (kill -9, a lost machine)
 * locked for 4 hours. Each worker process holds a liveness advisory lock on its pool's id for as long as it
 * lives (the server drops it the moment the process's connection dies); a live worker periodically looks for
 * locks held by pools whose liveness lock is gone and hands their jobs back with forceUnlockWorkers, so a
 * crash costs seconds. The look-up reads pg_locks and takes no lock, so it cannot disturb a live worker.
 *
 * The sweeper also keeps the run registry from growing forever: at its first tick and then every `prune.everyMs`
 * it deletes runs that finished more than `prune.keepDays` days ago, one batch of `prune.batchSize` per tick (each
 * its own short transaction) until a batch comes back short. Every worker does this; a batch skips rows another
 * worker is deleting, so they never wait for each other nor delete a run twice.
 */
import type { WorkerUtils } from "graphile-worker";
import type { Database } from "../postgres/database.js";
import { LIVENESS_NAMESPACE } from "./locks.js";
import { JOBS_SCHEMA, type PgRunRegistry } from "./pg-runs.js";

/**
 * Pools holding job or queue locks older than `graceSeconds` whose liveness lock nobody holds. The grace
 * covers the moment between a new pool taking its first job and its liveness lock being granted.
 */
const DEAD_POOLS = `
  WITH held AS (
    SELECT locked_by, locked_at FROM ${JOBS_SCHEMA}._private_jobs WHERE locked_by IS NOT NULL
    UNION ALL
    SELECT locked_by, locked_at FROM ${JOBS_SCHEMA}._private_job_queues WHERE locked_by IS NOT NULL
  )
  SELECT DISTINCT held.locked_by FROM held
  WHERE held.locked_at < now() - make_interval(secs => $2)
    AND NOT EXISTS (
      SELECT 1 FROM pg_locks l
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND l.classid = $1::int4::oid AND l.objid = hashtext(held.locked_by)::oid
    )`;

/** Unlocks the jobs and queues of dead pools; resolves to their ids. */
export async function sweepDeadWorkers(
  db: Database,
  utils: Pick<WorkerUtils, "forceUnlockWorkers">,
  graceSeconds: number,
): Promise<string[]> {
  const { rows } = await db.query<{ locked_by: string }>(DEAD_POOLS, [LIVENESS_NAMESPACE, graceSeconds]);
  const dead = rows.map((r) => r.locked_by);
  if (dead.length > 0) await utils.forceUnlockWorkers(dead);
  return dead;
}

export interface PruneOptions {
  registry: Pick<PgRunRegistry, "pruneFinished">;
  /** server.keep_finished_runs_days; 0 keeps every run (no pruning). */
  keepDays: number;
  /** How often to prune after the first tick's pruning; default 60 s. */
  everyMs?: number;
  /** Runs deleted per transaction; default 1,000. */
  batchSize?: number;
  /** Runs were deleted (a whole pruning, all its batches). */
  onPruned: (deleted: number) => void;
  onError: (error: unknown) => void;
}

export interface SweeperOptions {
  db: Database;
  utils: Pick<WorkerUtils, "forceUnlockWorkers">;
  intervalMs: number;
  graceSeconds: number;
  /** Jobs were handed back: wake the local workers so they need not wait for their next poll. */
  onSwept: (deadPools: string[]) => void;
  onError: (error: unknown) => void;
  /** Deletes long-finished runs from the registry; without it nothing is pruned. */
  prune?: PruneOptions;
}

/**
 * The pruning half of the sweeper: `step()` deletes one batch when pruning is due and resolves to the runs a
 * pruning round deleted once it ends (a short batch), else 0. A full batch leaves pruning due, so a backlog (the
 * first start after an upgrade) is worked off one batch per tick without holding up the sweeps of dead workers.
 */
export function finishedRunPruner(config: PruneOptions, clock: () => number = Date.now): { step(): Promise<number> } {
  const batch = config.batchSize ?? 1000;
  let dueAt = 0;
  let deleted = 0;
  return {
    async step() {
      if (config.keepDays <= 0 || clock() < dueAt) return 0;
      let n: number;
      try {
        n = await config.registry.pruneFinished(config.keepDays, batch);
      } catch (error) {
        dueAt = clock() + (config.everyMs ?? 60_000);
        deleted = 0;
        throw error;
      }
      deleted += n;
      if (n === batch) return 0;
      dueAt = clock() + (config.everyMs ?? 60_000);
      const round = deleted;
      deleted = 0;
      return round;
    },
  };
}

/** Sweeps every `intervalMs` until stopped; one sweep (and pruning batch) at a time. */
export function startSweeper(options: SweeperOptions): { stop: () => Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const pruner = options.prune ? finishedRunPruner(options.prune) : undefined;
  const prune = async () => {
    if (!pruner || !options.prune || stopped) return;
    const config = options.prune;
    await pruner.step().then(
      (deleted) => {
        if (deleted > 0) config.onPruned(deleted);
      },
      (error: unknown) => config.onError(error),
    );
  };
  const tick = () => {
    if (stopped || running) return;
    running = sweepDeadWorkers(options.db, options.utils, options.graceSeconds)
      .then((dead) => {
        if (dead.length > 0) options.onSwept(dead);
      }, options.onError)
      .then(prune)
      .finally(() => (running = undefined));
  };
  const timer = setInterval(tick, options.intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
