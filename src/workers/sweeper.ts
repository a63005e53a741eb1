/**
 * graphile-worker keeps the jobs and queues of a worker that died without a word (kill -9, a lost machine)
 * locked for 4 hours. Each worker process holds a liveness advisory lock on its pool's id for as long as it
 * lives (the server drops it the moment the process's connection dies); a live worker periodically looks for
 * locks held by pools whose liveness lock is gone and hands their jobs back with forceUnlockWorkers, so a
 * crash costs seconds. The look-up reads pg_locks and takes no lock, so it cannot disturb a live worker.
 */
import type { WorkerUtils } from "graphile-worker";
import type { Database } from "../postgres/database.js";
import { LIVENESS_NAMESPACE } from "./locks.js";
import { JOBS_SCHEMA } from "./pg-runs.js";

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

export interface SweeperOptions {
  db: Database;
  utils: Pick<WorkerUtils, "forceUnlockWorkers">;
  intervalMs: number;
  graceSeconds: number;
  /** Jobs were handed back: wake the local workers so they need not wait for their next poll. */
  onSwept: (deadPools: string[]) => void;
  onError: (error: unknown) => void;
}

/** Sweeps every `intervalMs` until stopped; one sweep at a time. */
export function startSweeper(options: SweeperOptions): { stop: () => Promise<void> } {
  let running: Promise<void> | undefined;
  let stopped = false;
  const tick = () => {
    if (stopped || running) return;
    running = sweepDeadWorkers(options.db, options.utils, options.graceSeconds)
      .then((dead) => {
        if (dead.length > 0) options.onSwept(dead);
      }, options.onError)
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
