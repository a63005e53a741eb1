/**
 * /metrics on a `serve` replica with a database: the front runs nothing itself (its server_runs_total stays 0),
 * so it shows the shared run registry's runs by status, read from the database when scraped — the same on every
 * replica — and a database that does not answer leaves that series out without failing the scrape.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent, type Agent } from "../../src/agent/create-agent.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { registerServerMetrics } from "../../src/server/http-metrics.js";
import { createHttpServer, type HttpServer } from "../../src/server/http.js";
import { migrateRunRegistry, pgRunRegistry, pgRunService } from "../../src/workers/pg-runs.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

const series = (text: string, name: string): Record<string, number> =>
  Object.fromEntries(
    [...text.matchAll(new RegExp(`^${name}\\{status="(\\w+)"\\} (\\d+)$`, "gm"))].map((m) => [m[1], Number(m[2])]),
  );

describePostgres("/metrics on serve replicas sharing a database", () => {
  let test: TestDatabase;
  let db: Database;
  let dir: string;
  const replicas: Array<{ http: HttpServer; agent: Agent; base: string }> = [];

  beforeAll(async () => {
    test = await createTestDatabase("metrics");
    db = await openDatabase(test.url);
    await migrateRunRegistry(db);
    dir = await mkdtemp(path.join(tmpdir(), "pr-creator-pg-metrics-"));
    for (const name of ["a", "b"]) {
      const policy = PolicySchema.parse({ state_file: path.join(dir, name, "state.db"), server: { port: 0 } });
      const agent = await createAgent({ policy, env: {}, model: null, memory: null, cwd: dir });
      // A long refresh: the gauges this test reads must come from the scrape, not from a periodic refresh.
      const runs = pgRunService({
        db,
        queueNameOf: () => "pr:q",
        maxQueued: 100,
        now: () => new Date(),
        refreshMs: 3_600_000,
      });
      const http = createHttpServer({ agent, server: policy.server, env: {}, runs: async () => runs });
      replicas.push({ http, agent, base: await http.listen() });
    }
  });

  afterAll(async () => {
    for (const { http, agent } of replicas) {
      await http.close();
      await agent.close();
    }
    await db?.close();
    await test?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const scrape = async (base: string) => {
    const response = await fetch(`${base}/metrics`);
    expect(response.status).toBe(200);
    return response.text();
  };

  it("shows the registry's runs by status on every replica, as they are when scraped", async () => {
    const registry = pgRunRegistry(db);
    const ids: string[] = [];
    for (let n = 1; n <= 4; n++) {
      const outcome = await registry.submit(
        {
          input: { n },
          event: "CommitCompleted",
          threadId: `thread-${n}`,
          requestHash: `hash-${n}`,
          idempotencyKey: null,
          queueName: `pr:q${n}`,
        },
        { maxQueued: 100, now: new Date() },
      );
      ids.push((outcome as { run: { run_id: string } }).run.run_id);
    }
    // As workers leave them: one still queued, one running, one done, one failed.
    for (const id of ids.slice(1)) await registry.claim(id, "2026-01-01T00:00:00.000Z");
    await registry.finish(ids[2]!, { status: "done", result: null, error: null, at: "2026-01-01T00:00:01.000Z" });
    await registry.finish(ids[3]!, { status: "failed", result: null, error: null, at: "2026-01-01T00:00:01.000Z" });

    const expected = { queued: 1, running: 1, done: 1, failed: 1, awaiting_approval: 0 };
    for (const { base } of replicas) {
      const text = await scrape(base);
      expect(series(text, "prcreator_server_registry_runs")).toEqual(expected);
      // The replica itself ran nothing: its own counter stays 0 (the workers ran the runs).
      expect(series(text, "prcreator_server_runs_total")).toEqual({ done: 0, failed: 0, awaiting_approval: 0 });
    }

    // A run a worker finishes now shows in the very next scrape.
    await registry.finish(ids[1]!, { status: "done", result: null, error: null, at: "2026-01-01T00:00:02.000Z" });
    expect(series(await scrape(replicas[1]!.base), "prcreator_server_registry_runs")).toEqual({
      ...expected,
      running: 0,
      done: 2,
    });
  });
});

describe("the registry's runs in /metrics", () => {
  it("are left out, and the scrape still answers, when the registry cannot be read", async () => {
    const registry = new Registry();
    let answering = true;
    registerServerMetrics(registry, {
      queueDepth: () => 0,
      inFlight: () => 0,
      registry: async () => {
        if (!answering) throw new Error("connection refused");
        return { queued: 2, running: 1, done: 5, failed: 0, awaiting_approval: 0 };
      },
    });
    expect(series(await registry.metrics(), "prcreator_server_registry_runs")).toMatchObject({ done: 5, queued: 2 });
    answering = false;
    const text = await registry.metrics();
    expect(series(text, "prcreator_server_registry_runs")).toEqual({});
    expect(text).toContain("prcreator_server_queue_depth 0");
  });

  it("are not there for a server with its own queue", async () => {
    const registry = new Registry();
    registerServerMetrics(registry, { queueDepth: () => 0, inFlight: () => 0 });
    expect(await registry.metrics()).not.toContain("prcreator_server_registry_runs");
  });
});
