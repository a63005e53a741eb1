/**
 * Adapter: the MemoryStore in one SQLite file (the embedded default), with sqlite-vec for exact KNN, searched
 * off the event loop once the memory is large.
 *
 * The file is the project's state file, which LangGraph's checkpoints (src/agent/checkpoints.ts) share:
 * every table here is prefixed `memory_` and no other table is touched. The schema is versioned in
 * `memory_schema_version` (not PRAGMA user_version, which belongs to the whole file).
 *
 * Layout:
 * - memory_meta: the one embedder whose vectors the file holds (name, version, dimensions).
 * - memory_prs: one row per record, keyed by recordKey(record); `vec_rowid` links it to its vectors
 *   (an explicit column rather than the implicit rowid, which VACUUM may renumber).
 * - memory_vectors and memory_vec: vec0 virtual tables created by init() once the dimensions are known, with
 *   the filter fields as vec0 metadata columns so a filtered KNN is filtered inside the index scan (k filtered
 *   neighbours, not the k nearest then filtered). memory_vec is partitioned by component_scope: a query with a
 *   scope — the agent's usual one (PrMemory.recall asks its scope first, nearest always does) — reads only that
 *   scope's chunks. memory_vectors holds the same vectors unpartitioned, for queries without a scope, which a
 *   partitioned table serves slower. Both exact; bench/memory.md has the numbers, and the approximate variants
 *   (int8, binary quantisation with re-ranking) that were measured and not taken.
 *
 * Searches run in a worker thread with its own read-only connection once the memory holds READER_MIN_RECORDS
 * records, when the store opened the file itself (not for :memory: or a connection passed in), so a search over
 * a large memory never blocks the event loop; WAL lets it read while the owning connection writes.
 *
 * better-sqlite3 is synchronous: every write runs in one synchronous statement or transaction, so
 * calls never interleave within a process; writes take the write lock up front (BEGIN IMMEDIATE) and
 * wait up to busy_timeout for another process, so they never fail on a stale read snapshot.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import * as sqliteVec from "sqlite-vec";
import {
  MemoryMismatchError,
  recordKey,
  type EmbedderIdentity,
  type MemoryStore,
  type PrRecord,
  type Scored,
  type SimilarQuery,
  PR_RECORD_FIELDS,
} from "./store.js";
import { isNotADatabase, migrateTable, notAStateFile, stateFileError } from "../state/state-db.js";
import { SqliteReader } from "./sqlite-reader.js";

type Db = Database.Database;

export interface SqliteStoreOptions {
  /** An open connection to use instead of opening `file`; the store then leaves closing it to the caller. */
  db?: Database.Database;
  /**
   * Where similar() runs: "worker" (a read-only connection in a worker thread, off the event loop), "inline"
   * (this connection, synchronously), or "auto": the worker once the memory holds READER_MIN_RECORDS records
   * (below that a search takes well under a millisecond, less than starting the thread). Default: auto when
   * the store opens `file` itself, inline for :memory: or a connection passed in `db` (another connection
   * would not see it).
   */
  reader?: "worker" | "inline" | "auto";
}

/**
 * Vectors per vec0 chunk of memory_vec (vec0's default is 1024): every scope's partition allocates whole chunks, so
 * with 20 scopes of a few hundred PRs the default would leave most of each 2 MiB chunk empty.
 */
const VEC_CHUNK = 256;

/** From this many records on, "auto" searches in the reader thread (started by init(), so it is warm). */
export const READER_MIN_RECORDS = 2000;

/** How long a write waits for another connection's lock before failing (as src/agent/checkpoints.ts). */
const BUSY_TIMEOUT_MS = 5000;
/** sqlite-vec refuses a KNN `k` above this; similar() returns at most this many. */
const VEC_MAX_K = 4096;

