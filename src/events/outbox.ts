/**
 * The event outbox: lifecycle events a sink did not accept, kept in the agent's state file until that sink
 * takes them. One row per (event, sink), so a sink that failed gets the event again and the sinks that
 * accepted it do not.
 *
 * The state file is shared with LangGraph's checkpoints, the memory and the PR history: this module touches
 * only `event_outbox` and its schema version table `event_outbox_schema_version`.
 *
 * Layout of `event_outbox`: `sink_key` (which sink, e.g. `webhook:<url>`), `delivery_id` (the id the sink saw
 * the first time, sent again on every re-send so receivers can drop duplicates), `event` (the event as JSON),
 * `attempts` (delivery rounds that failed, each with the sink's own retries), `last_error`, `created_at` and
 * `next_attempt_at` (ISO 8601 UTC, so they sort as text).
 *
 * Order and concurrency: a flush sends each sink's events oldest first and stops at that sink's first
 * failure, so a later event never overtakes an earlier one. It first claims the rows it will send (moving
 * their next_attempt_at a lease ahead, in one write transaction), so flushes in other agents or processes
 * on the same file skip them. A process that dies mid-flush leaves rows that become due when the lease ends;
 * a row whose sink accepted it just before such a crash is sent again, with the same delivery id.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { errorText, formatZodIssues } from "../domain/errors.js";
import { LifecycleEventSchema, type LifecycleEvent } from "../domain/events.js";
import type { DeliverySink } from "./sinks.js";
import { isNotADatabase, migrateTable, notAStateFile, stateFileError } from "../state/state-db.js";

type Db = Database.Database;

export interface WaitingEvent {
  id: number;
  sink: string;
  deliveryId: string;
  /** The event as stored (JSON). */
  eventJson: string;
  attempts: number;
  lastError: string | null;
  createdAt: string;
  nextAttemptAt: string;
}

export interface FlushResult {
  /** Events delivered and removed by this flush. */
  sent: number;
  /** Events still in the outbox afterwards, for any sink. */
  waiting: number;
}

export interface Outbox {
  readonly file: string;
  /** Keeps an event that `sink` did not accept after its own retries; it is due at the next flush. */
  add(entry: { sink: string; event: LifecycleEvent; deliveryId: string; error: string }): void;
  /**
   * Sends the due events of every sink in `sinks` (oldest first) and removes those delivered. A delivery
   * failure is recorded on the row and delays its sink's next try; it never makes flush reject. Rows of
   * sinks not in `sinks` (no longer configured) are left alone.
   */
  flush(sinks: ReadonlyMap<string, DeliverySink>): Promise<FlushResult>;
  /** Every waiting event, oldest first. */
  list(): WaitingEvent[];
  /** Closes the connection; later calls throw. */
  close(): void;
}

/**
 * Port: the outbox as event delivery uses it, in the state file (openOutbox, wrapped by outboxStore) or in
 * PostgreSQL (src/postgres/outbox.ts), where any worker or replica may flush it. Same rules for both: per sink
 * oldest first, stop at a sink's first failure, claimed rows leased so one flush sends each.
 */
export interface OutboxStore {
  /** Where the events wait, for messages: the state file, or the database without its password. */
  readonly where: string;
  add(entry: { sink: string; event: LifecycleEvent; deliveryId: string; error: string }): Promise<void>;
  flush(sinks: ReadonlyMap<string, DeliverySink>): Promise<FlushResult>;
  list(): Promise<WaitingEvent[]>;
  close(): Promise<void>;
}

/** The state file's outbox behind the port. */
export function outboxStore(outbox: Outbox): OutboxStore {
  return {
    where: outbox.file,
    add: async (entry) => outbox.add(entry),
    flush: (sinks) => outbox.flush(sinks),
    list: async () => outbox.list(),
    close: async () => outbox.close(),
  };
}

/** How long a write waits for another connection's lock (as the other tables of the state file). */
const BUSY_TIMEOUT_MS = 5000;
/** How long claimed rows are hidden from other flushes; longer than any delivery round takes. */
export const LEASE_MS = 10 * 60_000;
/** After a failed re-send a sink is left alone for 30 s, doubling per failure up to 30 min, so a sink that stays down does not slow every run. */
const FIRST_DELAY_MS = 30_000;
const MAX_DELAY_MS = 30 * 60_000;
export const MAX_ERROR_LENGTH = 1000;

