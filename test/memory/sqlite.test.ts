import { emptyCheckpoint } from "@langchain/langgraph";
import Database from "better-sqlite3";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { openCheckpoints } from "../../src/agent/checkpoints.js";
import { PrCreatorError } from "../../src/domain/errors.js";
import { createSqliteStore } from "../../src/memory/sqlite-store.js";
import {
  MemoryMismatchError,
  recordKey,
  type EmbedderIdentity,
  type MemoryStore,
  type PrRecord,
} from "../../src/memory/store.js";
import { describeMemoryContract, record, TEST_EMBEDDER } from "./contract.js";

const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-sqlite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
/** A path in a folder that does not exist yet, so every store also creates its parent folder. */
const newFile = () => path.join(dir, `case-${++count}`, "nested", "state.db");

let last = "";
describeMemoryContract("sqlite", {
  fresh: async () => createSqliteStore((last = newFile())),
  reopen: async () => createSqliteStore(last),
});

const tables = (file: string): string[] => {
  const db = new Database(file, { readonly: true });
  try {
    return (
      db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[]
    ).filter((n) => !n.startsWith("sqlite_"));
  } finally {
    db.close();
  }
};

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return dot / Math.sqrt(na * nb);
}

describe("sqlite memory store", () => {
  it("shares the state file with LangGraph's checkpoints, in either order", async () => {
    const file = newFile();
    const checkpoints = await openCheckpoints(file);
    const config = { configurable: { thread_id: "run-1", checkpoint_ns: "" } };
    const checkpoint = emptyCheckpoint();
    await checkpoints.saver.put(config, checkpoint, { source: "input", step: -1, parents: {} });

    const store = createSqliteStore(file);
    await store.init(TEST_EMBEDDER);
    await store.upsert(record(), [1, 0, 0, 0]);

    // Both connections open at once, each writing and reading.
    await checkpoints.saver.put(
      config,
      { ...emptyCheckpoint(), id: `${checkpoint.id}-2` },
      { source: "loop", step: 0, parents: {} },
    );
    expect((await checkpoints.saver.getTuple(config))?.checkpoint.id).toBe(`${checkpoint.id}-2`);
    expect(await store.byTrace("trace-ord-8128")).toEqual([record()]);
    checkpoints.close();
    await store.close();

    expect(tables(file)).toEqual(
      expect.arrayContaining([
        "checkpoints",
        "writes",
        "memory_schema_version",
        "memory_meta",
        "memory_prs",
        "memory_vectors",
        "memory_vec",
      ]),
    );
    // Everything the store made is prefixed memory_ (vec0's shadow tables included).
    expect(
      tables(file)
        .filter((t) => !["checkpoints", "writes"].includes(t))
        .every((t) => t.startsWith("memory_")),
    ).toBe(true);

    // And the other way round: memory first, checkpoints later, both reopened.
    const other = newFile();
    const first = createSqliteStore(other);
    await first.init(TEST_EMBEDDER);
    await first.upsert(record(), [1, 0, 0, 0]);
    await first.close();
    const later = await openCheckpoints(other);
    await later.saver.put(config, checkpoint, { source: "input", step: -1, parents: {} });
    expect((await later.saver.getTuple(config))?.checkpoint.id).toBe(checkpoint.id);
    later.close();
    const again = createSqliteStore(other);
    await again.init(TEST_EMBEDDER);
    expect(await again.byTrace("trace-ord-8128")).toEqual([record()]);
    await again.close();
  });

  it("uses a connection it is given, leaves it open on close, and sets the file to WAL when it opens it", async () => {
    const file = newFile();
    const own = createSqliteStore(file);
    await own.close();
    const db = new Database(file);
    expect(db.pragma("journal_mode", { simple: true })).toBe("wal");
    const store = createSqliteStore(file, { db });
    await store.init(TEST_EMBEDDER);
    await store.upsert(record(), [1, 0, 0, 0]);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare("SELECT count(*) FROM memory_prs").pluck().get()).toBe(1);
    expect(db.pragma("busy_timeout", { simple: true })).toBe(5000);
    db.close();
  });

  it("works on :memory:", async () => {
    const store = createSqliteStore(":memory:");
    await store.init(TEST_EMBEDDER);
    await store.upsert(record(), [1, 0, 0, 0]);
    expect((await store.similar({ vector: [1, 0, 0, 0], k: 1 }))[0]?.score).toBeCloseTo(1, 6);
    await store.close();
  });

  it("names a corrupt state file and says what to do, leaving the file as it was", async () => {
    const file = newFile();
    await createSqliteStore(file).close();
    const garbage = randomBytes(8192);
    writeFileSync(file, garbage);
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });
    let error: unknown;
    try {
      createSqliteStore(file);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PrCreatorError);
    expect((error as Error).message).toContain(`${file} is not a valid state file (`);
    expect((error as Error).message).toContain("move it aside or point state_file elsewhere");
    expect(readFileSync(file)).toEqual(garbage);
  });

  it("applies migrations once: reopening keeps schema, records and the file's user_version", async () => {
    const file = newFile();
    const first = createSqliteStore(file);
    await first.init(TEST_EMBEDDER);
    await first.upsert(record(), [1, 0, 0, 0]);
    await first.close();
    for (let i = 0; i < 2; i++) {
      const again = createSqliteStore(file);
      await again.init(TEST_EMBEDDER);
      await again.init(TEST_EMBEDDER);
      expect(await again.byTrace("trace-ord-8128")).toEqual([record()]);
      await again.close();
    }
    const db = new Database(file, { readonly: true });
    expect(db.prepare("SELECT version FROM memory_schema_version").pluck().all()).toEqual([1]);
    expect(db.prepare("SELECT embedder_name, embedder_version, dimensions FROM memory_meta").all()).toEqual([
      { embedder_name: "test-embedder", embedder_version: "1", dimensions: 4 },
    ]);
    expect(db.pragma("user_version", { simple: true })).toBe(0);
    db.close();
  });

  it("refuses a different dimension count of the same embedder, and says how to fix it", async () => {
    const file = newFile();
    const first = createSqliteStore(file);
    await first.init(TEST_EMBEDDER);
    await first.close();
    const again = createSqliteStore(file);
    const error = await again.init({ ...TEST_EMBEDDER, dimensions: 8 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryMismatchError);
    expect((error as Error).message).toMatch(/4 dimensions.*8 dimensions/);
    expect((error as Error).message).toMatch(/same embedder.*state_file/);
    // Reads that need no vectors still work; vector operations ask for init first.
    expect(await again.byTrace("trace-ord-8128")).toEqual([]);
    await expect(again.upsert(record(), [1, 0, 0, 0])).rejects.toThrow(/init/);
    await again.close();
  });

  it("rejects vectors it cannot compare, and operations after close", async () => {
    const store = createSqliteStore(newFile());
    await store.init(TEST_EMBEDDER);
    await expect(store.upsert(record(), [1, 0, 0, 0, 0])).rejects.toThrow(/5 dimensions; expected 4/);
    await expect(store.upsert(record(), [0, 0, 0, 0])).rejects.toThrow(/all zeros/);
    await expect(store.upsert(record(), [1, Number.NaN, 0, 0])).rejects.toThrow(/finite/);
    await expect(store.similar({ vector: [1, 0, 0], k: 1 })).rejects.toThrow(/expected 4/);
    await expect(store.upsert(record({ created_at: "yesterday" }), [1, 0, 0, 0])).rejects.toThrow(/created_at/);
    expect(await store.byTrace("trace-ord-8128")).toEqual([]);
    expect(await store.similar({ vector: [1, 0, 0, 0], k: 0 })).toEqual([]);
    await store.close();
    await store.close();
    await expect(store.byTrace("trace-ord-8128")).rejects.toThrow(/closed/);
  });

  it("finds the same filtered top 5 as brute force among 2,000 records, searching in the reader thread", async () => {
    const embedder: EmbedderIdentity = { name: "bench-embedder", version: "1", dimensions: 384 };
    // Queries with a scope go to the scope-partitioned table, the others to the unpartitioned one.
    const store = createSqliteStore(newFile(), { reader: "worker" });
    await store.init(embedder);
    const random = prng(42);
    const vec = () => Array.from({ length: embedder.dimensions }, () => random() * 2 - 1);
    const scopes = [
      "Order",
      "Billing",
      "Catalog",
      "Shipping",
      "Identity",
      "Search",
      "Payments",
      "Reports",
      "Inventory",
    ];
    const items: Array<{ record: PrRecord; vector: number[] }> = [];
    for (let i = 0; i < 2000; i++) {
      const at = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
      items.push({
        record: record({
          pr_id: String(i),
          repo: i % 2 === 0 ? "BillingService" : "OrderService",
          // "Rare" (1 in 100) makes sure filtering happens inside the KNN, not after the k nearest.
          component_scope: i % 100 === 7 ? "Rare" : scopes[i % scopes.length]!,
          blueprint_id: `usecase-${i % 4}`,
          trace_id: `trace-t-${i % 50}`,
          created_at: at,
          updated_at: at,
        }),
        vector: vec(),
      });
    }
    let started = performance.now();
    for (const item of items) await store.upsert(item.record, item.vector);
    const insertMs = performance.now() - started;

    const query = vec();
    const f32 = (v: number[]) => Float32Array.from(v);
    const expected = (keep: (r: PrRecord) => boolean, k: number) =>
      items
        .filter((i) => keep(i.record))
        .map((i) => ({ key: recordKey(i.record), score: cosine(f32(i.vector), f32(query)) }))
        .sort((a, b) => b.score - a.score)
        .slice(0, k);

    const cases: Array<{
      filter: { repo?: string; component_scope?: string; blueprint_id?: string };
      keep: (r: PrRecord) => boolean;
    }> = [
      { filter: {}, keep: () => true },
      { filter: { component_scope: "Billing" }, keep: (r) => r.component_scope === "Billing" },
      { filter: { component_scope: "Rare" }, keep: (r) => r.component_scope === "Rare" },
      {
        filter: { repo: "BillingService", blueprint_id: "usecase-2" },
        keep: (r) => r.repo === "BillingService" && r.blueprint_id === "usecase-2",
      },
      {
        filter: { repo: "OrderService", component_scope: "Order", blueprint_id: "usecase-1" },
        keep: (r) => r.repo === "OrderService" && r.component_scope === "Order" && r.blueprint_id === "usecase-1",
      },
    ];
    const queryMs: number[] = [];
    for (const { filter, keep } of cases) {
      started = performance.now();
      const hits = await store.similar({ vector: query, k: 5, ...filter });
      queryMs.push(performance.now() - started);
      const want = expected(keep, 5);
      expect(want).toHaveLength(5);
      expect(hits.map((h) => recordKey(h.record))).toEqual(want.map((w) => w.key));
      hits.forEach((h, i) => expect(h.score).toBeCloseTo(want[i]!.score, 5));
      expect(hits.every((h) => keep(h.record))).toBe(true);
    }

    // Leaving out the nearest record gives the next five.
    const top6 = expected((r) => r.component_scope === "Billing", 6);
    const excluded = await store.similar({
      vector: query,
      k: 5,
      component_scope: "Billing",
      exclude_key: top6[0]!.key,
    });
    expect(excluded.map((h) => recordKey(h.record))).toEqual(top6.slice(1).map((w) => w.key));

    // The other reads at this size.
    expect((await store.byTrace("trace-t-7")).map((r) => r.pr_id)).toEqual(
      Array.from({ length: 40 }, (_, i) => String(7 + i * 50)),
    );
    expect((await store.history({ limit: 3 })).map((r) => r.pr_id)).toEqual(["1999", "1998", "1997"]);

    console.log(
      `sqlite memory, 2,000 records x 384 dims: insert ${insertMs.toFixed(0)} ms (${Math.round(2000 / (insertMs / 1000))} records/s, one transaction each); ` +
        `top-5 queries ${queryMs.map((ms) => ms.toFixed(1)).join(" / ")} ms (unfiltered, scope, rare scope, repo+blueprint, all three)`,
    );
    await store.close();
  });

  it("builds the scope-partitioned table for a memory made before it existed", async () => {
    const file = newFile();
    const first = createSqliteStore(file);
    await first.init(TEST_EMBEDDER);
    const r = record();
    await first.upsert(r, [1, 0, 0, 1]);
    await first.close();
    const raw = new Database(file);
    (await import("sqlite-vec")).load(raw);
    raw.exec("DROP TABLE memory_vec");
    raw.close();

    const again = createSqliteStore(file);
    await again.init(TEST_EMBEDDER);
    const [hit] = await again.similar({ vector: [1, 0, 0, 1], k: 1, component_scope: r.component_scope });
    expect(hit?.record).toEqual(r);
    expect(hit?.score).toBeCloseTo(1, 6);
    await again.close();
    expect(tables(file)).toEqual(expect.arrayContaining(["memory_vectors", "memory_vec"]));
  });

  it("two stores on one file see each other's writes, also when writing at the same time", async () => {
    const file = newFile();
    const a = createSqliteStore(file);
    const b = createSqliteStore(file);
    await a.init(TEST_EMBEDDER);
    await b.init(TEST_EMBEDDER);
    await a.upsert(record({ pr_id: "1" }), [1, 0, 0, 0]);
    expect((await b.byTrace("trace-ord-8128")).map((r) => r.pr_id)).toEqual(["1"]);
    await b.upsert(record({ pr_id: "1", status: "updated", updated_at: "2025-05-08T00:00:00.000Z" }), [0, 1, 0, 0]);
    const seen = await a.similar({ vector: [0, 1, 0, 0], k: 1 });
    expect(seen[0]?.record.status).toBe("updated");
    expect(seen[0]?.score).toBeCloseTo(1, 6);

    const writes: Array<Promise<void>> = [];
    for (let i = 0; i < 100; i++) {
      writes.push(a.upsert(record({ pr_id: `a${i}` }), [1, i, 0, 0]));
      writes.push(b.upsert(record({ pr_id: `b${i}` }), [0, 1, i, 0]));
    }
    await Promise.all(writes);
    expect(await a.byTrace("trace-ord-8128")).toHaveLength(201);
    expect(await b.history()).toHaveLength(201);

    // A third handle with another embedder is refused, naming both.
    const c = createSqliteStore(file);
    await expect(c.init({ name: "other", version: "9", dimensions: 4 })).rejects.toThrow(/test-embedder.*other/);
    await Promise.all([a.close(), b.close(), c.close()]);
  });

  it("two processes writing the same file at once both succeed and see everything", async () => {
    const file = newFile();
    const setup = createSqliteStore(file);
    await setup.init(TEST_EMBEDDER);
    await setup.close();

    const script = path.join(dir, `writer-${count}.mts`);
    const storeUrl = pathToFileURL(path.resolve(import.meta.dirname, "../../src/memory/sqlite-store.ts")).href;
    writeFileSync(
      script,
      `import { createSqliteStore } from ${JSON.stringify(storeUrl)};
const [file, who] = process.argv.slice(2);
const store = createSqliteStore(file);
await store.init({ name: "test-embedder", version: "1", dimensions: 4 });
for (let i = 0; i < 200; i++) {
  const at = new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString();
  await store.upsert({ repo: "R", pr_id: who + i, url: null, forge: "dry-run", status: "previewed", trace_id: "trace-x-1", blueprint_id: "b",
    component_scope: who, commit_hash: "c", source_branch: "s", target_branch: "t", title: "t", text: "x", created_at: at, updated_at: at }, [1, i, 0, 0]);
}
await store.close();
`,
    );
    const run = (who: string) =>
      promisify(execFile)(process.execPath, ["--import", "tsx", script, file, who], {
        cwd: path.resolve(import.meta.dirname, "../.."),
      });
    await Promise.all([run("p"), run("q")]);

    const store: MemoryStore = createSqliteStore(file);
    await store.init(TEST_EMBEDDER);
    expect(await store.byTrace("trace-x-1")).toHaveLength(400);
    expect(await store.similar({ vector: [1, 5, 0, 0], k: 3, component_scope: "q" })).toHaveLength(3);
    await store.close();
  });
});
