/**
 * Checkpoints are written with durability "sync": a step's checkpoint is stored before the next step starts,
 * so a process killed inside a step leaves its thread at the step before. Checked with a saver whose writes
 * are slow: when the publish step starts, no checkpoint write may still be pending (with LangGraph's default,
 * "async", the previous step's write still is). Against PostgreSQL, the workers' saver.
 */
import type { RunnableConfig } from "@langchain/core/runnables";
import type { Checkpoint, CheckpointMetadata } from "@langchain/langgraph-checkpoint";
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { buildSampleRepo, SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createDryRunPublisher } from "../../src/forges/publisher.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { openDatabase, type Database } from "../../src/postgres/database.js";
import { openPostgresCheckpoints } from "../../src/workers/pg-checkpoints.js";
import { createTestDatabase, describePostgres, type TestDatabase } from "../postgres.js";

/** The Postgres saver, each checkpoint write held back 30 ms, counting the writes not yet stored. */
class SlowSaver extends PostgresSaver {
  pending = 0;
  override async put(config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata, versions: never) {
    this.pending += 1;
    try {
      await new Promise((resolve) => setTimeout(resolve, 30));
      return await super.put(config, checkpoint, metadata, versions);
    } finally {
      this.pending -= 1;
    }
  }
}

describePostgres("checkpoint durability", () => {
  let test: TestDatabase;
  let db: Database;
  beforeAll(async () => {
    test = await createTestDatabase("durable");
    db = await openDatabase(test.url);
    await openPostgresCheckpoints(db.pool);
  });
  afterAll(async () => {
    await db?.close();
    await test?.drop();
  });

  it("stores each step's checkpoint before the next step starts", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-durable-"));
    const sample = await buildSampleRepo(dir);
    const saver = new SlowSaver(db.pool, undefined, { schema: "pr_creator_checkpoints" });
    const pendingAtPublish: number[] = [];
    const preview = createDryRunPublisher();
    const agent = await createAgent({
      policy: PolicySchema.parse({ state_file: path.join(dir, "state.db") }),
      cwd: dir,
      repoPath: sample.dir,
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      publisher: {
        kind: preview.kind,
        publish: (...args) => {
          pendingAtPublish.push(saver.pending);
          return preview.publish(...args);
        },
      },
      checkpointer: saver,
      model: null,
      memory: null,
    });
    try {
      const result = await agent.handle(sample.event);
      expect(result.status).toBe("previewed");
      expect(pendingAtPublish).toEqual([0]);
      // The finished thread's last checkpoint is in the database.
      const stored = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pr_creator_checkpoints.checkpoints");
      expect(stored.rows[0]!.n).toBeGreaterThan(3);
    } finally {
      await agent.close();
    }
  });
});
