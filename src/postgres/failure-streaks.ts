/**
 * Adapter: the failure streaks (src/events/failure-streak.ts) in PostgreSQL, so every worker and replica counts
 * towards the same streak and a streak alerts once whichever worker saw its failures.
 *
 * Table `pr_creator.failure_streaks` (component "failure_streaks"), the same columns as the state file's. An
 * update is one transaction: the key's row is made to exist (INSERT … ON CONFLICT DO NOTHING, which waits for a
 * racing insert of the same key to commit), then read FOR UPDATE, so racing updates of one key from any number
 * of processes run one after the other and each sees the streak the previous one left.
 *
 * Table `pr_creator.failure_alerts` holds the alerts raised and not yet handed to the sinks: one is inserted in
 * the transaction that marks its streak alerted, so a crash before the send cannot lose it. Its lease_until
 * (counted on the `now` clock) says until when the raising process may send it; after that any update takes it
 * over (`FOR UPDATE SKIP LOCKED`, so two updates never take the same one) with a new lease.
 */
import { z } from "zod";
import { AlertedFailureSchema } from "../domain/events.js";
import {
  ALERT_LEASE_MS,
  NO_STREAK,
  readPendingAlert,
  type PendingAlert,
  type Streak,
  type StreakStore,
} from "../events/failure-streak.js";
import type { Database, Migration } from "./database.js";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE pr_creator.failure_streaks (
        key text PRIMARY KEY,
        count integer NOT NULL,
        alerted boolean NOT NULL,
        recent text NOT NULL,
        updated_at timestamptz NOT NULL
      );
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE pr_creator.failure_alerts (
        id bigserial PRIMARY KEY,
        key text NOT NULL,
        alert text NOT NULL,
        created_at timestamptz NOT NULL,
        lease_until timestamptz NOT NULL
      );
    `,
  },
];

const RecentSchema = z.array(AlertedFailureSchema);

interface Row {
  count: number;
  alerted: boolean;
  recent: string;
}

/** A row written by another version, or by hand, that does not read back starts the streak afresh. */
function streakOf(row: Row | undefined): Streak {
  if (!row || row.count === 0) return NO_STREAK;
  let recent: unknown;
  try {
    recent = JSON.parse(row.recent);
  } catch {
    return NO_STREAK;
  }
  const parsed = RecentSchema.safeParse(recent);
  return parsed.success ? { count: row.count, alerted: row.alerted, recent: parsed.data } : NO_STREAK;
}

/** The streaks in `db`; the table is created on first use. `now` stamps updated_at. */
export function openPostgresStreaks(db: Database, options: { now?: () => Date } = {}): StreakStore {
  const now = options.now ?? (() => new Date());
  let closed = false;
  return {
    async update(key, step) {
      if (closed) throw new Error(`The failure streaks in ${db.url} are closed.`);
      await db.migrate("failure_streaks", MIGRATIONS);
      return db.transaction(async (client): Promise<PendingAlert[]> => {
        const at = now();
        const leaseUntil = new Date(at.getTime() + ALERT_LEASE_MS);
        // Alerts whose process died before sending them; rows another update is taking over are skipped.
        const overdue = async (): Promise<PendingAlert[]> => {
          const { rows } = await client.query<{ id: string; alert: string }>(
            `UPDATE pr_creator.failure_alerts SET lease_until = $2 WHERE id IN (
               SELECT id FROM pr_creator.failure_alerts WHERE lease_until <= $1 ORDER BY id FOR UPDATE SKIP LOCKED)
             RETURNING id, alert`,
            [at, leaseUntil],
          );
          return rows
            .sort((a, b) => Number(a.id) - Number(b.id))
            .flatMap((row) => readPendingAlert(row.id, row.alert) ?? []);
        };
        const lockRow = () =>
          client.query<Row>("SELECT count, alerted, recent FROM pr_creator.failure_streaks WHERE key = $1 FOR UPDATE", [
            key,
          ]);
        let { rows } = await lockRow();
        if (rows.length === 0) {
          // No streak yet: a success (the usual case) changes nothing, so it writes nothing. `step` is a pure
          // decision, so asking it first is safe.
          if (step(NO_STREAK).streak.count === 0) return overdue();
          // A row to lock for a key failing for the first time (count 0 reads as no streak); a racing insert
          // of the same key makes this wait, then both read and update it one after the other.
          await client.query(
            `INSERT INTO pr_creator.failure_streaks (key, count, alerted, recent, updated_at)
             VALUES ($1, 0, false, '[]', $2) ON CONFLICT (key) DO NOTHING`,
            [key, at],
          );
          ({ rows } = await lockRow());
        }
        const { streak, alert } = step(streakOf(rows[0]));
        // A cleared streak leaves no row behind: the table holds only repositories that are failing.
        if (streak.count === 0) {
          await client.query("DELETE FROM pr_creator.failure_streaks WHERE key = $1", [key]);
        } else {
          await client.query(
            `INSERT INTO pr_creator.failure_streaks (key, count, alerted, recent, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (key) DO UPDATE SET count = excluded.count, alerted = excluded.alerted,
               recent = excluded.recent, updated_at = excluded.updated_at`,
            [key, streak.count, streak.alerted, JSON.stringify(streak.recent), at],
          );
        }
        const due = await overdue();
        if (alert === null) return due;
        const { rows: raised } = await client.query<{ id: string }>(
          `INSERT INTO pr_creator.failure_alerts (key, alert, created_at, lease_until) VALUES ($1, $2, $3, $4)
           RETURNING id`,
          [key, JSON.stringify(alert), at, leaseUntil],
        );
        return [...due, { id: raised[0]!.id, alert }];
      });
    },
    async sent(id) {
      await db.query("DELETE FROM pr_creator.failure_alerts WHERE id = $1", [id]);
    },
    async close() {
      // The pool belongs to whoever opened the database.
      closed = true;
    },
  };
}
