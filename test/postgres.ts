/**
 * A fresh PostgreSQL database per test (or per file) on the server test/global-setup.ts provides, dropped
 * afterwards. `describePostgres` skips a block, with the reason in its name, only when no server exists
 * (never in CI: global setup fails there instead).
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import { afterAll, afterEach, beforeAll, describe, inject } from "vitest";
import { openDatabase, type Database } from "../src/postgres/database.js";

export const postgresServerUrl = (): string => inject("databaseUrl");

export const describePostgres: typeof describe = ((name: string, ...rest: unknown[]) => {
  const reason = inject("postgresSkipReason");
  if (inject("databaseUrl") === "") return describe.skip(`${name} (skipped: ${reason})`, ...(rest as [() => void]));
  return describe(name, ...(rest as [() => void]));
}) as typeof describe;

export interface TestDatabase {
  url: string;
  name: string;
  drop: () => Promise<void>;
}

function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

export async function createTestDatabase(prefix = "t"): Promise<TestDatabase> {
  const server = postgresServerUrl();
  if (!server) throw new Error("no PostgreSQL server for the tests (use describePostgres)");
  const name = `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 16)}`.toLowerCase();
  const admin = new pg.Client({ connectionString: server });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return {
    url: withDatabase(server, name),
    name,
    drop: async () => {
      const client = new pg.Client({ connectionString: server });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * A test database for one store's tests inside a `describePostgres` block: `shared()` is one pool for the whole
 * block, `pool()` opens another (a separate process, closed after the test), and `table` is emptied after each
 * test (it stays: the shared pool remembers that it migrated).
 */
export function storeDatabase(
  prefix: string,
  table: string,
): { shared: () => Database; pool: () => Promise<Database> } {
  let testDb: TestDatabase | undefined;
  let shared: Database | undefined;
  const pools: Database[] = [];
  beforeAll(async () => {
    testDb = await createTestDatabase(prefix);
    shared = await openDatabase(testDb.url);
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((db) => db.close()));
    const { rows } = await shared!.query<{ t: string | null }>("SELECT to_regclass($1) AS t", [table]);
    if (rows[0]?.t) await shared!.query(`DELETE FROM ${table}`);
  });
  afterAll(async () => {
    await shared?.close();
    await testDb?.drop();
  });
  return {
    shared: () => shared!,
    pool: async () => {
      const db = await openDatabase(testDb!.url);
      pools.push(db);
      return db;
    },
  };
}
