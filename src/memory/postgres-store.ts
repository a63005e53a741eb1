/**
 * Adapter: the MemoryStore in PostgreSQL, for workers and replicas that share a database but no Qdrant.
 * pgvector is not available everywhere this runs, so the vectors are stored as float32 bytes and scored here,
 * in this process: a search takes the embeddings of the rows its filters select (one scope of one repo, as
 * PrMemory asks), computes the cosine of each, then fetches the k best records. The embeddings of a filter set
 * are read whole once and cached; later searches read only the rows written since, found by the transaction id
 * each row records (`written_xid` at or after the snapshot's xmin of the previous read, so a write that was in
 * flight then is not missed). docs/deployment.md gives the limits measured (bench/memory-postgres.ts).
 *
 * Tables (schema pr_creator, component "memory"): `memory_meta` — the one embedder the vectors were made
 * with — and `memory_prs`, one row per record keyed by recordKey(record), with its unit-length embedding.
 */
import type { Database, Migration } from "../postgres/database.js";
import {
  MemoryMismatchError,
  PR_RECORD_FIELDS,
  recordKey,
  type EmbedderIdentity,
  type MemoryStore,
  type PrRecord,
  type Scored,
  type SimilarQuery,
} from "./store.js";

const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE pr_creator.memory_meta (
        id integer PRIMARY KEY CHECK (id = 1),
        embedder_name text NOT NULL,
        embedder_version text NOT NULL,
        dimensions integer NOT NULL CHECK (dimensions > 0),
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE pr_creator.memory_prs (
        key text PRIMARY KEY,
        repo text NOT NULL,
        pr_id text,
        url text,
        forge text NOT NULL,
        status text NOT NULL,
        trace_id text NOT NULL,
        blueprint_id text NOT NULL,
        component_scope text NOT NULL,
        commit_hash text NOT NULL,
        source_branch text NOT NULL,
        target_branch text NOT NULL,
        title text NOT NULL,
        text text NOT NULL,
        created_at text NOT NULL,
        updated_at text NOT NULL,
        created_at_ms bigint NOT NULL,
        updated_at_ms bigint NOT NULL,
        embedding bytea NOT NULL
      );
      CREATE INDEX memory_prs_scope ON pr_creator.memory_prs (component_scope, repo);
      CREATE INDEX memory_prs_repo ON pr_creator.memory_prs (repo);
      CREATE INDEX memory_prs_trace ON pr_creator.memory_prs (trace_id, created_at_ms, key);
      CREATE INDEX memory_prs_updated ON pr_creator.memory_prs (updated_at_ms, key);
    `,
  },
  {
    // Which transaction last wrote a row: lets a process refresh its cached vectors with only what changed.
    version: 2,
    sql: `
      ALTER TABLE pr_creator.memory_prs ADD COLUMN written_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
      CREATE INDEX memory_prs_written ON pr_creator.memory_prs (written_xid);
    `,
  },
];

/**
 * Vectors kept in this process per filter set (one scope of one repo, usually), at most this many in all: about
 * 40 MB at 512 dimensions. A filter set larger than that is read whole for each search.
 */
const MAX_CACHED_VECTORS = 20_000;

interface CachedVectors {
  /** pg_snapshot_xmin of the read that filled it: rows written by transactions from this one on may be new. */
  horizon: string;
  vectors: Map<string, Float32Array>;
}

type Filter = (typeof FILTERS)[number];

const COLUMNS = PR_RECORD_FIELDS.join(", ");
const FILTERS = ["repo", "component_scope", "blueprint_id"] as const;

type Row = Record<(typeof PR_RECORD_FIELDS)[number], string | null>;

function describeEmbedder(e: EmbedderIdentity): string {
  return `"${e.name}" version ${e.version} (${e.dimensions} dimensions)`;
}

function toMillis(value: string, field: string, key: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new Error(`Memory record ${key}: ${field} ${JSON.stringify(value)} is not an ISO 8601 date.`);
  return ms;
}

/** The vector scaled to length 1 (so a dot product is the cosine), checked against the embedder. */
function unitVector(vector: ArrayLike<number>, embedder: EmbedderIdentity, what: string): Float32Array {
  if (vector.length !== embedder.dimensions) {
    throw new Error(
      `${what} has ${vector.length} dimensions; expected ${embedder.dimensions} (embedder ${embedder.name} ${embedder.version}).`,
    );
  }
  let norm = 0;
  for (let i = 0; i < vector.length; i++) {
    const x = vector[i]!;
    if (!Number.isFinite(x)) throw new Error(`${what} contains ${x}; every component must be a finite number.`);
    norm += x * x;
  }
  if (norm === 0) throw new Error(`${what} is all zeros; cosine similarity is undefined for it.`);
  const scale = 1 / Math.sqrt(norm);
  return Float32Array.from(vector, (x) => x * scale);
}

/** A stored embedding as floats; copied when the driver's buffer is not 4-byte aligned. */
function floats(bytes: Buffer): Float32Array {
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : Buffer.from(bytes);
  return new Float32Array(aligned.buffer, aligned.byteOffset, aligned.byteLength / 4);
}

function toRecord(row: Row): PrRecord {
  return Object.fromEntries(PR_RECORD_FIELDS.map((f) => [f, row[f]])) as unknown as PrRecord;
}

/** The memory in `db`; its tables are created by init(). The pool belongs to the caller. */
export function createPostgresStore(db: Database): MemoryStore {
  let embedder: EmbedderIdentity | undefined;
  let closed = false;
  const where = `the database ${db.url}`;
  const open = () => {
    if (closed) throw new Error(`The memory store in ${where} is closed.`);
  };
  const ready = (): EmbedderIdentity => {
    open();
    if (embedder === undefined)
      throw new Error(`The memory store in ${where} is not initialised: call init(embedder) first.`);
    return embedder;
  };

  const cache = new Map<string, CachedVectors>();

  /** Keeps the cache within MAX_CACHED_VECTORS, dropping the filter sets used longest ago. */
  const trim = () => {
    let total = [...cache.values()].reduce((n, c) => n + c.vectors.size, 0);
    for (const [id, cached] of cache) {
      if (total <= MAX_CACHED_VECTORS) break;
      cache.delete(id);
      total -= cached.vectors.size;
    }
  };

  /**
   * The vectors of the rows matching the filters: from the cache, refreshed with the rows written since it was
   * filled (whatever their filters: a record may have moved out of the set), else read whole.
   */
  const vectorsOf = async (
    filters: readonly Filter[],
    values: readonly string[],
  ): Promise<Map<string, Float32Array>> => {
    const id = JSON.stringify([filters, values]);
    const cached = cache.get(id);
    type Changed = { horizon: string; key: string | null; embedding: Buffer | null } & Record<Filter, string | null>;
    if (cached !== undefined) {
      const { rows } = await db.query<Changed>(
        `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon, p.key, p.embedding, ${FILTERS.map((f) => `p.${f}`).join(", ")}
         FROM (SELECT 1) AS one LEFT JOIN pr_creator.memory_prs p ON p.written_xid >= $1::xid8`,
        [cached.horizon],
      );
      for (const row of rows) {
        if (row.key === null) continue;
        if (filters.every((f, i) => row[f] === values[i]))
          cached.vectors.set(row.key, Float32Array.from(floats(row.embedding!)));
        else cached.vectors.delete(row.key);
      }
      cached.horizon = rows[0]!.horizon;
      cache.delete(id);
      cache.set(id, cached);
      trim();
      return cached.vectors;
    }
    const on = filters.map((f, i) => `p.${f} = $${i + 1}`);
    const { rows } = await db.query<{ horizon: string; key: string | null; embedding: Buffer | null }>(
      `SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS horizon, p.key, p.embedding
       FROM (SELECT 1) AS one LEFT JOIN pr_creator.memory_prs p ON ${on.length > 0 ? on.join(" AND ") : "true"}`,
      [...values],
    );
    const vectors = new Map<string, Float32Array>();
    for (const row of rows) if (row.key !== null) vectors.set(row.key, Float32Array.from(floats(row.embedding!)));
    if (vectors.size <= MAX_CACHED_VECTORS) {
      cache.set(id, { horizon: rows[0]!.horizon, vectors });
      trim();
    }
    return vectors;
  };

  return {
    kind: "postgres",

    async init(identity) {
      open();
      if (!Number.isInteger(identity.dimensions) || identity.dimensions <= 0) {
        throw new Error(`Embedder ${describeEmbedder(identity)}: dimensions must be a positive integer.`);
      }
      await db.migrate("memory", MIGRATIONS);
      await db.query(
        `INSERT INTO pr_creator.memory_meta (id, embedder_name, embedder_version, dimensions)
         VALUES (1, $1, $2, $3) ON CONFLICT (id) DO NOTHING`,
        [identity.name, identity.version, identity.dimensions],
      );
      const { rows } = await db.query<{ embedder_name: string; embedder_version: string; dimensions: number }>(
        "SELECT embedder_name, embedder_version, dimensions FROM pr_creator.memory_meta WHERE id = 1",
      );
      const stored = rows[0]!;
      const have = { name: stored.embedder_name, version: stored.embedder_version, dimensions: stored.dimensions };
      if (have.name !== identity.name || have.version !== identity.version || have.dimensions !== identity.dimensions) {
        throw new MemoryMismatchError(
          `The memory in ${where} holds vectors of embedder ${describeEmbedder(have)}, but this run uses ${describeEmbedder(identity)}; ` +
            `vectors of different embedders cannot be compared. Use the same embedder as before (${have.name} ${have.version}), ` +
            `or start a new memory: TRUNCATE pr_creator.memory_prs and DELETE FROM pr_creator.memory_meta.`,
        );
      }
      embedder = { ...identity };
    },

    async upsert(record, vector) {
      const e = ready();
      const key = recordKey(record);
      const embedding = unitVector(vector, e, `the vector of ${key}`);
      const values = [
        key,
        ...PR_RECORD_FIELDS.map((f) => record[f]),
        toMillis(record.created_at, "created_at", key),
        toMillis(record.updated_at, "updated_at", key),
        Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength),
      ];
      await db.query(
        `INSERT INTO pr_creator.memory_prs (key, ${COLUMNS}, created_at_ms, updated_at_ms, embedding)
         VALUES (${values.map((_, i) => `$${i + 1}`).join(", ")})
         ON CONFLICT (key) DO UPDATE SET
           ${PR_RECORD_FIELDS.filter((c) => c !== "created_at")
             .map((c) => `${c} = excluded.${c}`)
             .join(", ")},
           updated_at_ms = excluded.updated_at_ms, embedding = excluded.embedding,
           written_xid = pg_current_xact_id()`,
        values,
      );
    },

    async byTrace(traceId) {
      open();
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM pr_creator.memory_prs WHERE trace_id = $1 ORDER BY created_at_ms, key`,
        [traceId],
      );
      return rows.map(toRecord);
    },

    async similar(query: SimilarQuery): Promise<Scored[]> {
      const e = ready();
      if (!Number.isInteger(query.k) || query.k < 0)
        throw new Error(`similar(): k must be a non-negative integer, got ${query.k}.`);
      const q = unitVector(query.vector, e, "the query vector");
      if (query.k === 0) return [];
      const filters = FILTERS.filter((f) => query[f] !== undefined);
      const vectors = await vectorsOf(
        filters,
        filters.map((f) => query[f]!),
      );
      const scored: Array<{ key: string; score: number }> = [];
      for (const [key, v] of vectors) {
        if (key === query.exclude_key || v.length !== q.length) continue;
        let dot = 0;
        for (let i = 0; i < q.length; i++) dot += q[i]! * v[i]!;
        scored.push({ key, score: dot });
      }
      scored.sort((a, b) => b.score - a.score || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      const best = scored.slice(0, query.k);
      if (best.length === 0) return [];
      const { rows: records } = await db.query<Row & { key: string }>(
        `SELECT key, ${COLUMNS} FROM pr_creator.memory_prs WHERE key = ANY($1::text[])`,
        [best.map((b) => b.key)],
      );
      const byKey = new Map(records.map((r) => [r.key, toRecord(r)]));
      // A record replaced between the two reads keeps its place; one deleted in between is left out.
      return best.flatMap((b) => {
        const record = byKey.get(b.key);
        return record ? [{ record, score: b.score }] : [];
      });
    },

    async history(opts = {}) {
      open();
      const since = opts.since === undefined ? Number.MIN_SAFE_INTEGER : opts.since.getTime();
      if (!Number.isFinite(since)) throw new Error("history(): since is an invalid Date.");
      if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0)) {
        throw new Error(`history(): limit must be a non-negative integer, got ${opts.limit}.`);
      }
      const { rows } = await db.query<Row>(
        `SELECT ${COLUMNS} FROM pr_creator.memory_prs WHERE updated_at_ms >= $1
         ORDER BY updated_at_ms DESC, key DESC LIMIT $2`,
        [since, opts.limit ?? null],
      );
      return rows.map(toRecord);
    },

    async close() {
      closed = true;
      embedder = undefined;
      cache.clear();
    },
  };
}