/** Migrations in order; each runs once, in the same transaction as its row in memory_schema_version. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE memory_meta (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        embedder_name TEXT NOT NULL,
        embedder_version TEXT NOT NULL,
        dimensions INTEGER NOT NULL CHECK (dimensions > 0),
        created_at TEXT NOT NULL
      );
      CREATE TABLE memory_prs (
        key TEXT PRIMARY KEY,
        vec_rowid INTEGER NOT NULL UNIQUE,
        repo TEXT NOT NULL,
        pr_id TEXT,
        url TEXT,
        forge TEXT NOT NULL,
        status TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        blueprint_id TEXT NOT NULL,
        component_scope TEXT NOT NULL,
        commit_hash TEXT NOT NULL,
        source_branch TEXT NOT NULL,
        target_branch TEXT NOT NULL,
        title TEXT NOT NULL,
        text TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        created_at_ms INTEGER NOT NULL,
        updated_at_ms INTEGER NOT NULL
      );
      CREATE INDEX memory_prs_trace_id ON memory_prs (trace_id, created_at_ms, key);
      CREATE INDEX memory_prs_updated_at ON memory_prs (updated_at_ms, key);
      CREATE INDEX memory_prs_component_scope ON memory_prs (component_scope);
      CREATE INDEX memory_prs_repo ON memory_prs (repo);
      CREATE INDEX memory_prs_blueprint_id ON memory_prs (blueprint_id);
    `,
  },
];

const RECORD_COLUMNS = PR_RECORD_FIELDS;
const SELECT_RECORD = RECORD_COLUMNS.map((c) => `p.${c}`).join(", ");

type Row = { [K in (typeof RECORD_COLUMNS)[number]]: K extends "pr_id" | "url" ? string | null : string };

const FILTERS = ["repo", "component_scope", "blueprint_id"] as const;
type Filter = (typeof FILTERS)[number];

interface MetaRow {
  embedder_name: string;
  embedder_version: string;
  dimensions: number;
}

/**
 * Opens (or creates) the memory in `file` — the state file, shared with LangGraph's checkpoints — or in
 * `opts.db`. Throws a PrCreatorError (invalid_config) when the file cannot be opened or is not a database.
 */
