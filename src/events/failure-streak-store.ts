/**
 * Failure streaks in the agent's SQLite state file: table `failure_streaks` (one row per key: `repo:<name>` or
 * `trace:<id>`) with its schema version table `failure_streaks_schema_version`. The read-modify-write of a key
 * runs in one immediate transaction, so runs in other processes on the same file count every failure once.
 * Table `failure_alerts` holds the alerts raised and not yet handed to the sinks, inserted in the transaction that
 * marks their streak alerted (failure-streak.ts says why); a lease (ISO 8601 UTC text, on the `now` clock) says
 * until when the raising process may send one before the next update takes it over.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { AlertedFailureSchema } from "../domain/events.js";
import { isNotADatabase, migrateTable, notAStateFile, stateFileError } from "../state/state-db.js";
import {
  ALERT_LEASE_MS,
  NO_STREAK,
  readPendingAlert,
  type PendingAlert,
  type Streak,
  type StreakStore,
} from "./failure-streak.js";

const BUSY_TIMEOUT_MS = 5000;

const MIGRATIONS = [
  {
    version: 1,
    sql: `
      CREATE TABLE failure_streaks (
        key TEXT PRIMARY KEY,
        count INTEGER NOT NULL,
        alerted INTEGER NOT NULL,
        recent TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE failure_alerts (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        alert TEXT NOT NULL,
        created_at TEXT NOT NULL,
        lease_until TEXT NOT NULL
      );
    `,
  },
];

const RecentSchema = z.array(AlertedFailureSchema);

interface Row {
  count: number;
  alerted: number;
  recent: string;
}

/** A row written by another version, or by hand, that does not read back starts the streak afresh. */
function streakOf(row: Row | undefined): Streak {
  if (!row) return NO_STREAK;
  let recent: unknown;
  try {
    recent = JSON.parse(row.recent);
  } catch {
    return NO_STREAK;
  }
  const parsed = RecentSchema.safeParse(recent);
  return parsed.success ? { count: row.count, alerted: row.alerted === 1, recent: parsed.data } : NO_STREAK;
}

/**
 * Opens (or creates) the streak table in the state file. Throws a PrCreatorError (invalid_config) when the
 * file cannot be opened, is not a database, or holds a table newer than this pr-creator.
 */
export function openStreakStore(stateFile: string, options: { now?: () => Date } = {}): StreakStore {
  const now = options.now ?? (() => new Date());
  let db: Database.Database | undefined;
  try {
    if (stateFile !== ":memory:") mkdirSync(path.dirname(path.resolve(stateFile)), { recursive: true });
    db = new Database(stateFile);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    migrateTable(db, stateFile, "failure_streaks", "The failure streaks", MIGRATIONS);
  } catch (error) {
    db?.close();
    throw stateFileError(stateFile, error, "the failure streaks");
  }
  const conn = db;
  const read = conn.prepare("SELECT count, alerted, recent FROM failure_streaks WHERE key = ?");
  const write = conn.prepare(
    `INSERT INTO failure_streaks (key, count, alerted, recent, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (key) DO UPDATE SET count = excluded.count, alerted = excluded.alerted, recent = excluded.recent,
       updated_at = excluded.updated_at`,
  );
  const remove = conn.prepare("DELETE FROM failure_streaks WHERE key = ?");
  const overdue = conn.prepare("SELECT id, alert FROM failure_alerts WHERE lease_until <= ? ORDER BY id");
  const lease = conn.prepare("UPDATE failure_alerts SET lease_until = ? WHERE id = ?");
  const raise = conn.prepare("INSERT INTO failure_alerts (key, alert, created_at, lease_until) VALUES (?, ?, ?, ?)");
  const forget = conn.prepare("DELETE FROM failure_alerts WHERE id = ?");
  let closed = false;
  return {
    async update(key, step) {
      if (closed) throw new Error(`The failure streaks on ${stateFile} are closed.`);
      try {
        return conn
          .transaction((): PendingAlert[] => {
            const at = now();
            const leaseUntil = new Date(at.getTime() + ALERT_LEASE_MS).toISOString();
            const { streak, alert } = step(streakOf(read.get(key) as Row | undefined));
            // A cleared streak leaves no row behind: the table holds only repositories that are failing.
            if (streak.count === 0) remove.run(key);
            else write.run(key, streak.count, streak.alerted ? 1 : 0, JSON.stringify(streak.recent), at.toISOString());
            // Alerts whose process died before sending them, taken over with a new lease.
            const due = (overdue.all(at.toISOString()) as Array<{ id: number; alert: string }>).flatMap((row) => {
              lease.run(leaseUntil, row.id);
              return readPendingAlert(String(row.id), row.alert) ?? [];
            });
            if (alert === null) return due;
            const { lastInsertRowid } = raise.run(key, JSON.stringify(alert), at.toISOString(), leaseUntil);
            return [...due, { id: String(lastInsertRowid), alert }];
          })
          .immediate();
      } catch (error) {
        if (isNotADatabase(error)) throw notAStateFile(stateFile, error);
        throw error;
      }
    },
    async sent(id) {
      if (closed) throw new Error(`The failure streaks on ${stateFile} are closed.`);
      forget.run(Number(id));
    },
    async close() {
      if (closed) return;
      closed = true;
      conn.close();
    },
  };
}