const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE event_outbox (
        id INTEGER PRIMARY KEY,
        sink_key TEXT NOT NULL,
        delivery_id TEXT NOT NULL,
        event TEXT NOT NULL,
        attempts INTEGER NOT NULL,
        last_error TEXT,
        created_at TEXT NOT NULL,
        next_attempt_at TEXT NOT NULL
      );
      CREATE INDEX event_outbox_sink ON event_outbox (sink_key, id);
    `,
  },
];

// What the outbox stores is checked when read back: a row written by another version must still be an event.
const StoredEventSchema = LifecycleEventSchema;

interface Row {
  id: number;
  sink_key: string;
  delivery_id: string;
  event: string;
  attempts: number;
  last_error: string | null;
  created_at: string;
  next_attempt_at: string;
}

/**
 * Opens (or creates) the outbox in the state file. Throws a PrCreatorError (invalid_config) when the file
 * cannot be opened, is not a database, or holds an outbox newer than this pr-creator.
 */
export function openOutbox(stateFile: string, options: { now?: () => Date } = {}): Outbox {
  let db: Db | undefined;
  try {
    if (stateFile !== ":memory:") mkdirSync(path.dirname(path.resolve(stateFile)), { recursive: true });
    db = new Database(stateFile);
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    db.pragma("journal_mode = WAL");
    // Unlike the metrics ledger, a row here is the only copy of an event a sink has not seen: every commit
    // is synced. Writes are rare (only failed deliveries), so the cost does not matter.
    db.pragma("synchronous = FULL");
    migrateTable(db, stateFile, "event_outbox", "The event outbox", MIGRATIONS);
    return sqliteOutbox(db, stateFile, options.now ?? (() => new Date()));
  } catch (error) {
    db?.close();
    throw stateFileError(stateFile, error, "the event outbox");
  }
}

/** When a row that failed for the `attempts`-th time is tried again, counted from now. */
export function retryDelayMs(attempts: number): number {
  return Math.min(FIRST_DELAY_MS * 2 ** Math.max(0, attempts - 2), MAX_DELAY_MS);
}

/** A stored event read back, or why it is not one (edited by hand, or written by a newer pr-creator). */
export function readEvent(row: { event: string }): { event: LifecycleEvent } | { problem: string } {
  try {
    const parsed = StoredEventSchema.safeParse(JSON.parse(row.event));
    return parsed.success ? { event: parsed.data } : { problem: formatZodIssues(parsed.error).join("; ") };
  } catch (error) {
    return { problem: `not JSON: ${errorText(error)}` };
  }
}

function sqliteOutbox(db: Db, file: string, now: () => Date): Outbox {
  const insert = db.prepare(
    "INSERT INTO event_outbox (sink_key, delivery_id, event, attempts, last_error, created_at, next_attempt_at) VALUES (?, ?, ?, 1, ?, ?, ?)",
  );
  const all = db.prepare("SELECT * FROM event_outbox ORDER BY id");
  const bySink = db.prepare("SELECT * FROM event_outbox ORDER BY sink_key, id");
  const count = db.prepare("SELECT count(*) FROM event_outbox").pluck();
  const remove = db.prepare("DELETE FROM event_outbox WHERE id = ?");
  const schedule = db.prepare("UPDATE event_outbox SET next_attempt_at = ? WHERE id = ?");
  const failed = db.prepare(
    "UPDATE event_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?",
  );
  const unreadable = db.prepare("UPDATE event_outbox SET last_error = ?, next_attempt_at = ? WHERE id = ?");
  let closed = false;

  const run = <T>(operation: () => T): T => {
    if (closed) throw new Error(`The event outbox on ${file} is closed.`);
    try {
      return operation();
    } catch (error) {
      if (isNotADatabase(error)) throw notAStateFile(file, error);
      throw error;
    }
  };

  /** Each sink's due rows up to its first row that is not due (or is leased by another flush), leased to this flush. */
  const claim = db.transaction((sinks: ReadonlySet<string>, at: string, leaseUntil: string) => {
    const claimed = new Map<string, Row[]>();
    const blocked = new Set<string>();
    for (const row of bySink.all() as Row[]) {
      if (!sinks.has(row.sink_key) || blocked.has(row.sink_key)) continue;
      if (row.next_attempt_at > at) {
        blocked.add(row.sink_key);
        continue;
      }
      schedule.run(leaseUntil, row.id);
      claimed.set(row.sink_key, [...(claimed.get(row.sink_key) ?? []), row]);
    }
    return claimed;
  });

  /** Sends one sink's claimed rows in order; returns how many it delivered. */
  const drain = async (deliver: DeliverySink, rows: Row[]): Promise<number> => {
    let sent = 0;
    for (const [index, row] of rows.entries()) {
      const read = readEvent(row);
      if ("problem" in read) {
        // Edited by hand or written by a newer pr-creator: kept for a person to look at, and skipped.
        run(() =>
          unreadable.run(
            `the stored event is not a lifecycle event (${read.problem})`.slice(0, MAX_ERROR_LENGTH),
            row.next_attempt_at,
            row.id,
          ),
        );
        continue;
      }
      try {
        await deliver(read.event, row.delivery_id);
      } catch (error) {
        const retryAt = new Date(now().getTime() + retryDelayMs(row.attempts + 1)).toISOString();
        run(() =>
          db.transaction(() => {
            failed.run(errorText(error).slice(0, MAX_ERROR_LENGTH), retryAt, row.id);
            for (const later of rows.slice(index + 1)) schedule.run(retryAt, later.id);
          })(),
        );
        return sent;
      }
      run(() => remove.run(row.id));
      sent++;
    }
    return sent;
  };

  return {
    file,

    add({ sink, event, deliveryId, error }) {
      const at = now().toISOString();
      run(() => insert.run(sink, deliveryId, JSON.stringify(event), error.slice(0, MAX_ERROR_LENGTH), at, at));
    },

    async flush(sinks) {
      const at = now();
      const claimed = run(() =>
        claim.immediate(new Set(sinks.keys()), at.toISOString(), new Date(at.getTime() + LEASE_MS).toISOString()),
      );
      // Sinks are independent: one that is down must not hold up the others.
      const sent = await Promise.all([...claimed].map(([key, rows]) => drain(sinks.get(key)!, rows)));
      return { sent: sent.reduce((a, b) => a + b, 0), waiting: Number(run(() => count.get())) };
    },

    list() {
      return run(() => all.all() as Row[]).map((row) => ({
        id: row.id,
        sink: row.sink_key,
        deliveryId: row.delivery_id,
        eventJson: row.event,
        attempts: row.attempts,
        lastError: row.last_error,
        createdAt: row.created_at,
        nextAttemptAt: row.next_attempt_at,
      }));
    },

    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