export function createSqliteStore(file: string | ":memory:", opts: SqliteStoreOptions = {}): MemoryStore {
  const owned = opts.db === undefined;
  let db: Db | undefined;
  try {
    if (opts.db === undefined) {
      if (file !== ":memory:") mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      db = new Database(file);
    } else {
      db = opts.db;
    }
    sqliteVec.load(db);
    if (owned) {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma("journal_mode = WAL");
    } else if (db.pragma("busy_timeout", { simple: true }) === 0) {
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    migrateTable(db, file, "memory", "The memory", MIGRATIONS);
    const reader = opts.reader ?? (owned && file !== ":memory:" ? "auto" : "inline");
    return new SqliteMemoryStore(db, file, owned, { reader });
  } catch (error) {
    if (owned) db?.close();
    throw stateFileError(file, error, "memory");
  }
}

function describeEmbedder(e: EmbedderIdentity): string {
  return `"${e.name}" version ${e.version} (${e.dimensions} dimensions)`;
}

function toMillis(value: string, field: string, key: string): number {
  const ms = Date.parse(value);
  if (!Number.isFinite(ms))
    throw new Error(`Memory record ${key}: ${field} ${JSON.stringify(value)} is not an ISO 8601 date.`);
  return ms;
}

class SqliteMemoryStore implements MemoryStore {
  readonly kind = "sqlite" as const;
  /** Set by init(): the embedder, and the statements on the vector tables (which init() made sure exist). */
  private ready:
    | { embedder: EmbedderIdentity; deleteVectors: Database.Statement[]; insertVectors: Database.Statement[] }
    | undefined;
  private closed = false;
  private readonly knn = new Map<string, { sql: string; statement?: Database.Statement }>();
  private reader: SqliteReader | undefined;
  /** Records stored (counted by init(), then one more per upsert: an estimate for choosing the reader). */
  private size = 0;
  private readonly stmts;

  constructor(
    private readonly db: Db,
    private readonly file: string,
    private readonly owned: boolean,
    private readonly opts: {
      reader: "worker" | "inline" | "auto";
    },
  ) {
    this.stmts = {
      meta: db.prepare("SELECT embedder_name, embedder_version, dimensions FROM memory_meta WHERE id = 1"),
      insertMeta: db.prepare(
        "INSERT INTO memory_meta (id, embedder_name, embedder_version, dimensions, created_at) VALUES (1, ?, ?, ?, ?)",
      ),
      upsert: db
        .prepare(
          `
        INSERT INTO memory_prs (key, vec_rowid, ${RECORD_COLUMNS.join(", ")}, created_at_ms, updated_at_ms)
        VALUES (@key, (SELECT coalesce(max(vec_rowid), 0) + 1 FROM memory_prs), ${RECORD_COLUMNS.map((c) => `@${c}`).join(", ")}, @created_at_ms, @updated_at_ms)
        ON CONFLICT (key) DO UPDATE SET
          ${RECORD_COLUMNS.filter((c) => c !== "created_at")
            .map((c) => `${c} = excluded.${c}`)
            .join(", ")},
          updated_at_ms = excluded.updated_at_ms
        RETURNING vec_rowid`,
        )
        .pluck(),
      byTrace: db.prepare(
        `SELECT ${SELECT_RECORD} FROM memory_prs p WHERE p.trace_id = ? ORDER BY p.created_at_ms, p.key`,
      ),
      history: db.prepare(
        `SELECT ${SELECT_RECORD} FROM memory_prs p WHERE p.updated_at_ms >= ? ORDER BY p.updated_at_ms DESC, p.key DESC LIMIT ?`,
      ),
    };
  }

  async init(embedder: EmbedderIdentity): Promise<void> {
    this.run(() => {
      if (!Number.isInteger(embedder.dimensions) || embedder.dimensions <= 0) {
        throw new Error(`Embedder ${describeEmbedder(embedder)}: dimensions must be a positive integer.`);
      }
      this.db
        .transaction(() => {
          const stored = this.stmts.meta.get() as MetaRow | undefined;
          if (stored === undefined) {
            this.stmts.insertMeta.run(embedder.name, embedder.version, embedder.dimensions, new Date().toISOString());
          } else if (
            stored.embedder_name !== embedder.name ||
            stored.embedder_version !== embedder.version ||
            stored.dimensions !== embedder.dimensions
          ) {
            const have = {
              name: stored.embedder_name,
              version: stored.embedder_version,
              dimensions: stored.dimensions,
            };
            throw new MemoryMismatchError(
              `The memory in ${this.file} holds vectors of embedder ${describeEmbedder(have)}, but this run uses ${describeEmbedder(embedder)}; ` +
                `vectors of different embedders cannot be compared. Use the same embedder as before (${have.name} ${have.version}), ` +
                `or start a new memory: point state_file at a new file, or clear this one's memory (drop its memory_* tables, with sqlite-vec loaded).`,
            );
          }
          this.createVectorTables(embedder);
        })
        .immediate();
      this.knn.clear();
      this.size = Number(this.db.prepare("SELECT count(*) FROM memory_prs").pluck().get());
      if (this.opts.reader === "worker" || (this.opts.reader === "auto" && this.size >= READER_MIN_RECORDS)) {
        this.startReader();
      }
      this.ready = {
        embedder: { ...embedder },
        deleteVectors: ["memory_vectors", "memory_vec"].map((t) => this.db.prepare(`DELETE FROM ${t} WHERE rowid = ?`)),
        insertVectors: ["memory_vectors", "memory_vec"].map((t) =>
          this.db.prepare(
            `INSERT INTO ${t} (rowid, embedding, repo, component_scope, blueprint_id) VALUES (?, ?, ?, ?, ?)`,
          ),
        ),
      };
    });
  }

  /**
   * Creates the vector tables, inside init()'s transaction (also after a matching meta row: recreates a table
   * dropped by hand); fills a new memory_vec from memory_vectors (a memory made before memory_vec existed).
   */
  private createVectorTables(embedder: EmbedderIdentity): void {
    const d = embedder.dimensions;
    this.db.exec(
      `CREATE VIRTUAL TABLE IF NOT EXISTS memory_vectors USING vec0(` +
        `embedding float[${d}] distance_metric=cosine, repo text, component_scope text, blueprint_id text)`,
    );
    const exists = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'memory_vec'").get();
    if (exists !== undefined) return;
    this.db.exec(`
      CREATE VIRTUAL TABLE memory_vec USING vec0(
        component_scope text partition key, embedding float[${d}] distance_metric=cosine, repo text, blueprint_id text,
        chunk_size=${VEC_CHUNK});
      INSERT INTO memory_vec (rowid, component_scope, embedding, repo, blueprint_id)
        SELECT rowid, component_scope, embedding, repo, blueprint_id FROM memory_vectors;`);
  }

  async upsert(record: PrRecord, vector: ArrayLike<number>): Promise<void> {
    this.run(() => {
      const { embedder, deleteVectors, insertVectors } = this.initialised();
      const key = recordKey(record);
      const embedding = toEmbedding(vector, embedder, `the vector of ${key}`);
      const params = {
        key,
        ...Object.fromEntries(RECORD_COLUMNS.map((c) => [c, record[c]])),
        created_at_ms: toMillis(record.created_at, "created_at", key),
        updated_at_ms: toMillis(record.updated_at, "updated_at", key),
      };
      this.db
        .transaction(() => {
          // vec0 wants the rowid bound as an SQLite integer: a JS number is bound as a REAL and refused.
          const rowid = BigInt(this.stmts.upsert.get(params) as number);
          if (++this.size === READER_MIN_RECORDS && this.opts.reader === "auto") this.startReader();
          // vec0 has no upsert: replace the vectors (metadata, partition) by delete + insert under the same rowid.
          for (const statement of deleteVectors) statement.run(rowid);
          for (const statement of insertVectors) {
            statement.run(rowid, embedding, record.repo, record.component_scope, record.blueprint_id);
          }
        })
        .immediate();
    });
  }

  async byTrace(traceId: string): Promise<PrRecord[]> {
    return this.run(() => (this.stmts.byTrace.all(traceId) as Row[]).map(toRecord));
  }

  async similar(query: SimilarQuery): Promise<Scored[]> {
    const prepared = this.run(() => {
      const { embedder } = this.initialised();
      if (!Number.isInteger(query.k) || query.k < 0)
        throw new Error(`similar(): k must be a non-negative integer, got ${query.k}.`);
      const embedding = toEmbedding(query.vector, embedder, "the query vector");
      if (query.k === 0) return undefined;
      const filters = FILTERS.filter((f) => query[f] !== undefined);
      const fetch = Math.min(query.k + (query.exclude_key === undefined ? 0 : 1), VEC_MAX_K);
      const params: Record<string, unknown> = { q: embedding, fetch };
      for (const f of filters) params[f] = query[f];
      return { query: this.knnQuery(filters), params };
    });
    if (prepared === undefined) return [];
    const rows = await this.read<Row & { key: string; distance: number }>(prepared.query, prepared.params);
    return rows
      .filter((row) => row.key !== query.exclude_key)
      .slice(0, query.k)
      .map((row) => ({ record: toRecord(row), score: 1 - row.distance }));
  }

  private startReader(): SqliteReader {
    return (this.reader ??= new SqliteReader(this.file, { busyTimeoutMs: BUSY_TIMEOUT_MS }));
  }

  /** Runs a read query in the reader thread, or on this connection when there is none (or it broke). */
  private async read<T>(query: { sql: string; statement?: Database.Statement }, params: Record<string, unknown>) {
    const inline = () => this.run(() => (query.statement ??= this.db.prepare(query.sql)).all(params) as T[]);
    if (this.opts.reader === "inline" || (this.opts.reader === "auto" && this.size < READER_MIN_RECORDS)) {
      return inline();
    }
    const reader = this.startReader();
    try {
      return await reader.all<T>(query.sql, params);
    } catch (error) {
      if (isNotADatabase(error)) throw notAStateFile(this.file, error);
      // The thread could not start or died: read here from now on, rather than fail the recall.
      if (reader.broken !== undefined && !this.closed) {
        void reader.close();
        this.opts.reader = "inline";
        return inline();
      }
      throw error;
    }
  }

  async history(opts: { since?: Date; limit?: number } = {}): Promise<PrRecord[]> {
    return this.run(() => {
      const since = opts.since === undefined ? Number.MIN_SAFE_INTEGER : opts.since.getTime();
      if (!Number.isFinite(since)) throw new Error("history(): since is an invalid Date.");
      if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0)) {
        throw new Error(`history(): limit must be a non-negative integer, got ${opts.limit}.`);
      }
      return (this.stmts.history.all(since, opts.limit ?? -1) as Row[]).map(toRecord);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.knn.clear();
    this.ready = undefined;
    await this.reader?.close();
    this.reader = undefined;
    if (this.owned) this.db.close();
  }

  /** Runs one synchronous operation; a file found corrupt mid-way is reported as such. */
  private run<T>(operation: () => T): T {
    if (this.closed) throw new Error(`The memory store on ${this.file} is closed.`);
    try {
      return operation();
    } catch (error) {
      if (isNotADatabase(error)) throw notAStateFile(this.file, error);
      throw error;
    }
  }

  private initialised(): NonNullable<SqliteMemoryStore["ready"]> {
    if (this.ready === undefined)
      throw new Error(`The memory store on ${this.file} is not initialised: call init(embedder) first.`);
    return this.ready;
  }

  /**
   * The KNN query for one combination of filters, on memory_vec when a scope is among them (its partition key),
   * else memory_vectors; its SQL runs in either thread. The filters must be plain `column = @column` constraints
   * in the vec0 WHERE clause: anything vec0 cannot take into the scan (an OR, `? IS NULL OR ...`) is applied by
   * SQLite after the k nearest were chosen, silently returning fewer than k.
   */
  private knnQuery(filters: readonly Filter[]): { sql: string; statement?: Database.Statement } {
    const id = filters.join(",");
    let query = this.knn.get(id);
    if (query === undefined) {
      const table = filters.includes("component_scope") ? "memory_vec" : "memory_vectors";
      const where = ["embedding MATCH @q", "k = @fetch", ...filters.map((f) => `${f} = @${f}`)].join(" AND ");
      query = {
        sql: `
        SELECT p.key, ${SELECT_RECORD}, v.distance
        FROM (SELECT rowid, distance FROM ${table} WHERE ${where}) v
        JOIN memory_prs p ON p.vec_rowid = v.rowid
        ORDER BY v.distance, p.key`,
      };
      this.knn.set(id, query);
    }
    return query;
  }
}

function toEmbedding(vector: ArrayLike<number>, embedder: EmbedderIdentity, what: string): Float32Array {
  if (vector.length !== embedder.dimensions) {
    throw new Error(
      `${what} has ${vector.length} dimensions; expected ${embedder.dimensions} (embedder ${embedder.name} ${embedder.version}).`,
    );
  }
  const embedding = Float32Array.from(vector);
  let zero = true;
  for (const x of embedding) {
    if (!Number.isFinite(x)) throw new Error(`${what} contains ${x}; every component must be a finite number.`);
    if (x !== 0) zero = false;
  }
  if (zero) throw new Error(`${what} is all zeros; cosine similarity is undefined for it.`);
  return embedding;
}

function toRecord(row: Row): PrRecord {
  return {
    repo: row.repo,
    pr_id: row.pr_id,
    url: row.url,
    forge: row.forge,
    status: row.status as PrRecord["status"],
    trace_id: row.trace_id,
    blueprint_id: row.blueprint_id,
    component_scope: row.component_scope,
    commit_hash: row.commit_hash,
    source_branch: row.source_branch,
    target_branch: row.target_branch,
    title: row.title,
    text: row.text,
    created_at: row.created_at,
    updated_at: row.updated_at,
  };
}
