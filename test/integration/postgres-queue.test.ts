/**
 * Two workers (in this process, each with its own pool, liveness lock and sweeper) drain one queue: runs of
 * one PR never overlap and start in the order they were accepted, runs of different PRs spread over both
 * workers, each run holds its PR's advisory lock, and a stop with a run in flight hands its job back.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { RunResult } from "../../src/domain/run-result.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { RUN_LOCK_NAMESPACE } from "../../src/workers/locks.js";
import { JOBS_SCHEMA, migrateRunRegistry, pgRunRegistry } from "../../src/workers/pg-runs.js";
import { startWorker, type RunningWorker } from "../../src/workers/worker.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";
import { until } from "./postgres-fleet.js";

interface Input {
  key: string;
  seq: number;
}

const result = { status: "created" } as unknown as RunResult;

describePostgres("workers draining one queue", () => {
  let test: TestDatabase;
  let db: Database;
  let probe: pg.Client;
  beforeAll(async () => {
    test = await createTestDatabase("queue");
    db = await openDatabase(test.url, { max: 20 });
    await migrateRunRegistry(db);
    probe = new pg.Client({ connectionString: test.url });
    await probe.connect();
  });
  afterAll(async () => {
    await probe?.end();
    await db?.close();
    await test?.drop();
  });

  const submitAll = async (keys: number, perKey: number) => {
    const registry = pgRunRegistry(db);
    const ids: string[] = [];
    for (let seq = 0; seq < perKey; seq += 1) {
      for (let k = 0; k < keys; k += 1) {
        const input: Input = { key: `pr:q-${k}`, seq };
        const outcome = await registry.submit(
          {
            input,
            event: "CommitCompleted",
            threadId: `q-${k}-${seq}`,
            requestHash: `${k}-${seq}`,
            idempotencyKey: null,
            queueName: input.key,
          },
          { maxQueued: 1000, now: new Date() },
        );
        ids.push((outcome as { run: { run_id: string } }).run.run_id);
      }
    }
    return ids;
  };

  it("one PR's runs one at a time, in order, under its advisory lock; different PRs on both workers", async () => {
    const active = new Map<string, number>();
    const started = new Map<string, number[]>();
    const byWorker = new Map<string, Set<string>>();
    const overlaps: string[] = [];
    const unlocked: string[] = [];
    const agentOf = (name: string) => ({
      handle: async (raw: unknown) => {
        const { key, seq } = raw as Input;
        if ((active.get(key) ?? 0) > 0) overlaps.push(`${key}#${seq}`);
        active.set(key, (active.get(key) ?? 0) + 1);
        started.set(key, [...(started.get(key) ?? []), seq]);
        byWorker.set(name, (byWorker.get(name) ?? new Set()).add(key));
        // Another session cannot take the PR's lock while the run holds it.
        const { rows } = await probe.query<{ got: boolean }>(
          "SELECT pg_try_advisory_lock($1::int4, hashtext($2)) AS got",
          [RUN_LOCK_NAMESPACE, key],
        );
        if (rows[0]!.got) {
          unlocked.push(key);
          await probe.query("SELECT pg_advisory_unlock($1::int4, hashtext($2))", [RUN_LOCK_NAMESPACE, key]);
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
        active.set(key, active.get(key)! - 1);
        return result;
      },
      resume: () => Promise.reject(new Error("not used")),
    });
    const log = () => undefined;
    const workers: RunningWorker[] = [];
    for (const name of ["a", "b"])
      workers.push(await startWorker({ db, url: test.url, agent: agentOf(name), concurrency: 3, log }));
    try {
      const ids = await submitAll(6, 5);
      const registry = pgRunRegistry(db);
      await until(
        () => Promise.all(ids.map((id) => registry.get(id))),
        (runs) => runs.every((r) => r?.status === "done"),
        "every run to finish",
      );
      expect(overlaps).toEqual([]);
      expect(unlocked).toEqual([]);
      for (let k = 0; k < 6; k += 1) expect(started.get(`pr:q-${k}`)).toEqual([0, 1, 2, 3, 4]);
      expect([...byWorker.keys()].sort()).toEqual(["a", "b"]);
      const jobsLeft = await db.query(`SELECT count(*)::int AS n FROM ${JOBS_SCHEMA}._private_jobs`);
      expect(jobsLeft.rows[0]).toEqual({ n: 0 });
    } finally {
      for (const worker of workers) await worker.stop(10_000);
    }
  });

  it("a stop that times out hands the job back at once; the next worker waits for the PR's lock and runs it once", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const stuck = {
      handle: async () => {
        calls += 1;
        await held;
        return result;
      },
      resume: () => Promise.reject(new Error("not used")),
    };
    const log = () => undefined;
    const first = await startWorker({ db, url: test.url, agent: stuck, concurrency: 1, log, sweepIntervalMs: 60_000 });
    const [runId] = await submitAll(1, 1);
    const registry = pgRunRegistry(db);
    await until(
      () => registry.get(runId!),
      (r) => r?.status === "running",
      "the run to start",
    );
    expect(await first.stop(200)).toEqual({ drained: false, released: 1 });
    const job = async () =>
      (await db.query(`SELECT locked_by FROM ${JOBS_SCHEMA}._private_jobs WHERE key = $1`, [runId])).rows;
    expect(await job()).toEqual([{ locked_by: null }]);
    // In a real process the cut-off run ends with the process; here it is still going, holding the PR's lock,
    // so the next worker takes the job but waits for the lock instead of running the PR twice at once.
    const ran: string[] = [];
    const second = await startWorker({
      db,
      url: test.url,
      agent: { handle: async () => result, resume: () => Promise.reject(new Error("not used")) },
      concurrency: 1,
      log,
      onRunStart: (id) => ran.push(id),
    });
    try {
      await until(job, (rows) => rows[0]?.locked_by === second.poolId, "the second worker to take the job");
      expect(calls).toBe(1);
      release();
      await until(job, (rows) => rows.length === 0, "the job to complete");
      // The cut-off run recorded its outcome when it ended; the second worker found the run ended and did nothing.
      expect(await registry.get(runId!)).toMatchObject({ status: "done", attempts: 1 });
      expect(ran).toEqual([]);
      expect(calls).toBe(1);
    } finally {
      await second.stop(10_000);
    }
  });

  it("a worker whose liveness connection is cut stops taking runs: the others would take it for dead", async () => {
    const said: string[] = [];
    const agent = { handle: async () => result, resume: () => Promise.reject(new Error("not used")) };
    const worker = await startWorker({ db, url: test.url, agent, concurrency: 1, log: (_l, m) => said.push(m) });
    await probe.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'pr-creator worker liveness' AND datname = current_database()",
    );
    await worker.done;
    expect(said.some((m) => m.startsWith("The liveness connection was lost"))).toBe(true);
    await worker.stop(1000);
  });
});
