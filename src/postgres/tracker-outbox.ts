/**
 * Adapter: the tracker outbox (src/trackers/outbox.ts) in PostgreSQL, so a tracker update one worker could not
 * send is sent by whichever worker runs next.
 *
 * Table `pr_creator.tracker_outbox` (component "tracker_outbox"), the same columns as the state file's. A claim
 * is one transaction: the due rows are selected `FOR UPDATE SKIP LOCKED` and leased (leased_until moved ahead),
 * so racing claims from any number of workers never take the same row; a worker that dies mid-send leaves its
 * rows to a claim after the lease.
 */
import { updateKey } from "../trackers/tracker.js";
import { MAX_ERROR_LENGTH, readRow, type Row, type TrackerOutbox } from "../trackers/outbox.js";
import type { Database, Migration } from "./database.js";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE pr_creator.tracker_outbox (
        id bigserial PRIMARY KEY,
        update_key text NOT NULL UNIQUE,
        issue_id text NOT NULL,
        "update" text NOT NULL,
        attempts integer NOT NULL,
        last_error text,
        created_at timestamptz NOT NULL,
        leased_until timestamptz
      );
      CREATE INDEX tracker_outbox_issue ON pr_creator.tracker_outbox (issue_id, id);
    `,
  },
];

interface PgRow {
  id: string;
  update_key: string;
  issue_id: string;
  update: string;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  leased_until: Date | null;
}

const asRow = (row: PgRow): Row => ({
  ...row,
  id: Number(row.id),
  created_at: row.created_at.toISOString(),
  leased_until: row.leased_until?.toISOString() ?? null,
});

/** The tracker outbox in `db`; its table is created on first use. `now` is the clock leases count from. */
export function openPostgresTrackerOutbox(db: Database, options: { now?: () => Date } = {}): TrackerOutbox {
  const now = options.now ?? (() => new Date());
  let closed = false;
  /**
   * What this handle claimed, by row id: the update as it was sent and the lease taken. A run that replaces a
   * waiting update while another sends it (add, same key) must not see its newer update deleted by that send.
   */
  const claimed = new Map<number, { update: string; until: Date }>();
  const use = async () => {
    if (closed) throw new Error(`The tracker outbox in ${db.url} is closed.`);
    await db.migrate("tracker_outbox", MIGRATIONS);
  };

  return {
    where: db.url,

    async add(update, error) {
      await use();
      await db.query(
        `INSERT INTO pr_creator.tracker_outbox AS o (update_key, issue_id, "update", attempts, last_error, created_at, leased_until)
         VALUES ($1, $2, $3, 1, $4, $5, NULL)
         ON CONFLICT (update_key) DO UPDATE SET "update" = excluded."update", attempts = o.attempts + 1,
           last_error = excluded.last_error`,
        [updateKey(update), update.issue_id, JSON.stringify(update), error.slice(0, MAX_ERROR_LENGTH), now()],
      );
    },

    async waiting(issueId) {
      await use();
      const { rowCount } = await db.query("SELECT 1 FROM pr_creator.tracker_outbox WHERE issue_id = $1 LIMIT 1", [
        issueId,
      ]);
      return (rowCount ?? 0) > 0;
    },

    async claim(leaseMs) {
      await use();
      const at = now();
      const rows = await db.transaction(async (client) => {
        const { rows: due } = await client.query<PgRow>(
          `SELECT * FROM pr_creator.tracker_outbox WHERE leased_until IS NULL OR leased_until < $1
           ORDER BY id FOR UPDATE SKIP LOCKED`,
          [at],
        );
        const until = new Date(at.getTime() + leaseMs);
        if (due.length > 0) {
          await client.query("UPDATE pr_creator.tracker_outbox SET leased_until = $1 WHERE id = ANY($2::bigint[])", [
            until,
            due.map((row) => row.id),
          ]);
        }
        for (const row of due) claimed.set(Number(row.id), { update: row.update, until });
        return due;
      });
      return rows.map((row) => readRow(asRow(row)));
    },

    async done(id) {
      await use();
      const sent = claimed.get(id);
      claimed.delete(id);
      if (!sent) {
        await db.query("DELETE FROM pr_creator.tracker_outbox WHERE id = $1", [id]);
        return;
      }
      const { rowCount } = await db.query('DELETE FROM pr_creator.tracker_outbox WHERE id = $1 AND "update" = $2', [
        id,
        sent.update,
      ]);
      // Replaced by a newer update while this one was sent: that one waits, due again at once.
      if (rowCount === 0)
        await db.query("UPDATE pr_creator.tracker_outbox SET leased_until = NULL WHERE id = $1 AND leased_until = $2", [
          id,
          sent.until,
        ]);
    },

    async failed(id, error) {
      await use();
      claimed.delete(id);
      await db.query(
        "UPDATE pr_creator.tracker_outbox SET attempts = attempts + 1, last_error = $1, leased_until = NULL WHERE id = $2",
        [error.slice(0, MAX_ERROR_LENGTH), id],
      );
    },

    async release(id) {
      await use();
      claimed.delete(id);
      await db.query("UPDATE pr_creator.tracker_outbox SET leased_until = NULL WHERE id = $1", [id]);
    },

    async list() {
      await use();
      const { rows } = await db.query<PgRow>("SELECT * FROM pr_creator.tracker_outbox ORDER BY id");
      return rows.map((row) => readRow(asRow(row)));
    },

    async close() {
      // The pool belongs to whoever opened the database.
      closed = true;
    },
  };
}
