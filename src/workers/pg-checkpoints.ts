/**
 * LangGraph checkpoints in PostgreSQL for workers on many machines: a run cut off on one worker continues on
 * another from its last checkpoint. Kept apart from the embedded SqliteSaver (src/agent/checkpoints.ts) so the
 * CLI's other commands never load the Postgres saver.
 */
import { PostgresSaver } from "@langchain/langgraph-checkpoint-postgres";
import type pg from "pg";

/** The checkpoints' own schema, next to ours (pr_creator) and the job queue's (pr_creator_jobs). */
export const CHECKPOINT_SCHEMA = "pr_creator_checkpoints";

/**
 * The saver, its tables created on first use by its setup(). setup() is not safe to run from several processes
 * at once (it creates the schema, then numbers its migrations), so it runs under a session advisory lock.
 */
export async function openPostgresCheckpoints(pool: pg.Pool): Promise<PostgresSaver> {
  const saver = new PostgresSaver(pool, undefined, { schema: CHECKPOINT_SCHEMA });
  const lock = `${CHECKPOINT_SCHEMA}.setup`;
  const client = await pool.connect();
  try {
    await client.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [lock]);
    try {
      await saver.setup();
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [lock]);
    }
  } finally {
    client.release();
  }
  return saver;
}
