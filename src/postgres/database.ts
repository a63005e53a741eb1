/**
 * The PostgreSQL database that holds the shared state when one is configured (PR_CREATOR_DATABASE_URL, else
 * `database.url` in the policy): which URL applies, a connection pool, and the migrations of our tables.
 *
 * Every table of ours lives in the `pr_creator` schema (graphile-worker and the LangGraph checkpointer keep
 * their own). Each component (history, outbox, memory, runs, …) owns numbered migrations, recorded in
 * `pr_creator.migrations` (component, version); several processes starting at once migrate one at a time under
 * a transaction-scoped advisory lock, and a database migrated by a newer pr-creator is refused.
 *
 * The password never leaves the pool's configuration: messages and `url` show the URL without it.
 */
import pg from "pg";
import { databaseUrlProblem, displayDatabaseUrl, hasDatabasePassword } from "../domain/database-url.js";
import { errorText, PrCreatorError } from "../domain/errors.js";

type Env = Readonly<Record<string, string | undefined>>;

export const DATABASE_URL_ENV = "PR_CREATOR_DATABASE_URL";

/** Our schema; every table of ours is `pr_creator.<name>`. */
export const SCHEMA = "pr_creator";

/**
 * The database URL in effect: PR_CREATOR_DATABASE_URL when set and not blank, else `database.url` from the
 * policy, else null (the embedded SQLite state). Throws a PrCreatorError (invalid_config) naming the setting
 * when the URL is not a postgres:// or postgresql:// URL, without showing it. A password belongs in the
 * environment: `database.url` in a policy file must not carry one (the policy schema refuses it too).
 */
export function resolveDatabaseUrl(policy: { database?: { url?: string | undefined } }, env: Env): string | null {
  const fromEnv = env[DATABASE_URL_ENV]?.trim();
  const [name, url] = fromEnv ? [DATABASE_URL_ENV, fromEnv] : ["database.url in the config", policy.database?.url];
  if (url === undefined || url.trim() === "") return null;
  const problem = databaseUrlProblem(url.trim());
  if (problem) {
    throw new PrCreatorError("invalid_config", `${name} ${problem}.`, {
      hint: `Set ${DATABASE_URL_ENV} (or database.url) to postgres://user@host:5432/database, or unset it to keep the state in the state file.`,
    });
  }
  if (!fromEnv && hasDatabasePassword(url)) {
    throw new PrCreatorError("invalid_config", `${name} carries a password; secrets come from the environment only.`, {
      hint: `Remove it from the URL and set PGPASSWORD, or put the whole URL in ${DATABASE_URL_ENV}.`,
    });
  }
  return url.trim();
}

export interface Migration {
  version: number;
  sql: string;
}

export interface DatabaseOptions {
  /** Most connections this process keeps open; default 10. */
  max?: number;
  /** Shown in pg_stat_activity; default "pr-creator". */
  applicationName?: string;
  /** How long to wait for a connection, in milliseconds; default 10 s. */
  connectionTimeoutMs?: number;
}

export interface Database {
  /** The URL without its password, for messages. */
  readonly url: string;
  readonly pool: pg.Pool;
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: readonly unknown[],
  ): Promise<pg.QueryResult<R>>;
  /** Runs `work` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T>;
  /**
   * Applies the migrations of `component` this database has not seen, each in order and once, under the
   * migration lock. Throws a PrCreatorError (invalid_config) when the database holds a newer version than
   * `migrations` knows. Memoised per component for this pool.
   */
  migrate(component: string, migrations: readonly Migration[]): Promise<void>;
  /** Closes the pool; later calls throw. */
  close(): Promise<void>;
}

/** Any advisory lock key of ours is derived by name, so different names never collide in practice. */
const MIGRATION_LOCK = "pr_creator.migrate";

/** Why the database could not be used, as invalid_config, with the URL shown without its password. */
export function databaseError(url: string, error: unknown, doing: string): PrCreatorError {
  if (error instanceof PrCreatorError) return error;
  return new PrCreatorError(
    "invalid_config",
    `The database ${displayDatabaseUrl(url)} could not be used to ${doing} (${scrubPassword(url, errorText(error))}).`,
    {
      hint: `Check ${DATABASE_URL_ENV} (or database.url): the server must be reachable and the user allowed to create the ${SCHEMA} schema.`,
      cause: error,
    },
  );
}

