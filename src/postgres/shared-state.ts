/**
 * The one place that chooses where the shared state lives: the state file (SQLite, the zero-config default)
 * or, when PR_CREATOR_DATABASE_URL or `database.url` is set, the PostgreSQL database every worker and replica
 * shares — the PR history and its announcements, the event outbox, the failure-alert streaks, the tracker outbox
 * and (through createMemory) the memory.
 * The PostgreSQL modules, and `pg`, load only when a database is configured.
 */
import type { Policy } from "../domain/policy.js";
import type { StreakStore } from "../events/failure-streak.js";
import type { OutboxStore } from "../events/outbox.js";
import type { HistorySource } from "../merge/ledger.js";
import type { TrackerOutbox } from "../trackers/outbox.js";
import type { Database, DatabaseOptions } from "./database.js";

type Env = Readonly<Record<string, string | undefined>>;

export interface SharedState {
  /** The database, or null when the state stays in the state file. */
  database: Database | null;
  /** Where the PR history lives, for createLedger. */
  history: HistorySource;
  /** The database's outbox for createEventDelivery; undefined keeps the state file's. */
  outbox: { where: string; open: () => Promise<OutboxStore> } | undefined;
  /** The database's failure streaks for withFailureAlerts; undefined keeps the state file's. */
  streaks: (() => StreakStore) | undefined;
  /** The database's tracker outbox for createTracking; undefined keeps the state file's. */
  trackerOutbox: (() => TrackerOutbox) | undefined;
  /** Closes the database if this opened it. */
  close(): Promise<void>;
}

/**
 * The stores on `database` when given (the caller keeps closing it), on none when null, else on the database
 * the policy and environment name (opened here, closed by close()). Throws a PrCreatorError (invalid_config)
 * for a bad URL or a database that cannot be reached.
 */
export async function openSharedState(
  policy: Pick<Policy, "database">,
  env: Env,
  stateFile: string,
  options: { database?: Database | null; now?: () => Date; pool?: DatabaseOptions } = {},
): Promise<SharedState> {
  let database = options.database ?? null;
  let owned = false;
  // Nothing of PostgreSQL loads for the embedded default.
  if (options.database === undefined && (env.PR_CREATOR_DATABASE_URL?.trim() || policy.database.url?.trim())) {
    const { openDatabase, resolveDatabaseUrl } = await import("./database.js");
    const url = resolveDatabaseUrl(policy, env);
    if (url !== null) {
      database = await openDatabase(url, options.pool);
      owned = true;
    }
  }
  if (database === null)
    return {
      database,
      history: stateFile,
      outbox: undefined,
      streaks: undefined,
      trackerOutbox: undefined,
      close: async () => {},
    };
  const [{ openPostgresHistory }, { openPostgresOutbox }, { openPostgresStreaks }, { openPostgresTrackerOutbox }] =
    await Promise.all([
      import("./history.js"),
      import("./outbox.js"),
      import("./failure-streaks.js"),
      import("./tracker-outbox.js"),
    ]);
  const db = database;
  return {
    database: db,
    history: { where: db.url, open: () => openPostgresHistory(db) },
    outbox: { where: db.url, open: async () => openPostgresOutbox(db, { now: options.now }) },
    streaks: () => openPostgresStreaks(db, { now: options.now }),
    trackerOutbox: () => openPostgresTrackerOutbox(db, { now: options.now }),
    close: async () => {
      if (owned) await db.close();
    },
  };
}
