/**
 * The tracker outbox: tracker updates that could not be sent (the tracker was down or refused), kept until a
 * later run sends them — in the agent's state file here (this module touches only `tracker_outbox` and its
 * schema version table), in the shared database when one is configured (src/postgres/tracker-outbox.ts).
 *
 * Layout of `tracker_outbox`: `update_key` (issue, PR and moment — see updateKey; one row per key, a newer
 * update of the same key replaces the waiting one), `issue_id`, `update` (the TrackerUpdate as JSON),
 * `attempts`, `last_error`, `created_at`, `leased_until` (ISO 8601 UTC; a run that is sending a row leases it
 * so another run on the same file does not send it too).
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { errorText, formatZodIssues } from "../domain/errors.js";
import { isNotADatabase, migrateTable, notAStateFile, stateFileError } from "../state/state-db.js";
import { TrackerUpdateSchema, updateKey, type TrackerUpdate } from "./tracker.js";

export interface WaitingUpdate {
  id: number;
  key: string;
  issueId: string;
  update: TrackerUpdate | null;
  /** Why the stored update could not be read back, when it could not. */
  problem: string | null;
  attempts: number;
  lastError: string | null;
  createdAt: string;
}

export interface TrackerOutbox {
  /** Where the rows live (the state file, or the database URL without its password), for messages. */
  readonly where: string;
  /** Keeps an update that was not sent; an update waiting under the same key is replaced by this one. */
  add(update: TrackerUpdate, error: string): Promise<void>;
  /** Whether updates of this issue wait (a newer one must then wait behind them, to keep their order). */
  waiting(issueId: string): Promise<boolean>;
  /** Leases the due rows, oldest first, to this caller for `leaseMs`; rows leased by another run are skipped. */
  claim(leaseMs: number): Promise<WaitingUpdate[]>;
  /**
   * The row was sent: remove it — unless a newer update of its key replaced it after this handle claimed it; that
   * one stays, due again at once.
   */
  done(id: number): Promise<void>;
  /** Sending the row failed again: count it and release the lease. */
  failed(id: number, error: string): Promise<void>;
  /** The row was not tried: release the lease without counting an attempt. */
  release(id: number): Promise<void>;
  list(): Promise<WaitingUpdate[]>;
  close(): Promise<void>;
}

const BUSY_TIMEOUT_MS = 5000;
export const MAX_ERROR_LENGTH = 1000;

const MIGRATIONS = [
  {
    version: 1,
    sql: `
      CREATE TABLE tracker_outbox (
        id INTEGER PRIMARY KEY,
        update_key TEXT NOT NULL UNIQUE,
        issue_id TEXT NOT NULL,
        "update" TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        leased_until TEXT
      );
      CREATE INDEX tracker_outbox_issue ON tracker_outbox (issue_id, id);
    `,
  },
];

export interface Row {
  id: number;
  update_key: string;
  issue_id: string;
  update: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  leased_until: string | null;
}

/** A stored row as the notifier sees it; an update that does not read back is reported, not thrown. */
export function readRow(row: Row): WaitingUpdate {
  let update: TrackerUpdate | null = null;
  let problem: string | null = null;
  try {
    const parsed = TrackerUpdateSchema.safeParse(JSON.parse(row.update));
    if (parsed.success) update = parsed.data;
    else problem = formatZodIssues(parsed.error).join("; ");
  } catch (error) {
    problem = `not JSON: ${errorText(error)}`;
  }
  return {
    id: row.id,
    key: row.update_key,
    issueId: row.issue_id,
    update,
    problem,
    attempts: row.attempts,
    lastError: row.last_error,
    createdAt: row.created_at,
  };
}

