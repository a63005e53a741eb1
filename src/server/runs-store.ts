/**
 * The HTTP server's run registry, kept in the agent's state file so accepted runs outlive the process: a run
 * left queued or running by a crash is found on the next start and run again, and a run paused for approval
 * can be resumed by its id after a restart (its LangGraph checkpoint lives in the same file).
 *
 * As with the PR history, every table here is prefixed `server_runs` and no other table is touched; the schema
 * is versioned in `server_runs_schema_version`. better-sqlite3 is synchronous, so a look-up followed by an
 * insert in one tick cannot interleave with another request of this process. One server per state file: two
 * servers would each re-run the other's unfinished runs on start.
 *
 * Finished runs are kept for `server.keep_finished_runs_days`, then deleted by the server's pruner
 * (runs-retention.ts), as the workers do in PostgreSQL: with its row goes its Idempotency-Key, so a repeat of a
 * long-finished event is a new run.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import type { RunResult } from "../domain/run-result.js";
import type { ApprovalDecision } from "../domain/run-result.js";
import { errorText, PrCreatorError } from "../domain/errors.js";
import { migrateTable, stateFileError } from "../state/state-db.js";

type Db = Database.Database;

export const RUN_STATUSES = ["queued", "running", "done", "failed", "awaiting_approval"] as const;
export type ServerRunStatus = (typeof RUN_STATUSES)[number];
export const EVENT_NAMES = ["CommitCompleted", "ChangeRequested"] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/** Why a run ended without a RunResult: the agent threw (a bad config found late, a bug, a closed state file). */
export interface RunError {
  reason: string;
  message: string;
}

