/**
 * Adapter: the event outbox (src/events/outbox.ts) in PostgreSQL, flushed by any worker or replica; each
 * waiting event is delivered by one of them.
 *
 * Table `pr_creator.event_outbox` (component "outbox"), the same columns as the state file's. A flush claims
 * rows in one transaction — `FOR UPDATE SKIP LOCKED`, then their next_attempt_at moved a lease ahead — and
 * sends them after it commits, so racing flushes never both take a row. Order within a sink needs more than
 * row locks: a flush must not take a sink's later row while another holds an earlier one. So every write to a
 * sink's rows (claim, remove, reschedule) holds a transaction-scoped advisory lock on that sink; a claim only
 * tries it and leaves a busy sink to the flush that holds it. A worker that dies mid-flush leaves rows that
 * come due again when the lease ends, and are then re-sent with the same delivery id.
 */
import type pg from "pg";
import { errorText } from "../domain/errors.js";
import type { DeliverySink } from "../events/sinks.js";
import {
  LEASE_MS,
  MAX_ERROR_LENGTH,
  readEvent,
  retryDelayMs,
  type OutboxStore,
  type WaitingEvent,
} from "../events/outbox.js";
import type { Database, Migration } from "./database.js";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE pr_creator.event_outbox (
        id bigserial PRIMARY KEY,
        sink_key text NOT NULL,
        delivery_id text NOT NULL,
        event text NOT NULL,
        attempts integer NOT NULL,
        last_error text,
        created_at timestamptz NOT NULL,
        next_attempt_at timestamptz NOT NULL
      );
      CREATE INDEX event_outbox_sink ON pr_creator.event_outbox (sink_key, id);
    `,
  },
];

interface Row {
  id: string;
  sink_key: string;
  delivery_id: string;
  event: string;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  next_attempt_at: Date;
}

const SINK_LOCK = "pr_creator.event_outbox:";

/** Takes the sink's lock for the rest of the transaction, waiting for a claim or another write to finish. */
const lockSink = (client: pg.PoolClient, sink: string) =>
  client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [SINK_LOCK + sink]);

/** The outbox in `db`; its table is created on first use. `now` is the clock leases and retries count from. */
export function openPostgresOutbox(db: Database, options: { now?: () => Date } = {}): OutboxStore {
  const now = options.now ?? (() => new Date());
  let closed = false;
  const use = async () => {
    if (closed) throw new Error(`The event outbox in ${db.url} is closed.`);
    await db.migrate("outbox", MIGRATIONS);
  };

  /** Each sink's due rows up to its first row that is not due (or is leased by another flush), leased to this flush. */
  const claim = (sinks: readonly string[], at: Date): Promise<Map<string, Row[]>> =>
    db.transaction(async (client) => {
      const { rows: free } = await client.query<{ sink: string }>(
        "SELECT sink FROM unnest($1::text[]) AS s(sink) WHERE pg_try_advisory_xact_lock(hashtextextended($2 || sink, 0))",
        [sinks, SINK_LOCK],
      );
      if (free.length === 0) return new Map();
      const { rows } = await client.query<Row>(
        "SELECT * FROM pr_creator.event_outbox WHERE sink_key = ANY($1::text[]) ORDER BY sink_key, id FOR UPDATE SKIP LOCKED",
        [free.map((f) => f.sink)],
      );
      const claimed = new Map<string, Row[]>();
      const blocked = new Set<string>();
      for (const row of rows) {
        if (blocked.has(row.sink_key)) continue;
        if (row.next_attempt_at.getTime() > at.getTime()) {
          blocked.add(row.sink_key);
          continue;
        }
        claimed.set(row.sink_key, [...(claimed.get(row.sink_key) ?? []), row]);
      }
      const ids = [...claimed.values()].flat().map((row) => row.id);
      if (ids.length > 0) {
        await client.query("UPDATE pr_creator.event_outbox SET next_attempt_at = $1 WHERE id = ANY($2::bigint[])", [
          new Date(at.getTime() + LEASE_MS),
          ids,
        ]);
      }
      return claimed;
    });

  /** Sends one sink's claimed rows in order; returns how many it delivered. */
  const drain = async (sink: string, deliver: DeliverySink, rows: Row[]): Promise<number> => {
    let sent = 0;
    for (const [index, row] of rows.entries()) {
      const read = readEvent(row);
      if ("problem" in read) {
        // Edited by hand or written by a newer pr-creator: kept for a person to look at, and skipped.
        await db.transaction(async (client) => {
          await lockSink(client, sink);
          await client.query("UPDATE pr_creator.event_outbox SET last_error = $1, next_attempt_at = $2 WHERE id = $3", [
            `the stored event is not a lifecycle event (${read.problem})`.slice(0, MAX_ERROR_LENGTH),
            row.next_attempt_at,
            row.id,
          ]);
        });
        continue;
      }
      try {
        await deliver(read.event, row.delivery_id);
      } catch (error) {
        const retryAt = new Date(now().getTime() + retryDelayMs(row.attempts + 1));
        await db.transaction(async (client) => {
          await lockSink(client, sink);
          await client.query(
            "UPDATE pr_creator.event_outbox SET attempts = attempts + 1, last_error = $1, next_attempt_at = $2 WHERE id = $3",
            [errorText(error).slice(0, MAX_ERROR_LENGTH), retryAt, row.id],
          );
          const later = rows.slice(index + 1).map((r) => r.id);
          if (later.length > 0) {
            await client.query("UPDATE pr_creator.event_outbox SET next_attempt_at = $1 WHERE id = ANY($2::bigint[])", [
              retryAt,
              later,
            ]);
          }
        });
        return sent;
      }
      await db.transaction(async (client) => {
        await lockSink(client, sink);
        await client.query("DELETE FROM pr_creator.event_outbox WHERE id = $1", [row.id]);
      });
      sent++;
    }
    return sent;
  };

  return {
    where: db.url,

    async add({ sink, event, deliveryId, error }) {
      await use();
      const at = now();
      await db.query(
        `INSERT INTO pr_creator.event_outbox (sink_key, delivery_id, event, attempts, last_error, created_at, next_attempt_at)
         VALUES ($1, $2, $3, 1, $4, $5, $5)`,
        [sink, deliveryId, JSON.stringify(event), error.slice(0, MAX_ERROR_LENGTH), at],
      );
    },

    async flush(sinks) {
      await use();
      const claimed = await claim([...sinks.keys()], now());
      // Sinks are independent: one that is down must not hold up the others.
      const sent = await Promise.all([...claimed].map(([key, rows]) => drain(key, sinks.get(key)!, rows)));
      const { rows } = await db.query<{ n: string }>("SELECT count(*) AS n FROM pr_creator.event_outbox");
      return { sent: sent.reduce((a, b) => a + b, 0), waiting: Number(rows[0]!.n) };
    },

    async list() {
      await use();
      const { rows } = await db.query<Row>("SELECT * FROM pr_creator.event_outbox ORDER BY id");
      return rows.map((row): WaitingEvent => ({
        id: Number(row.id),
        sink: row.sink_key,
        deliveryId: row.delivery_id,
        eventJson: row.event,
        attempts: row.attempts,
        lastError: row.last_error,
        createdAt: row.created_at.toISOString(),
        nextAttemptAt: row.next_attempt_at.toISOString(),
      }));
    },

    async close() {
      // The pool belongs to whoever opened the database.
      closed = true;
    },
  };
}
