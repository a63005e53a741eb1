/**
 * The run registry in PostgreSQL, shared by every `serve` replica and every worker: accepting a run is one
 * transaction that inserts it and adds its graphile-worker job, so a run is never recorded without its job nor
 * queued without its record. The database enforces what the in-process queue enforces with one process:
 * an Idempotency-Key is used once (a unique column) and a thread has at most one active run (a partial unique
 * index over queued, running and awaiting_approval). Timestamps are stored as the ISO strings the API shows
 * and results as `json` (kept as written), so a run reads back exactly as the embedded registry returns it.
 * Finished runs are kept for `server.keep_finished_runs_days`, then deleted by the workers' sweeper (sweeper.ts):
 * with its row goes its Idempotency-Key, so a repeat of a long-finished event is a new run.
 */
import { Logger, runMigrations } from "graphile-worker";
import type pg from "pg";
import type { ApprovalDecision, RunResult } from "../domain/run-result.js";
import { errorText, PrCreatorError } from "../domain/errors.js";
import type { Database, Migration } from "../postgres/database.js";
import { SCHEMA } from "../postgres/database.js";
import type { DrainReport, ResumeOutcome, RunService, Submission, SubmitOutcome } from "../server/runs-queue.js";
import {
  RUN_STATUSES,
  type EventName,
  type RunError,
  type ServerRunStatus,
  type StoredRun,
} from "../server/runs-store.js";

