/**
 * Adapter: the PR history ledger (src/metrics/history.ts) in PostgreSQL, shared by every worker and replica.
 *
 * Tables (schema pr_creator, component "history"): `pr_history` — each entry as validated JSON plus the columns
 * queries filter on — and `pr_history_announcements`, one row per (PR, announcement kind). A claim is one
 * INSERT … ON CONFLICT DO UPDATE … WHERE stale: the row lock makes racing claims from any number of processes
 * agree on one winner, and the staleness is judged by the server's clock, so workers' clocks need not agree.
 */
import { parseHistoryEntry, readHistoryEntry, type History, type HistoryEntry } from "../metrics/history.js";
import type { Database, Migration } from "./database.js";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE pr_creator.pr_history (
        id bigserial PRIMARY KEY,
        at_ms bigint NOT NULL,
        kind text NOT NULL,
        repo text NOT NULL,
        trace_id text NOT NULL,
        pr_id text,
        entry text NOT NULL
      );
      CREATE INDEX pr_history_at ON pr_creator.pr_history (at_ms, id);
      CREATE INDEX pr_history_repo_at ON pr_creator.pr_history (repo, at_ms, id);
      CREATE TABLE pr_creator.pr_history_announcements (
        pr_key text NOT NULL,
        kind text NOT NULL,
        state text NOT NULL,
        at timestamptz NOT NULL,
        PRIMARY KEY (pr_key, kind)
      );
    `,
  },
];

/**
 * The key as stored: PostgreSQL text cannot hold the NUL characters the ledger separates a key's parts with
 * (JSON escapes them, and keeps distinct keys distinct).
 */
const storedKey = (prKey: string): string => JSON.stringify(prKey);

/** The ledger in `db`; its tables are created on first use. */
export function openPostgresHistory(db: Database): History {
  const ready = () => db.migrate("history", MIGRATIONS);
  let closed = false;
  const use = async () => {
    if (closed) throw new Error(`The PR history in ${db.url} is closed.`);
    await ready();
  };

  return {
    async append(input) {
      const e = parseHistoryEntry(input);
      await use();
      await db.query(
        "INSERT INTO pr_creator.pr_history (at_ms, kind, repo, trace_id, pr_id, entry) VALUES ($1, $2, $3, $4, $5, $6)",
        [Date.parse(e.at), e.kind, e.repo, e.trace_id, e.pr_id, JSON.stringify(e)],
      );
    },

    async list(query = {}) {
      const since = query.since === undefined ? Number.MIN_SAFE_INTEGER : query.since.getTime();
      if (Number.isNaN(since)) throw new RangeError("list(): since is an invalid Date.");
      await use();
      const { rows } = await (query.repo === undefined
        ? db.query<{ id: string; entry: string }>(
            "SELECT id, entry FROM pr_creator.pr_history WHERE at_ms >= $1 ORDER BY at_ms, id",
            [since],
          )
        : db.query<{ id: string; entry: string }>(
            "SELECT id, entry FROM pr_creator.pr_history WHERE repo = $1 AND at_ms >= $2 ORDER BY at_ms, id",
            [query.repo, since],
          ));
      return rows.map((row): HistoryEntry =>
        readHistoryEntry(() => JSON.parse(row.entry) as unknown, `Row ${row.id} of pr_creator.pr_history in ${db.url}`),
      );
    },

    async claimAnnouncement(prKey, kind, staleMs) {
      await use();
      const { rowCount } = await db.query(
        `INSERT INTO pr_creator.pr_history_announcements AS a (pr_key, kind, state, at)
         VALUES ($1, $2, 'claimed', clock_timestamp())
         ON CONFLICT (pr_key, kind) DO UPDATE SET at = clock_timestamp()
           WHERE a.state = 'claimed' AND a.at < clock_timestamp() - make_interval(secs => $3::double precision / 1000)`,
        [storedKey(prKey), kind, staleMs],
      );
      return rowCount === 1;
    },

    async confirmAnnouncement(prKey, kind) {
      await use();
      await db.query(
        "UPDATE pr_creator.pr_history_announcements SET state = 'sent', at = clock_timestamp() WHERE pr_key = $1 AND kind = $2",
        [storedKey(prKey), kind],
      );
    },

    async close() {
      // The pool belongs to whoever opened the database.
      closed = true;
    },
  };
}
