import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { PrCreatorError } from "../../src/domain/errors.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

const MIGRATIONS = [
  { version: 1, sql: "CREATE TABLE pr_creator.widgets (id integer PRIMARY KEY)" },
  { version: 2, sql: "ALTER TABLE pr_creator.widgets ADD COLUMN name text" },
];

describePostgres("openDatabase and its migrations", () => {
  let test: TestDatabase;
  const opened: Database[] = [];
  const open = async () => {
    const db = await openDatabase(test.url, { max: 2 });
    opened.push(db);
    return db;
  };

  beforeAll(async () => {
    test = await createTestDatabase("pgdb");
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((db) => db.close()));
  });
  afterAll(async () => {
    await test.drop();
  });

  it("creates the pr_creator schema and its migrations table on open", async () => {
    const db = await open();
    const { rows } = await db.query<{ t: string | null }>("SELECT to_regclass('pr_creator.migrations')::text AS t");
    expect(rows[0]!.t).toBe("pr_creator.migrations");
  });

  it("applies each migration once, in order, when many pools start at once", async () => {
    const dbs = await Promise.all(Array.from({ length: 6 }, () => open()));
    await Promise.all(dbs.map((db) => db.migrate("widgets", MIGRATIONS)));
    const { rows } = await dbs[0]!.query<{ version: number }>(
      "SELECT version FROM pr_creator.migrations WHERE component = 'widgets' ORDER BY version",
    );
    expect(rows.map((r) => r.version)).toEqual([1, 2]);
    await dbs[0]!.query("INSERT INTO pr_creator.widgets (id, name) VALUES (1, 'a')");
    // Idempotent: a later start with the same migrations changes nothing.
    const again = await open();
    await again.migrate("widgets", MIGRATIONS);
    expect((await again.query("SELECT * FROM pr_creator.widgets")).rows).toEqual([{ id: 1, name: "a" }]);
  });

  it("refuses a database migrated by a newer pr-creator", async () => {
    const db = await open();
    await db.migrate("gadgets", [{ version: 1, sql: "CREATE TABLE pr_creator.gadgets (id integer)" }]);
    await db.migrate("gadgets2", []);
    const older = await open();
    const error = await older.migrate("gadgets", []).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrCreatorError);
    expect((error as PrCreatorError).message).toContain("schema version 1, newer than this pr-creator knows (0)");
  });

  it("says which database cannot be reached, without its password", async () => {
    const url = new URL(test.url);
    url.password = "hunter2-secret";
    url.port = "1";
    const error = await openDatabase(url.toString(), { connectionTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PrCreatorError);
    const text = (error as PrCreatorError).paragraph;
    expect(text).toContain(`127.0.0.1:1/${test.name}`);
    expect(text).not.toContain("hunter2-secret");
  });
});