export interface StoredRun {
  run_id: string;
  thread_id: string;
  event: EventName;
  status: ServerRunStatus;
  input: unknown;
  /** SHA-256 of the request body as parsed, to tell a retried request from a reused Idempotency-Key. */
  request_hash: string;
  idempotency_key: string | null;
  /** A person's answer waiting to be applied (status queued or running after a resume request). */
  decision: ApprovalDecision | null;
  result: RunResult | null;
  error: RunError | null;
  /** How many times the run was started (more than one after a restart or a resume). */
  attempts: number;
  submitted_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export type NewRun = Pick<
  StoredRun,
  "run_id" | "thread_id" | "event" | "input" | "request_hash" | "idempotency_key" | "submitted_at"
>;

export interface RunStore {
  readonly file: string;
  insert(run: NewRun): StoredRun;
  get(runId: string): StoredRun | undefined;
  /** The newest run of a thread that is queued, running or awaiting approval. */
  activeForThread(threadId: string): StoredRun | undefined;
  byIdempotencyKey(key: string): StoredRun | undefined;
  markRunning(runId: string, at: string): void;
  finish(
    runId: string,
    outcome: {
      status: "done" | "failed" | "awaiting_approval";
      result: RunResult | null;
      error: RunError | null;
      at: string;
    },
  ): void;
  /** A paused run goes back in the queue with the person's decision. */
  requeueWithDecision(runId: string, decision: ApprovalDecision): void;
  /** Runs a previous process left queued or running, oldest first. */
  unfinished(): StoredRun[];
  /**
   * Deletes at most `limit` runs that finished (done or failed) before `before` (an ISO timestamp), oldest first;
   * returns how many it deleted. Queued, running and awaiting_approval runs are never deleted.
   */
  pruneFinished(before: string, limit: number): number;
  close(): void;
}

const BUSY_TIMEOUT_MS = 5000;

const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE server_runs (
        run_id TEXT PRIMARY KEY,
        thread_id TEXT NOT NULL,
        event TEXT NOT NULL,
        status TEXT NOT NULL,
        input TEXT NOT NULL,
        request_hash TEXT NOT NULL,
        idempotency_key TEXT UNIQUE,
        decision TEXT,
        result TEXT,
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        submitted_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT
      );
      CREATE INDEX server_runs_thread ON server_runs (thread_id, status);
      CREATE INDEX server_runs_status ON server_runs (status);
    `,
  },
  {
    // Pruning reads the oldest finished runs one batch at a time: without this index every batch would sort all
    // finished runs, a long block of the event loop on a big backlog. Partial, so it only holds what may go.
    version: 2,
    sql: `CREATE INDEX server_runs_finished ON server_runs (finished_at) WHERE status IN ('done', 'failed');`,
  },
];

interface Row {
  run_id: string;
  thread_id: string;
  event: string;
  status: string;
  input: string;
  request_hash: string;
  idempotency_key: string | null;
  decision: string | null;
  result: string | null;
  error: string | null;
  attempts: number;
  submitted_at: string;
  started_at: string | null;
  finished_at: string | null;
}

/**
 * Deletes up to the second parameter's runs that finished (done or failed) before the first, oldest first.
 * finished_at is written by toISOString, so text order is time order. awaiting_approval runs carry a finished_at
 * too (they may still be resumed): the status keeps them. The index is named because without statistics SQLite
 * prefers server_runs_status and sorts every finished run for each batch (exported so a test can check the plan).
 */
export const PRUNE_FINISHED_SQL = `
  DELETE FROM server_runs WHERE rowid IN (
    SELECT rowid FROM server_runs INDEXED BY server_runs_finished
    WHERE status IN ('done', 'failed') AND finished_at < ?
    ORDER BY finished_at LIMIT ?
  )`;

/** Opens (or creates) the run registry in the state file; a PrCreatorError (invalid_config) when it cannot. */
export function openRunStore(file: string): RunStore {
  let db: Db | undefined;
  try {
    if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new Database(file);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    migrateTable(db, file, "server_runs", "The server's run registry", MIGRATIONS);
    return sqliteRunStore(db, file);
  } catch (error) {
    db?.close();
    throw stateFileError(file, error, "the server's run registry");
  }
}

function sqliteRunStore(db: Db, file: string): RunStore {
  const insert = db.prepare(
    "INSERT INTO server_runs (run_id, thread_id, event, status, input, request_hash, idempotency_key, submitted_at) VALUES (@run_id, @thread_id, @event, 'queued', @input, @request_hash, @idempotency_key, @submitted_at)",
  );
  const byId = db.prepare("SELECT * FROM server_runs WHERE run_id = ?");
  const byKey = db.prepare("SELECT * FROM server_runs WHERE idempotency_key = ?");
  const activeOfThread = db.prepare(
    "SELECT * FROM server_runs WHERE thread_id = ? AND status IN ('queued', 'running', 'awaiting_approval') ORDER BY rowid DESC LIMIT 1",
  );
  const running = db.prepare(
    "UPDATE server_runs SET status = 'running', started_at = ?, attempts = attempts + 1 WHERE run_id = ?",
  );
  const finished = db.prepare(
    "UPDATE server_runs SET status = ?, result = ?, error = ?, decision = NULL, finished_at = ? WHERE run_id = ?",
  );
  const requeue = db.prepare(
    "UPDATE server_runs SET status = 'queued', decision = ?, finished_at = NULL WHERE run_id = ?",
  );
  const leftOver = db.prepare("SELECT * FROM server_runs WHERE status IN ('queued', 'running') ORDER BY rowid");
  const prune = db.prepare(PRUNE_FINISHED_SQL);

  const parse = (row: Row): StoredRun => {
    try {
      return {
        ...row,
        event: row.event as EventName,
        status: row.status as ServerRunStatus,
        input: JSON.parse(row.input) as unknown,
        decision: row.decision === null ? null : (JSON.parse(row.decision) as ApprovalDecision),
        result: row.result === null ? null : (JSON.parse(row.result) as RunResult),
        error: row.error === null ? null : (JSON.parse(row.error) as RunError),
      };
    } catch (error) {
      throw new PrCreatorError(
        "invalid_config",
        `Row ${row.run_id} of server_runs in ${file} is not valid JSON (${errorText(error)}).`,
        { hint: "The table was edited by hand; delete the row." },
      );
    }
  };
  const one = (row: unknown) => (row === undefined ? undefined : parse(row as Row));

  return {
    file,
    insert(run) {
      insert.run({ ...run, input: JSON.stringify(run.input) });
      return one(byId.get(run.run_id))!;
    },
    get: (runId) => one(byId.get(runId)),
    activeForThread: (threadId) => one(activeOfThread.get(threadId)),
    byIdempotencyKey: (key) => one(byKey.get(key)),
    markRunning(runId, at) {
      running.run(at, runId);
    },
    finish(runId, outcome) {
      finished.run(
        outcome.status,
        outcome.result === null ? null : JSON.stringify(outcome.result),
        outcome.error === null ? null : JSON.stringify(outcome.error),
        outcome.at,
        runId,
      );
    },
    requeueWithDecision(runId, decision) {
      requeue.run(JSON.stringify(decision), runId);
    },
    unfinished: () => (leftOver.all() as Row[]).map(parse),
    pruneFinished: (before, limit) => prune.run(before, limit).changes,
    close() {
      if (db.open) db.close();
    },
  };
}
