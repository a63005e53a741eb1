/**
 * Adapter: the failure streaks (src/events/failure-streak.ts) in PostgreSQL, so every worker and replica counts
 * towards the same streak and a streak alerts once whichever worker saw its failures.
 *
 * Table `pr_creator.failure_streaks` (component "failure_streaks"), the same columns as the state file's. An
 * update is one transaction: the key's row is made to exist (INSERT … ON CONFLICT DO NOTHING, which waits for a
 * racing insert of the same key to commit), then read FOR UPDATE, so racing updates of one key from any number
 * of processes run one after the other and each sees the streak the previous one left.
 */
import { z } from "zod";
import { AlertedFailureSchema } from "../domain/events.js";
import { NO_STREAK, type Streak, type StreakStore } from "../events/failure-streak.js";
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
      return db.transaction(async (client) => {
        const lockRow = () =>
          client.query<Row>("SELECT count, alerted, recent FROM pr_creator.failure_streaks WHERE key = $1 FOR UPDATE", [
            key,
          ]);
        let { rows } = await lockRow();
        if (rows.length === 0) {
          // No streak yet: a success (the usual case) changes nothing, so it writes nothing. `step` is a pure
          // decision, so asking it first is safe.
          const fresh = step(NO_STREAK);
          if (fresh.streak.count === 0) return fresh.result;
          // A row to lock for a key failing for the first time (count 0 reads as no streak); a racing insert
          // of the same key makes this wait, then both read and update it one after the other.
          await client.query(
            `INSERT INTO pr_creator.failure_streaks (key, count, alerted, recent, updated_at)
             VALUES ($1, 0, false, '[]', $2) ON CONFLICT (key) DO NOTHING`,
            [key, now()],
          );
          ({ rows } = await lockRow());
        }
        const { streak, result } = step(streakOf(rows[0]));
        // A cleared streak leaves no row behind: the table holds only repositories that are failing.
        if (streak.count === 0) {
          await client.query("DELETE FROM pr_creator.failure_streaks WHERE key = $1", [key]);
        } else {
          await client.query(
            `INSERT INTO pr_creator.failure_streaks (key, count, alerted, recent, updated_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (key) DO UPDATE SET count = excluded.count, alerted = excluded.alerted,
               recent = excluded.recent, updated_at = excluded.updated_at`,
            [key, streak.count, streak.alerted, JSON.stringify(streak.recent), now()],
          );
        }
        return result;
      });
    },
    async close() {
      // The pool belongs to whoever opened the database.
      closed = true;
    },
  };
}
