/**
 * Session-level advisory locks of the workers, in the two-key form (namespace, hashtext(name)) so a lock can be
 * looked up in pg_locks (classid = namespace, objid = hash, objsubid = 2) without taking it. A hash collision
 * only makes two names share a lock: two runs wait for each other, or a dead worker looks alive until its jobs'
 * own timeout; never two runs of one PR at once.
 */
import type pg from "pg";

/** A run's PR: the same key the forge publisher serialises on in one process (repo, source, target). */
export const RUN_LOCK_NAMESPACE = 0x70726b31; // "prk1"
/** A worker pool is alive while its process holds this lock on the pool's id (graphile-worker's locked_by). */
export const LIVENESS_NAMESPACE = 0x70726c31; // "prl1"

export async function lockSession(client: pg.ClientBase, namespace: number, name: string): Promise<void> {
  await client.query("SELECT pg_advisory_lock($1::int4, hashtext($2))", [namespace, name]);
}

export async function unlockSession(client: pg.ClientBase, namespace: number, name: string): Promise<void> {
  await client.query("SELECT pg_advisory_unlock($1::int4, hashtext($2))", [namespace, name]);
}

/**
 * Runs `work` holding the PR's advisory lock on a connection of its own (session-level: it lasts across the
 * run's many transactions). When the connection dies, the server drops the lock with it.
 */
export async function withRunLock<T>(pool: pg.Pool, name: string, work: () => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let unlocked = false;
  try {
    await lockSession(client, RUN_LOCK_NAMESPACE, name);
    try {
      return await work();
    } finally {
      await unlockSession(client, RUN_LOCK_NAMESPACE, name);
      unlocked = true;
    }
  } finally {
    // A connection that may still hold the lock is closed, not handed to the next run.
    client.release(!unlocked);
  }
}
