/**
 * The shared run registry does not grow forever: runs that finished (done or failed) longer ago than
 * server.keep_finished_runs_days are deleted in batches by the workers' sweeper, never a queued, running or
 * awaiting_approval run; workers pruning at once delete each run once; a pruned run's Idempotency-Key is free
 * again. And the range reads of finished_at_ts (the 429's Retry-After estimate, pruning) use an index.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from "vitest";
import { PolicySchema } from "../../src/domain/policy.js";
import type { RunResult } from "../../src/domain/run-result.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import {
  FINISHED_LAST_MINUTE_SQL,
  migrateRunRegistry,
  pgRunRegistry,
  PRUNE_FINISHED_SQL,
  type PgSubmission,
} from "../../src/workers/pg-runs.js";
import { startWorker } from "../../src/workers/worker.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

const submission = (n: number, key: string | null = null): PgSubmission => ({
  input: { event: "CommitCompleted", repo: "acme/OrderService", branch: `feature/f-${n}` },
  event: "CommitCompleted",
  threadId: `thread-${n}`,
  requestHash: `hash-${n}`,
  idempotencyKey: key,
  queueName: `pr:acme/OrderService:feature/f-${n}->dev`,
});

const result = { status: "created" } as unknown as RunResult;
const limits = () => ({ maxQueued: 100_000, now: new Date() });

describePostgres("retention of the Postgres run registry", () => {
  let test: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    test = await createTestDatabase("retention");
    db = await openDatabase(test.url, { max: 12 });
    await migrateRunRegistry(db);
  });
  afterAll(async () => {
    await db?.close();
    await test?.drop();
  });
  beforeEach(async () => {
    await db.query("DELETE FROM pr_creator.runs");
    await db.query("DELETE FROM pr_creator_jobs._private_jobs");
  });

  /** A run in `status`; a finished (or paused) one finished `daysAgo` days ago by the database's clock. */
  const runIn = async (n: number, status: string, daysAgo: number, key: string | null = null): Promise<string> => {
    const registry = pgRunRegistry(db);
    const outcome = await registry.submit(submission(n, key), limits());
    const runId = (outcome as { run: { run_id: string } }).run.run_id;
    if (status !== "queued") await registry.claim(runId, new Date().toISOString());
    if (status === "done" || status === "failed" || status === "awaiting_approval")
      await registry.finish(runId, {
        status,
        result: status === "failed" ? null : result,
        error: status === "failed" ? { reason: "internal_error", message: "boom" } : null,
        at: new Date().toISOString(),
      });
    await db.query(
      "UPDATE pr_creator.runs SET finished_at_ts = now() - make_interval(days => $2) WHERE run_id = $1 AND finished_at_ts IS NOT NULL",
      [runId, daysAgo],
    );
    return runId;
  };

  /** `count` runs finished `daysAgo` days ago, written straight into the table (as years of traffic would leave them). */
  const bulkFinished = (count: number, daysAgo: number, from = 0) =>
    db.query(
      `INSERT INTO pr_creator.runs (run_id, thread_id, queue_name, event, status, input, request_hash, idempotency_key,
         submitted_at, finished_at, finished_at_ts)
       SELECT 'bulk_' || i, 'bulk-thread-' || i, 'pr:bulk', 'CommitCompleted', CASE WHEN i % 5 = 0 THEN 'failed' ELSE 'done' END,
         '{}', 'h', 'bulk-key-' || i, now()::text, now()::text, now() - make_interval(days => $2) - make_interval(secs => i)
       FROM generate_series($3::int, $3::int + $1::int - 1) AS i`,
      [count, daysAgo, from],
    );

  const remaining = async () =>
    (await db.query<{ run_id: string; status: string }>("SELECT run_id, status FROM pr_creator.runs ORDER BY run_id"))
      .rows;

  it("deletes done and failed runs finished over the retention ago, and never a queued, running or paused one", async () => {
    const oldDone = await runIn(1, "done", 10);
    const oldFailed = await runIn(2, "failed", 8);
    const recentDone = await runIn(3, "done", 6);
    const oldPaused = await runIn(4, "awaiting_approval", 30);
    const running = await runIn(5, "running", 0);
    const queued = await runIn(6, "queued", 0);
    const registry = pgRunRegistry(db);
    expect(await registry.pruneFinished(7, 100)).toBe(2);
    const left = await remaining();
    expect(left.map((r) => r.run_id).sort()).toEqual([recentDone, oldPaused, running, queued].sort());
    expect(left.map((r) => r.run_id)).not.toContain(oldDone);
    expect(left.map((r) => r.run_id)).not.toContain(oldFailed);
    expect(await registry.get(oldDone)).toBeUndefined();
    expect(await registry.pruneFinished(7, 100)).toBe(0);
  });

  it("a repeat of a pruned run's Idempotency-Key is a new run; before pruning it is the same run", async () => {
    const first = await runIn(7, "done", 9, "key-7");
    const registry = pgRunRegistry(db);
    expect(await registry.submit(submission(7, "key-7"), limits())).toMatchObject({
      kind: "existing",
      matchedBy: "idempotency_key",
      run: { run_id: first },
    });
    expect(await registry.pruneFinished(7, 100)).toBe(1);
    const again = await registry.submit(submission(7, "key-7"), limits());
    expect(again.kind).toBe("accepted");
    expect((again as { run: { run_id: string; status: string } }).run).toMatchObject({ status: "queued" });
    expect((again as { run: { run_id: string } }).run.run_id).not.toBe(first);
  });

  it("workers pruning at once delete every old run exactly once, in batches, and keep the recent ones", async () => {
    await bulkFinished(3000, 30);
    await bulkFinished(200, 1, 10_000);
    const pools = await Promise.all([1, 2, 3].map(() => openDatabase(test.url)));
    try {
      const prune = async (pool: Database) => {
        let total = 0;
        for (;;) {
          const n = await pgRunRegistry(pool).pruneFinished(7, 250);
          total += n;
          if (n < 250) return total;
        }
      };
      const deleted = await Promise.all(pools.map(prune));
      expect(deleted.reduce((a, b) => a + b, 0)).toBe(3000);
      const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM pr_creator.runs");
      expect(Number(rows[0]!.n)).toBe(200);
    } finally {
      await Promise.all(pools.map((pool) => pool.close()));
    }
  });

  it("a worker prunes at start with its policy's server.keep_finished_runs_days, and says how many", async () => {
    await bulkFinished(1500, 3);
    await bulkFinished(40, 1, 10_000);
    const policy = PolicySchema.parse({ server: { keep_finished_runs_days: 2 } });
    let pruned!: (message: string) => void;
    const said = new Promise<string>((resolve) => (pruned = resolve));
    const worker = await startWorker({
      db,
      url: test.url,
      agent: { policy, handle: async () => result, resume: () => Promise.reject(new Error("not used")) },
      concurrency: 1,
      sweepIntervalMs: 50,
      log: (_level, message) => {
        if (message.startsWith("Deleted ")) pruned(message);
      },
    });
    try {
      // 1,500 runs take two batches (two ticks) and are reported once, when the round ends.
      expect(await said).toBe("Deleted 1500 runs finished over 2 days ago.");
      const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM pr_creator.runs");
      expect(Number(rows[0]!.n)).toBe(40);
    } finally {
      await worker.stop(1000);
    }
  });

  it("the Retry-After count and pruning read finished_at_ts through its index, not the whole table", async () => {
    await bulkFinished(20_000, 0);
    await db.query("ANALYZE pr_creator.runs");
    const plan = async (sql: string, values: unknown[] = []) =>
      (await db.query<{ "QUERY PLAN": string }>(`EXPLAIN ${sql}`, values)).rows.map((r) => r["QUERY PLAN"]).join("\n");
    const retryAfter = await plan(FINISHED_LAST_MINUTE_SQL);
    expect(retryAfter).toContain("runs_finished_at");
    expect(retryAfter).not.toContain("Seq Scan");
    const pruning = await plan(PRUNE_FINISHED_SQL, [7, 1000]);
    expect(pruning).toContain("runs_finished_at");
    expect(pruning).not.toMatch(/Seq Scan on runs/);
  });
});
