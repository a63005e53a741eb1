/**
 * A worker killed with -9 in the middle of a node (the PR created, its labels not yet answered): its job is
 * handed back within seconds by another worker's sweeper (not graphile-worker's 4 hours), and the run
 * continues there from its last checkpoint (durability "sync") without creating the PR again. Also the
 * sweeper's rule on its own: a pool's locks are swept only when its liveness lock is free.
 */
import pg from "pg";
import { afterAll, beforeAll, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { LIVENESS_NAMESPACE } from "../../src/workers/locks.js";
import { JOBS_SCHEMA, migrateRunRegistry, pgRunRegistry } from "../../src/workers/pg-runs.js";
import { sweepDeadWorkers } from "../../src/workers/sweeper.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";
import {
  call,
  commitOn,
  eventsOf,
  REPO,
  settled,
  spawnServe,
  spawnWorker,
  startFleet,
  stop,
  until,
  type Fleet,
} from "./postgres-fleet.js";

describePostgres("a worker killed mid-run", () => {
  let test: TestDatabase;
  let fleet: Fleet;
  beforeAll(async () => {
    test = await createTestDatabase("crash");
    fleet = await startFleet(test.url);
  });
  afterAll(async () => {
    await fleet?.gh.close();
    await test?.drop();
  });

  it("is swept, and its run resumes on another worker from the last checkpoint without a second create", async () => {
    const serve = await spawnServe(fleet);
    const first = await spawnWorker(fleet, 1);
    let second: Awaited<ReturnType<typeof spawnWorker>> | undefined;
    try {
      // The PR is created; the labels request after it never gets an answer: the publish node is in flight.
      fleet.gh.inject("issues.addLabels", { hang: true }, 1);
      const event = commitOn(fleet, "feature/crash-1", 201);
      const accepted = await call(serve.base, "POST", "/v1/events", { body: event });
      const runId = (accepted.body as { run_id: string }).run_id;
      await until(
        async () => fleet.gh.requests.filter((r) => r.route === "issues.addLabels" && r.status === "hang"),
        (hung) => hung.length === 1,
        "the labels request to hang",
      );
      const readsBefore = fleet.gh.calls("repos.getCommit") + fleet.gh.calls("repos.compareCommits");
      expect(fleet.gh.calls("pulls.create")).toBe(1);
      first.child.kill("SIGKILL");
      await first.exited;

      second = await spawnWorker(fleet, 1);
      const done = await settled(serve.base, runId);
      expect(done).toMatchObject({ status: "done", attempts: 2 });
      expect(["updated", "unchanged"]).toContain(done.result?.status);
      // The swept job ran again on the second worker, which found the first worker's PR instead of creating one.
      expect(second.stderr()).toContain(`Handed back the jobs of 1 dead worker (${first.poolId}).`);
      expect(fleet.gh.calls("pulls.create")).toBe(1);
      const pulls = fleet.gh.state.repos.get(REPO.toLowerCase())!.pulls;
      expect(pulls.filter((p) => p.head.ref === "feature/crash-1")).toHaveLength(1);
      // From the last checkpoint: the commit was read before the kill and not again.
      expect(fleet.gh.calls("repos.getCommit") + fleet.gh.calls("repos.compareCommits")).toBe(readsBefore);
      const created = (await eventsOf(fleet)).filter((e) => e.event === "PullRequestCreated");
      expect(created).toHaveLength(1);
    } finally {
      if (second) expect(await stop(second)).toBe(0);
      expect(await stop(serve)).toBe(0);
    }
  }, 120_000);
});

describePostgres("the sweeper", () => {
  let test: TestDatabase;
  let db: Database;
  let holder: pg.Client;
  beforeAll(async () => {
    test = await createTestDatabase("sweep");
    db = await openDatabase(test.url);
    await migrateRunRegistry(db);
    holder = new pg.Client({ connectionString: test.url });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.end();
    await db?.close();
    await test?.drop();
  });

  const submit = async (n: number) => {
    const outcome = await pgRunRegistry(db).submit(
      {
        input: {},
        event: "CommitCompleted",
        threadId: `sweep-${n}`,
        requestHash: `h${n}`,
        idempotencyKey: null,
        queueName: `pr:sweep-${n}`,
      },
      { maxQueued: 100, now: new Date() },
    );
    return (outcome as { run: { run_id: string } }).run.run_id;
  };
  /** Marks a run's job, and its queue, as locked by `pool` since `secondsAgo`. */
  const lockAs = async (runId: string, pool: string, secondsAgo: number) => {
    await db.query(
      `UPDATE ${JOBS_SCHEMA}._private_jobs SET locked_by = $2, locked_at = now() - make_interval(secs => $3) WHERE key = $1`,
      [runId, pool, secondsAgo],
    );
    await db.query(
      `UPDATE ${JOBS_SCHEMA}._private_job_queues SET locked_by = $2, locked_at = now() - make_interval(secs => $3)
       WHERE id = (SELECT job_queue_id FROM ${JOBS_SCHEMA}._private_jobs WHERE key = $1)`,
      [runId, pool, secondsAgo],
    );
  };
  const lockedBy = async (runId: string) =>
    (
      await db.query<{ job: string | null; queue: string | null }>(
        `SELECT j.locked_by AS job, q.locked_by AS queue FROM ${JOBS_SCHEMA}._private_jobs j
         JOIN ${JOBS_SCHEMA}._private_job_queues q ON q.id = j.job_queue_id WHERE j.key = $1`,
        [runId],
      )
    ).rows[0];

  it("unlocks a dead pool's job and queue, never a live pool's, nor a lock younger than the grace", async () => {
    const [dead, alive, fresh] = [await submit(1), await submit(2), await submit(3)];
    await lockAs(dead, "pool-dead", 30);
    await lockAs(alive, "pool-alive", 30);
    await lockAs(fresh, "pool-new", 0);
    await holder.query("SELECT pg_advisory_lock($1::int4, hashtext($2))", [LIVENESS_NAMESPACE, "pool-alive"]);
    const forced: string[][] = [];
    const utils = {
      forceUnlockWorkers: async (ids: string[]) => {
        forced.push(ids);
        await db.query(`SELECT ${JOBS_SCHEMA}.force_unlock_workers($1::text[])`, [ids]);
      },
    };
    expect(await sweepDeadWorkers(db, utils, 5)).toEqual(["pool-dead"]);
    expect(forced).toEqual([["pool-dead"]]);
    expect(await lockedBy(dead)).toEqual({ job: null, queue: null });
    expect(await lockedBy(alive)).toEqual({ job: "pool-alive", queue: "pool-alive" });
    expect(await lockedBy(fresh)).toEqual({ job: "pool-new", queue: "pool-new" });
    // The live pool's process dies: its session, and with it the liveness lock, goes.
    await holder.end();
    holder = new pg.Client({ connectionString: test.url });
    await holder.connect();
    await until(
      () => sweepDeadWorkers(db, utils, 5),
      (swept) => swept.includes("pool-alive"),
      "the dead pool's lock to be released by the server",
      10_000,
    );
    expect(await lockedBy(alive)).toEqual({ job: null, queue: null });
  });
});
