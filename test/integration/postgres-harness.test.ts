import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

describePostgres("the PostgreSQL test harness", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase("harness");
  });
  afterAll(async () => {
    await db.drop();
  });

  it("gives each test file its own database on a real server", async () => {
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string; fsync: string }>(
        "SELECT current_database() AS db, current_setting('fsync') AS fsync",
      );
      expect(rows[0]).toEqual({ db: db.name, fsync: "off" });
    } finally {
      await client.end();
    }
  });
});