/** graphile-worker's schema: ours alone, so the sweeper never touches another application's workers. */
export const JOBS_SCHEMA = "pr_creator_jobs";
/** The one task the workers run: `{ run_id, queue }`. */
export const RUN_TASK = "pr_creator_run";
/** Attempts graphile-worker makes before giving a job up: runs only throw when the database fails. */
const MAX_ATTEMPTS = 25;
const TABLE = `${SCHEMA}.runs`;

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE ${TABLE} (
        seq bigint GENERATED ALWAYS AS IDENTITY,
        run_id text PRIMARY KEY,
        thread_id text NOT NULL,
        queue_name text NOT NULL,
        event text NOT NULL,
        status text NOT NULL,
        input json NOT NULL,
        request_hash text NOT NULL,
        idempotency_key text UNIQUE,
        decision json,
        result json,
        error json,
        attempts integer NOT NULL DEFAULT 0,
        submitted_at text NOT NULL,
        started_at text,
        finished_at text,
        finished_at_ts timestamptz
      );
      CREATE UNIQUE INDEX runs_one_active_per_thread ON ${TABLE} (thread_id)
        WHERE status IN ('queued', 'running', 'awaiting_approval');
      CREATE INDEX runs_status ON ${TABLE} (status);
    `,
  },
  {
    // The Retry-After estimate counts the runs that finished in the last minute, and pruning looks for the oldest
    // finished runs: both read a range of finished_at_ts, which without this index is a scan of the whole table.
    version: 2,
    sql: `CREATE INDEX runs_finished_at ON ${TABLE} (finished_at_ts);`,
  },
];

interface Row {
  run_id: string;
  thread_id: string;
  queue_name: string;
  event: string;
  status: string;
  input: unknown;
  request_hash: string;
  idempotency_key: string | null;
  decision: unknown;
  result: unknown;
  error: unknown;
  attempts: number;
  submitted_at: string;
  started_at: string | null;
  finished_at: string | null;
}

const COLUMNS =
  "run_id, thread_id, queue_name, event, status, input, request_hash, idempotency_key, decision, result, error, attempts, submitted_at, started_at, finished_at";

function toRun(row: Row): StoredRun {
  return {
    run_id: row.run_id,
    thread_id: row.thread_id,
    event: row.event as EventName,
    status: row.status as ServerRunStatus,
    input: row.input,
    request_hash: row.request_hash,
    idempotency_key: row.idempotency_key,
    decision: (row.decision ?? null) as ApprovalDecision | null,
    result: (row.result ?? null) as RunResult | null,
    error: (row.error ?? null) as RunError | null,
    attempts: row.attempts,
    submitted_at: row.submitted_at,
    started_at: row.started_at,
    finished_at: row.finished_at,
  };
}

export interface RunOutcome {
  status: "done" | "failed" | "awaiting_approval";
  result: RunResult | null;
  error: RunError | null;
  at: string;
}

export interface PgSubmission extends Submission {
  /** The graphile-worker queue: one PR's runs (runs-key.ts). */
  queueName: string;
}

export interface PgRunRegistry {
  get(runId: string): Promise<StoredRun | undefined>;
  submit(submission: PgSubmission, limits: { maxQueued: number; now: Date }): Promise<SubmitOutcome>;
  resume(runId: string, decision: ApprovalDecision): Promise<ResumeOutcome>;
  /** A worker starts (or restarts) a run: it becomes running with one more attempt; undefined when it already ended. */
  claim(runId: string, at: string): Promise<StoredRun | undefined>;
  /** Records how a running run ended; false when it was not running (another worker recorded it). */
  finish(runId: string, outcome: RunOutcome): Promise<boolean>;
  /** Fleet-wide: runs waiting for a worker, and running now. */
  counts(): Promise<{ queued: number; running: number }>;
  /** Fleet-wide: every run in the registry, by status. */
  statusCounts(): Promise<Record<ServerRunStatus, number>>;
  /**
   * Deletes at most `limit` runs that finished (done or failed) more than `days` days ago, by the database's
   * clock; resolves to how many it deleted. Safe to call from any number of processes at once.
   */
  pruneFinished(days: number, limit: number): Promise<number>;
}

/** Creates the runs table and graphile-worker's schema when missing (every process may call it at start). */
export async function migrateRunRegistry(db: Database): Promise<void> {
  // graphile-worker refuses to trust a pool whose clients may emit unhandled errors; a broken client is replaced
  // by the pool, and the query that used it fails and says why.
  if (db.pool.listenerCount("connect") === 0) db.pool.on("connect", (client) => client.on("error", () => undefined));
  await db.migrate("runs", MIGRATIONS);
  await runMigrations({ pgPool: db.pool, schema: JOBS_SCHEMA, logger: QUIET }).catch((error: unknown) => {
    throw new PrCreatorError(
      "invalid_config",
      `The job queue in ${db.url} could not be set up (${errorText(error)}).`,
      {
        hint: `The database user must be allowed to create the ${JOBS_SCHEMA} schema.`,
        cause: error,
      },
    );
  });
}

/** graphile-worker logs to the console by default; the processes here say what matters themselves. */
export const QUIET = new Logger(() => () => undefined);

const addJobSql = `SELECT ${JOBS_SCHEMA}.add_job($1, json_build_object('run_id', $2::text, 'queue', $3::text), queue_name => $3, job_key => $2, max_attempts => ${MAX_ATTEMPTS})`;

async function addRunJob(client: pg.ClientBase, runId: string, queueName: string): Promise<void> {
  await client.query(addJobSql, [RUN_TASK, runId, queueName]);
}

/** The runs that finished in the last minute (exported so a test can check the plan uses runs_finished_at). */
export const FINISHED_LAST_MINUTE_SQL = `SELECT count(*) AS n FROM ${TABLE} WHERE finished_at_ts > now() - interval '60 seconds'`;

/**
 * Deletes up to $2 runs that finished (done or failed) more than $1 days ago, oldest first, and returns their ids.
 * Rows another pruner has locked are skipped, so workers pruning at once delete disjoint batches and never wait.
 * awaiting_approval runs carry a finished_at_ts too (they may still be resumed): the status keeps them.
 */
export const PRUNE_FINISHED_SQL = `
  DELETE FROM ${TABLE} WHERE run_id IN (
    SELECT run_id FROM ${TABLE}
    WHERE finished_at_ts < now() - make_interval(days => $1) AND status IN ('done', 'failed')
    ORDER BY finished_at_ts LIMIT $2
    FOR UPDATE SKIP LOCKED
  ) RETURNING run_id`;

/** Seconds until a queue place is likely to free, from the runs that finished in the last minute; at least 1. */
async function retryAfter(client: pg.ClientBase): Promise<number> {
  const { rows } = await client.query<{ n: string }>(FINISHED_LAST_MINUTE_SQL);
  const finished = Number(rows[0]?.n ?? 0);
  return finished === 0 ? 1 : Math.min(60, Math.max(1, Math.ceil(60 / finished)));
}

export function pgRunRegistry(db: Database): PgRunRegistry {
  const one = (rows: Row[]) => (rows[0] ? toRun(rows[0]) : undefined);
  const select = `SELECT ${COLUMNS} FROM ${TABLE}`;

  /** Looks for the run a submission repeats: same Idempotency-Key, or an active run of the same thread. */
  const existing = async (client: pg.ClientBase, s: Submission): Promise<SubmitOutcome | undefined> => {
    if (s.idempotencyKey !== null) {
      const keyed = one((await client.query<Row>(`${select} WHERE idempotency_key = $1`, [s.idempotencyKey])).rows);
      if (keyed)
        return keyed.request_hash === s.requestHash
          ? { kind: "existing", run: keyed, matchedBy: "idempotency_key" }
          : { kind: "key_reused", run: keyed };
    }
    const active = one(
      (
        await client.query<Row>(
          `${select} WHERE thread_id = $1 AND status IN ('queued', 'running', 'awaiting_approval') ORDER BY seq DESC LIMIT 1`,
          [s.threadId],
        )
      ).rows,
    );
    return active ? { kind: "existing", run: active, matchedBy: "thread" } : undefined;
  };

  return {
    get: async (runId) => one((await db.query<Row>(`${select} WHERE run_id = $1`, [runId])).rows),

    async submit(s, limits) {
      // Two replicas accepting the same key or thread at once: the loser's insert does nothing (it waits for the
      // winner's commit), and the next round finds the winner's run.
      for (let round = 0; round < 3; round += 1) {
        const outcome = await db.transaction(async (client): Promise<SubmitOutcome | undefined> => {
          const found = await existing(client, s);
          if (found) return found;
          const { rows } = await client.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${TABLE} WHERE status = 'queued'`,
          );
          if (Number(rows[0]?.n ?? 0) >= limits.maxQueued)
            return { kind: "full", retryAfterSeconds: await retryAfter(client) };
          const runId = `run_${crypto.randomUUID()}`;
          const inserted = await client.query<Row>(
            `INSERT INTO ${TABLE} (run_id, thread_id, queue_name, event, status, input, request_hash, idempotency_key, submitted_at)
             VALUES ($1, $2, $3, $4, 'queued', $5, $6, $7, $8) ON CONFLICT DO NOTHING RETURNING ${COLUMNS}`,
            [
              runId,
              s.threadId,
              s.queueName,
              s.event,
              JSON.stringify(s.input),
              s.requestHash,
              s.idempotencyKey,
              limits.now.toISOString(),
            ],
          );
          const run = one(inserted.rows);
          if (!run) return undefined;
          await addRunJob(client, runId, s.queueName);
          return { kind: "accepted", run };
        });
        if (outcome) return outcome;
      }
      throw new PrCreatorError(
        "internal_error",
        "The run could not be recorded: concurrent submissions kept conflicting.",
      );
    },

    resume: (runId, decision) =>
      db.transaction(async (client): Promise<ResumeOutcome> => {
        const { rows } = await client.query<Row>(
          `UPDATE ${TABLE} SET status = 'queued', decision = $2, finished_at = NULL, finished_at_ts = NULL
           WHERE run_id = $1 AND status = 'awaiting_approval' RETURNING ${COLUMNS}`,
          [runId, JSON.stringify(decision)],
        );
        const resumed = rows[0];
        if (resumed) {
          await addRunJob(client, runId, resumed.queue_name);
          return { kind: "accepted", run: toRun(resumed) };
        }
        const run = one((await client.query<Row>(`${select} WHERE run_id = $1`, [runId])).rows);
        return run ? { kind: "not_awaiting", run } : { kind: "not_found" };
      }),

    claim: async (runId, at) =>
      one(
        (
          await db.query<Row>(
            `UPDATE ${TABLE} SET status = 'running', started_at = $2, attempts = attempts + 1
             WHERE run_id = $1 AND status IN ('queued', 'running') RETURNING ${COLUMNS}`,
            [runId, at],
          )
        ).rows,
      ),

    async finish(runId, outcome) {
      const { rowCount } = await db.query(
        `UPDATE ${TABLE} SET status = $2, result = $3, error = $4, decision = NULL, finished_at = $5, finished_at_ts = now()
         WHERE run_id = $1 AND status = 'running'`,
        [
          runId,
          outcome.status,
          outcome.result === null ? null : JSON.stringify(outcome.result),
          outcome.error === null ? null : JSON.stringify(outcome.error),
          outcome.at,
        ],
      );
      return rowCount === 1;
    },

    async counts() {
      const { rows } = await db.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM ${TABLE} WHERE status IN ('queued', 'running') GROUP BY status`,
      );
      const of = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
      return { queued: of("queued"), running: of("running") };
    },

    async statusCounts() {
      const { rows } = await db.query<{ status: string; n: string }>(
        `SELECT status, count(*) AS n FROM ${TABLE} GROUP BY status`,
      );
      const of = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
      return Object.fromEntries(RUN_STATUSES.map((status) => [status, of(status)])) as Record<ServerRunStatus, number>;
    },

    async pruneFinished(days, limit) {
      const { rowCount } = await db.query(PRUNE_FINISHED_SQL, [days, limit]);
      return rowCount ?? 0;
    },
  };
}

export interface PgRunServiceOptions {
  db: Database;
  /** The graphile-worker queue of a run: its PR (run-key.ts). */
  queueNameOf: (input: unknown) => string;
  maxQueued: number;
  now: () => Date;
  /** How often the fleet-wide gauges (queue depth, runs in flight) are refreshed; default 2 s. */
  refreshMs?: number;
  /** Close the database with the service (the server opened it for the service alone). */
  ownsDatabase?: boolean;
}

/**
 * The HTTP server's runs when a database is configured: accepted here, executed by `pr-creator worker`
 * processes. Nothing runs in this process, so a drain has nothing to wait for and a restart nothing to recover.
 */
export function pgRunService(options: PgRunServiceOptions): RunService {
  const registry = pgRunRegistry(options.db);
  let counts = { queued: 0, running: 0 };
  let draining = false;
  const refresh = () =>
    registry.counts().then(
      (c) => (counts = c),
      () => undefined,
    );
  void refresh();
  const timer = setInterval(refresh, options.refreshMs ?? 2000);
  timer.unref();
  return {
    get depth() {
      return counts.queued;
    },
    get running() {
      return counts.running;
    },
    get isDraining() {
      return draining;
    },
    get: (runId) => registry.get(runId),
    statusCounts: () => registry.statusCounts(),
    submit(submission) {
      if (draining) return { kind: "draining" };
      return registry.submit(
        { ...submission, queueName: options.queueNameOf(submission.input) },
        { maxQueued: options.maxQueued, now: options.now() },
      );
    },
    resume(runId, decision) {
      if (draining) return { kind: "draining" };
      return registry.resume(runId, decision);
    },
    recover: () => 0,
    drain(): Promise<DrainReport> {
      draining = true;
      return Promise.resolve({ drained: true, running: 0, queued: 0 });
    },
    async close() {
      draining = true;
      clearInterval(timer);
      if (options.ownsDatabase) await options.db.close();
    },
    ready: () =>
      options.db.query("SELECT 1").then(
        () => true,
        () => false,
      ),
  };
}