/** Opens (or creates) the tracker outbox in the state file; throws a PrCreatorError (invalid_config) when it cannot. */
export function openTrackerOutbox(stateFile: string, options: { now?: () => Date } = {}): TrackerOutbox {
  const now = options.now ?? (() => new Date());
  let db: Database.Database | undefined;
  try {
    if (stateFile !== ":memory:") mkdirSync(path.dirname(path.resolve(stateFile)), { recursive: true });
    db = new Database(stateFile);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    // A row is the only copy of an update the tracker has not seen.
    db.pragma("synchronous = FULL");
    migrateTable(db, stateFile, "tracker_outbox", "The tracker outbox", MIGRATIONS);
  } catch (error) {
    db?.close();
    throw stateFileError(stateFile, error, "the tracker outbox");
  }
  const conn = db;
  const upsert = conn.prepare(
    `INSERT INTO tracker_outbox (update_key, issue_id, "update", attempts, last_error, created_at, leased_until)
     VALUES (?, ?, ?, 1, ?, ?, NULL)
     ON CONFLICT (update_key) DO UPDATE SET "update" = excluded."update", attempts = attempts + 1, last_error = excluded.last_error`,
  );
  const byIssue = conn.prepare("SELECT 1 FROM tracker_outbox WHERE issue_id = ? LIMIT 1").pluck();
  const due = conn.prepare("SELECT * FROM tracker_outbox WHERE leased_until IS NULL OR leased_until < ? ORDER BY id");
  const lease = conn.prepare("UPDATE tracker_outbox SET leased_until = ? WHERE id = ?");
  const remove = conn.prepare("DELETE FROM tracker_outbox WHERE id = ?");
  const removeSent = conn.prepare('DELETE FROM tracker_outbox WHERE id = ? AND "update" = ?');
  const unleaseMine = conn.prepare("UPDATE tracker_outbox SET leased_until = NULL WHERE id = ? AND leased_until = ?");
  const fail = conn.prepare(
    "UPDATE tracker_outbox SET attempts = attempts + 1, last_error = ?, leased_until = NULL WHERE id = ?",
  );
  const unlease = conn.prepare("UPDATE tracker_outbox SET leased_until = NULL WHERE id = ?");
  const all = conn.prepare("SELECT * FROM tracker_outbox ORDER BY id");
  let closed = false;
  /**
   * What this handle claimed, by row id: the update as it was sent and the lease taken. A run that replaces a
   * waiting update while another sends it (add, same key) must not see its newer update deleted by that send.
   */
  const claimed = new Map<number, { update: string; until: string }>();

  const run = async <T>(operation: () => T): Promise<T> => {
    if (closed) throw new Error(`The tracker outbox on ${stateFile} is closed.`);
    try {
      return operation();
    } catch (error) {
      if (isNotADatabase(error)) throw notAStateFile(stateFile, error);
      throw error;
    }
  };

  const claimAll = conn.transaction((at: string, until: string) => {
    const rows = due.all(at) as Row[];
    for (const row of rows) {
      lease.run(until, row.id);
      claimed.set(row.id, { update: row.update, until });
    }
    return rows;
  });

  const sent = conn.transaction((id: number) => {
    const mine = claimed.get(id);
    claimed.delete(id);
    if (!mine) return void remove.run(id);
    // Replaced by a newer update while this one was sent: that one waits, due again at once.
    if (removeSent.run(id, mine.update).changes === 0) unleaseMine.run(id, mine.until);
  });

  return {
    where: stateFile,
    async add(update, error) {
      await run(() =>
        upsert.run(
          updateKey(update),
          update.issue_id,
          JSON.stringify(update),
          error.slice(0, MAX_ERROR_LENGTH),
          now().toISOString(),
        ),
      );
    },
    waiting: (issueId) => run(() => byIssue.get(issueId) !== undefined),
    async claim(leaseMs) {
      const at = now();
      const rows = await run(() =>
        claimAll.immediate(at.toISOString(), new Date(at.getTime() + leaseMs).toISOString()),
      );
      return rows.map(readRow);
    },
    done: async (id) => void (await run(() => sent.immediate(id))),
    failed: async (id, error) => {
      claimed.delete(id);
      await run(() => fail.run(error.slice(0, MAX_ERROR_LENGTH), id));
    },
    release: async (id) => {
      claimed.delete(id);
      await run(() => unlease.run(id));
    },
    list: () => run(() => (all.all() as Row[]).map(readRow)),
    async close() {
      if (closed) return;
      closed = true;
      conn.close();
    },
  };
}
