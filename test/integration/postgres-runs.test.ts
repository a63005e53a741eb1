/**
 * The Postgres run registry and job queue behind a stateless `serve`: accepting is one transaction (the run and
 * its job), an Idempotency-Key is used once and a thread has one active run even when replicas race, a resume
 * queues the paused run again, and the built CLI's `serve` replicas and `worker` answer for the same runs.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { PolicySchema } from "../../src/domain/policy.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { JOBS_SCHEMA, migrateRunRegistry, pgRunRegistry, RUN_TASK } from "../../src/workers/pg-runs.js";
import { queueNameOf, runKeyOf } from "../../src/workers/run-key.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";
import {
  call,
  commitOn,
  getRun,
  settled,
  spawnServe,
  spawnWorker,
  startFleet,
  stop,
  type Fleet,
} from "./postgres-fleet.js";

const policy = PolicySchema.parse({});
const submission = (n: number, key: string | null, thread = `thread-${n}`) => ({
  input: { event: "CommitCompleted", repo: "acme/OrderService", branch: `feature/f-${n}` },
  event: "CommitCompleted" as const,
  threadId: thread,
  requestHash: `hash-${n}`,
  idempotencyKey: key,
  queueName: `pr:acme/OrderService:feature/f-${n}->dev`,
});

describePostgres("the Postgres run registry", () => {
  let test: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    test = await createTestDatabase("runs");
    db = await openDatabase(test.url);
    await migrateRunRegistry(db);
  });
  afterAll(async () => {
    await db?.close();
    await test?.drop();
  });

  const jobs = async () =>
    (
      await db.query<{ key: string; queue_name: string; task: string }>(
        `SELECT j.key, q.queue_name, t.identifier AS task FROM ${JOBS_SCHEMA}._private_jobs j
         JOIN ${JOBS_SCHEMA}._private_tasks t ON t.id = j.task_id
         LEFT JOIN ${JOBS_SCHEMA}._private_job_queues q ON q.id = j.job_queue_id`,
      )
    ).rows;

  it("accepts a run with its job in one transaction: job key = run id, queue = the PR", async () => {
    const registry = pgRunRegistry(db);
    const outcome = await registry.submit(submission(1, null), { maxQueued: 100, now: new Date() });
    expect(outcome.kind).toBe("accepted");
    const run = (outcome as { run: { run_id: string; status: string } }).run;
    expect(run.status).toBe("queued");
    expect(await jobs()).toContainEqual({
      key: run.run_id,
      queue_name: "pr:acme/OrderService:feature/f-1->dev",
      task: RUN_TASK,
    });
    expect(await registry.get(run.run_id)).toMatchObject({ run_id: run.run_id, thread_id: "thread-1", attempts: 0 });
  });

  it("uses an Idempotency-Key once and keeps one active run per thread when 20 submissions race", async () => {
    const registry = pgRunRegistry(db);
    const limits = { maxQueued: 100, now: new Date() };
    const sameKey = await Promise.all(
      Array.from({ length: 20 }, (_, i) => registry.submit(submission(2, "key-2", `thread-2-${i}`), limits)),
    );
    expect(sameKey.filter((o) => o.kind === "accepted")).toHaveLength(1);
    // A different thread id but the same body hash: the key matches, so the first run answers.
    expect(sameKey.filter((o) => o.kind === "existing")).toHaveLength(19);
    const sameThread = await Promise.all(
      Array.from({ length: 20 }, () => registry.submit(submission(3, null, "thread-3"), limits)),
    );
    expect(sameThread.filter((o) => o.kind === "accepted")).toHaveLength(1);
    expect(new Set(sameThread.map((o) => ("run" in o ? o.run.run_id : "")))).toHaveProperty("size", 1);
    const reused = await registry.submit({ ...submission(4, "key-2"), requestHash: "another body" }, limits);
    expect(reused.kind).toBe("key_reused");
    const queuedJobs = (await jobs()).filter((j) => j.queue_name.includes("f-2") || j.queue_name.includes("f-3"));
    expect(queuedJobs).toHaveLength(2);
  });

  it("answers queue_full beyond max_queued, counted across every replica", async () => {
    const registry = pgRunRegistry(db);
    const { queued } = await registry.counts();
    const full = await registry.submit(submission(5, null), { maxQueued: queued, now: new Date() });
    expect(full).toEqual({ kind: "full", retryAfterSeconds: 1 });
  });

  it("resumes only a paused run, queueing its job again with the decision", async () => {
    const registry = pgRunRegistry(db);
    const accepted = await registry.submit(submission(6, null), { maxQueued: 100, now: new Date() });
    const runId = (accepted as { run: { run_id: string } }).run.run_id;
    expect(await registry.resume("run_missing", { approved: true })).toEqual({ kind: "not_found" });
    expect((await registry.resume(runId, { approved: true })).kind).toBe("not_awaiting");
    // A worker ran it to a pause; its job is done and gone.
    expect(await registry.claim(runId, "2026-01-01T00:00:00.000Z")).toMatchObject({ status: "running", attempts: 1 });
    await registry.finish(runId, {
      status: "awaiting_approval",
      result: null,
      error: null,
      at: "2026-01-01T00:00:01.000Z",
    });
    await db.query(`DELETE FROM ${JOBS_SCHEMA}._private_jobs WHERE key = $1`, [runId]);
    const resumed = await registry.resume(runId, { approved: true, by: "lead" });
    expect(resumed).toMatchObject({
      kind: "accepted",
      run: { status: "queued", decision: { approved: true, by: "lead" } },
    });
    expect((await jobs()).filter((j) => j.key === runId)).toHaveLength(1);
    expect((await registry.resume(runId, { approved: true })).kind).toBe("not_awaiting");
    // A finished run is not claimed again (its job ran twice after a sweep: the second does nothing).
    await registry.claim(runId, "2026-01-01T00:00:02.000Z");
    expect(
      await registry.finish(runId, { status: "done", result: null, error: null, at: "2026-01-01T00:00:03.000Z" }),
    ).toBe(true);
    expect(await registry.claim(runId, "2026-01-01T00:00:04.000Z")).toBeUndefined();
    expect(await registry.finish(runId, { status: "failed", result: null, error: null, at: "x" })).toBe(false);
  });

  it("names a PR's queue by repo, source and target (the policy's target when the event names none)", () => {
    const key = runKeyOf({ event: "CommitCompleted", repo: "acme/OrderService", branch: "feature/x" }, policy);
    expect(queueNameOf(key)).toBe("pr:acme/OrderService:feature/x->dev");
    const change = runKeyOf(
      { event: "ChangeRequested", repo: "gitops", base_branch: "main", change_type: "pvc-size", change_id: "7" },
      policy,
    );
    expect(queueNameOf(change)).toBe("pr:gitops:agent-sre/pvc-size-7->main");
    const long = queueNameOf({ repo: "r", source: `feature/${"x".repeat(300)}`, target: "dev" });
    expect(long.length).toBeLessThanOrEqual(128);
    expect(long).not.toBe(queueNameOf({ repo: "r", source: `feature/${"x".repeat(301)}`, target: "dev" }));
  });
});

describePostgres("serve replicas and a worker (built CLI)", () => {
  let test: TestDatabase;
  let fleet: Fleet;
  beforeAll(async () => {
    test = await createTestDatabase("fleet");
    fleet = await startFleet(test.url);
  });
  afterAll(async () => {
    await fleet?.gh.close();
    await test?.drop();
  });

  it("a run accepted by one replica is run by a worker and answered by every replica, identically", async () => {
    const [a, b] = await Promise.all([spawnServe(fleet), spawnServe(fleet)]);
    const worker = await spawnWorker(fleet, 2);
    try {
      const event = commitOn(fleet, "feature/fleet-1", 101);
      const key = { "Idempotency-Key": "fleet-1" };
      const accepted = await call(a.base, "POST", "/v1/events", { body: event, headers: key });
      expect(accepted.status).toBe(202);
      const runId = (accepted.body as { run_id: string }).run_id;
      const done = await settled(b.base, runId);
      expect(done).toMatchObject({ status: "done", attempts: 1, result: { status: "created" } });
      expect(await getRun(a.base, runId)).toEqual(done);
      // The same request again, at the other replica: the same run, not a second one.
      const again = await call(b.base, "POST", "/v1/events", { body: event, headers: key });
      expect(again).toMatchObject({ status: 200, body: { run_id: runId, status: "done" } });
      const reused = await call(b.base, "POST", "/v1/events", {
        body: { ...event, branch: "feature/other" },
        headers: key,
      });
      expect(reused).toMatchObject({ status: 422, body: { reason: "idempotency_key_reused" } });
      const pulls = fleet.gh.state.repos.get("acme/orderservice")!.pulls;
      expect(pulls.filter((p) => p.head.ref === "feature/fleet-1")).toHaveLength(1);
      expect(fleet.gh.calls("pulls.create")).toBe(1);
      for (const base of [a.base, b.base]) {
        expect((await call(base, "GET", "/readyz")).body).toEqual({
          status: "ready",
          checks: { agent: true, state_file: true },
        });
        const metrics = await fetch(`${base}/metrics`);
        expect(metrics.status).toBe(200);
        expect(await metrics.text()).toContain("prcreator_server_queue_depth");
      }
    } finally {
      expect(await stop(worker)).toBe(0);
      expect(await Promise.all([stop(a), stop(b)])).toEqual([0, 0]);
    }
    expect(worker.stderr()).toContain("pr-creator worker: stopped; every running run finished\n");
  }, 120_000);

  it("worker refuses to start without a database, exit 2", async () => {
    const child = await import("../helpers.js").then(({ runCli }) =>
      runCli(["worker"], { cwd: fleet.dir, env: { ...fleet.env, PR_CREATOR_DATABASE_URL: "" } }),
    );
    expect(child.code).toBe(2);
    expect(child.stderr).toContain("pr-creator worker needs a PostgreSQL database and none is configured.");
  });
});

describePostgres("approvals across replicas (built CLI)", () => {
  let test: TestDatabase;
  let fleet: Fleet;
  beforeAll(async () => {
    test = await createTestDatabase("approve");
    fleet = await startFleet(test.url, {
      config: [
        "forge: github",
        "github: { throttle: false }",
        "retry_policy: { base_delay_ms: 10 }",
        "merge: { auto_merge_levels: [] }",
        "memory: { store: none }",
        "state_file: state.db",
        "trace_registry: traces.yaml",
        "events: { jsonl_file: events.jsonl }",
        "approval: { on_violations: [trace_violation] }",
        "",
      ].join("\n"),
    });
  });
  afterAll(async () => {
    await fleet?.gh.close();
    await test?.drop();
  });

  it("a run paused on one worker is approved at another replica and continues from its Postgres checkpoint", async () => {
    const [a, b] = await Promise.all([spawnServe(fleet), spawnServe(fleet)]);
    const worker = await spawnWorker(fleet, 1);
    try {
      // A file outside the trace's scope: the gate's trace_violation waits for a person.
      const event = commitOn(fleet, "feature/approve-1", 301, "src/Billing");
      const runId = ((await call(a.base, "POST", "/v1/events", { body: event })).body as { run_id: string }).run_id;
      const paused = await settled(a.base, runId);
      expect(paused).toMatchObject({ status: "awaiting_approval", result: { status: "awaiting_approval" } });
      expect(fleet.gh.calls("pulls.create")).toBe(0);
      const resumed = await call(b.base, "POST", `/v1/runs/${runId}/resume`, { body: { approve: true, by: "lead" } });
      expect(resumed).toMatchObject({ status: 202, body: { run_id: runId, status: "queued" } });
      const done = await settled(a.base, runId);
      expect(done).toMatchObject({ status: "done", attempts: 2, result: { status: "created" } });
      expect(fleet.gh.calls("pulls.create")).toBe(1);
      const again = await call(a.base, "POST", `/v1/runs/${runId}/resume`, { body: { approve: true } });
      expect(again).toMatchObject({ status: 409, body: { reason: "not_awaiting_approval" } });
    } finally {
      expect(await stop(worker)).toBe(0);
      expect(await Promise.all([stop(a), stop(b)])).toEqual([0, 0]);
    }
  }, 120_000);
});