function scrubPassword(url: string, text: string): string {
  let password = "";
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    return text;
  }
  return password.length >= 4 ? text.split(password).join("[Redacted]") : text;
}

/**
 * Opens a pool on `url` and checks that the server answers and that our schema and migration table exist
 * (creating them under the migration lock). Throws a PrCreatorError (invalid_config) when it cannot.
 */
export async function openDatabase(url: string, options: DatabaseOptions = {}): Promise<Database> {
  const problem = databaseUrlProblem(url);
  if (problem) throw new PrCreatorError("invalid_config", `The database URL ${problem}.`);
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    application_name: options.applicationName ?? "pr-creator",
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    // Idle connections do not keep a finished CLI run alive (a long-lived process has other reasons to live).
    allowExitOnIdle: true,
  });
  // An idle connection the server dropped is reported here; without a listener it would end the process. The
  // pool replaces it, and the next query that fails says why.
  pool.on("error", () => undefined);
  const db = createDatabase(url, pool);
  try {
    await db.migrate(SCHEMA, []);
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw databaseError(url, error, "set up its schema");
  }
  return db;
}

function createDatabase(url: string, pool: pg.Pool): Database {
  const shown = displayDatabaseUrl(url);
  const migrated = new Map<string, Promise<void>>();
  let closed = false;
  const open = () => {
    if (closed) throw new Error(`The database ${shown} is closed.`);
  };

  const transaction: Database["transaction"] = async (work) => {
    open();
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const result = await work(client);
      await client.query("COMMIT");
      return result;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };

  const applied = async (client: pg.Pool | pg.PoolClient, component: string): Promise<number | null> => {
    const exists = await client.query<{ t: string | null }>("SELECT to_regclass($1) AS t", [`${SCHEMA}.migrations`]);
    if (exists.rows[0]?.t === null) return null;
    const { rows } = await client.query<{ v: number | null }>(
      `SELECT max(version) AS v FROM ${SCHEMA}.migrations WHERE component = $1`,
      [component],
    );
    return rows[0]?.v ?? 0;
  };

  const runMigrations = async (component: string, migrations: readonly Migration[]): Promise<void> => {
    const latest = migrations.at(-1)?.version ?? 0;
    const tooNew = (current: number) =>
      new PrCreatorError(
        "invalid_config",
        `The ${component} tables in the database ${shown} have schema version ${current}, newer than this pr-creator knows (${latest}).`,
        { hint: "Upgrade pr-creator (every process sharing the database runs the same version)." },
      );
    // Up to date (the usual start): no lock taken.
    const seen = await applied(pool, component);
    if (seen !== null && seen >= latest) {
      if (seen > latest) throw tooNew(seen);
      return;
    }
    await transaction(async (client) => {
      await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [MIGRATION_LOCK]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${SCHEMA}`);
      await client.query(
        `CREATE TABLE IF NOT EXISTS ${SCHEMA}.migrations (
           component text NOT NULL,
           version integer NOT NULL,
           applied_at timestamptz NOT NULL DEFAULT now(),
           PRIMARY KEY (component, version))`,
      );
      const current = (await applied(client, component)) ?? 0;
      if (current > latest) throw tooNew(current);
      for (const migration of migrations) {
        if (migration.version <= current) continue;
        await client.query(migration.sql);
        await client.query(`INSERT INTO ${SCHEMA}.migrations (component, version) VALUES ($1, $2)`, [
          component,
          migration.version,
        ]);
      }
    });
  };

  return {
    url: shown,
    pool,
    query: async (text, values) => {
      open();
      return pool.query(text, values as unknown[] | undefined);
    },
    transaction,
    migrate: (component, migrations) => {
      open();
      let done = migrated.get(component);
      if (done === undefined) {
        done = runMigrations(component, migrations);
        // A failed attempt (the server was down) is tried again by the next caller.
        done.catch(() => migrated.delete(component));
        migrated.set(component, done);
      }
      return done;
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
}
