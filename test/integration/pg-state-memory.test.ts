/**
 * The PostgreSQL memory store: the same contract as the SQLite and Qdrant stores (test/memory/contract.ts),
 * then what sharing one database means — stores in other processes see each other's records.
 */
import { afterAll, afterEach, expect, it } from "vitest";
import { createPostgresStore } from "../../src/memory/postgres-store.js";
import type { MemoryStore } from "../../src/memory/store.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { describeMemoryContract, record, TEST_EMBEDDER } from "../memory/contract.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

const databases: TestDatabase[] = [];
const pools: Database[] = [];
afterAll(async () => {
  await Promise.all(pools.splice(0).map((db) => db.close()));
  await Promise.all(databases.splice(0).map((db) => db.drop()));
});

/** A store on its own pool (as another process would have) on the given database. */
async function storeOn(url: string): Promise<MemoryStore> {
  const db = await openDatabase(url, { max: 2 });
  pools.push(db);
  return createPostgresStore(db);
}

describePostgres("postgres memory store", () => {
  let last = "";
  describeMemoryContract("postgres", {
    fresh: async () => {
      const db = await createTestDatabase("mem");
      databases.push(db);
      last = db.url;
      return storeOn(last);
    },
    reopen: async () => storeOn(last),
  });

  const opened: MemoryStore[] = [];
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  });

  it("stores on other pools see each other's records, also when writing at the same time", async () => {
    const db = await createTestDatabase("mem");
    databases.push(db);
    const [a, b] = [await storeOn(db.url), await storeOn(db.url)];
    opened.push(a, b);
    await Promise.all([a.init(TEST_EMBEDDER), b.init(TEST_EMBEDDER)]);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).upsert(record({ pr_id: String(i), component_scope: i % 4 ? "Order" : "Billing" }), [
          1,
          i,
          0,
          0,
        ]),
      ),
    );
    expect(await a.history()).toHaveLength(20);
    const hits = await b.similar({ vector: [1, 3, 0, 0], k: 2, component_scope: "Order", repo: "OrderService" });
    expect(hits.map((h) => h.record.pr_id)).toEqual(["3", "5"]);
    expect(hits[0]!.score).toBeCloseTo(1, 5);
  });

  it("a store's cached vectors follow what other processes write: new records, moved records, new vectors", async () => {
    const db = await createTestDatabase("mem");
    databases.push(db);
    const [reader, writer] = [await storeOn(db.url), await storeOn(db.url)];
    opened.push(reader, writer);
    await Promise.all([reader.init(TEST_EMBEDDER), writer.init(TEST_EMBEDDER)]);
    const inOrder = { repo: "OrderService", component_scope: "Order" };
    await writer.upsert(record({ pr_id: "1" }), [1, 0, 0, 0]);
    await writer.upsert(record({ pr_id: "2" }), [0, 1, 0, 0]);
    const top = async (vector: number[]) =>
      (await reader.similar({ vector, k: 5, ...inOrder })).map((h) => h.record.pr_id);
    // The first search fills the reader's cache.
    expect(await top([1, 0, 0, 0])).toEqual(["1", "2"]);
    await writer.upsert(record({ pr_id: "3" }), [0, 0, 1, 0]);
    await writer.upsert(record({ pr_id: "1", component_scope: "Billing" }), [1, 0, 0, 0]);
    await writer.upsert(record({ pr_id: "2" }), [0, 0, 0, 1]);
    expect(await top([0, 0, 0, 1])).toEqual(["2", "3"]);
    const hits = await reader.similar({ vector: [0, 0, 0, 1], k: 1, ...inOrder });
    expect(hits[0]!.score).toBeCloseTo(1, 5);
  });
});
