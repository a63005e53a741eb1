/**
 * A read-only SQLite connection in a worker thread, for queries that must not block the event loop (the
 * memory's similar-PR search over a large state file). The caller prepares the SQL; the worker keeps one
 * prepared statement per text and answers `all(params)`. sqlite-vec is loaded there too.
 *
 * The worker's source is a small CommonJS script evaluated in the thread, so it runs the same from src/ (tsx,
 * vitest) and dist/ without a build step; it loads better-sqlite3 and sqlite-vec from the paths resolved here.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

const require = createRequire(import.meta.url);

const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.betterSqlite3);
const sqliteVec = require(workerData.sqliteVec);
const db = new Database(workerData.file, { fileMustExist: true });
sqliteVec.load(db);
db.pragma("busy_timeout = " + workerData.busyTimeoutMs);
db.pragma("query_only = ON");
db.pragma("cache_size = -" + workerData.cacheKiB);
const statements = new Map();
parentPort.on("message", ({ id, sql, params }) => {
  try {
    let statement = statements.get(sql);
    if (statement === undefined) statements.set(sql, (statement = db.prepare(sql)));
    parentPort.postMessage({ id, rows: statement.all(params) });
  } catch (error) {
    parentPort.postMessage({ id, error: { message: String(error && error.message), code: error && error.code } });
  }
});
`;

export interface SqliteReaderOptions {
  busyTimeoutMs: number;
  /** The worker connection's page cache, in KiB (SQLite's default is 2 MiB). */
  cacheKiB?: number;
}

/** An error from the worker's connection, with SQLite's code kept (SQLITE_NOTADB, SQLITE_BUSY, …). */
export class SqliteReaderError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = "SqliteError";
  }
}

type Pending = { resolve: (rows: unknown[]) => void; reject: (error: Error) => void };

export class SqliteReader {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private seq = 0;
  private failed: Error | undefined;

  constructor(file: string, opts: SqliteReaderOptions) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        file,
        betterSqlite3: require.resolve("better-sqlite3"),
        sqliteVec: require.resolve("sqlite-vec"),
        busyTimeoutMs: opts.busyTimeoutMs,
        cacheKiB: opts.cacheKiB ?? 32 * 1024,
      },
    });
    // An idle reader never keeps the process alive; a query in flight does (ref() below).
    this.worker.unref();
    this.worker.on("message", (m: { id: number; rows?: unknown[]; error?: { message: string; code?: string } }) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) this.worker.unref();
      if (m.error) p.reject(new SqliteReaderError(m.error.message, m.error.code));
      else p.resolve(m.rows ?? []);
    });
    const fail = (error: Error) => {
      this.failed ??= error;
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`The SQLite reader thread exited (code ${code}).`)));
  }

  /** Set once the thread died (it could not open the file, or crashed); the caller then reads in-thread. */
  get broken(): Error | undefined {
    return this.failed;
  }

  all<T>(sql: string, params: Record<string, unknown>): Promise<T[]> {
    if (this.failed) return Promise.reject(this.failed);
    const id = ++this.seq;
    return new Promise<T[]>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (rows: unknown[]) => void, reject });
      this.worker.ref();
      this.worker.postMessage({ id, sql, params });
    });
  }

  async close(): Promise<void> {
    this.failed ??= new Error("The SQLite reader is closed.");
    await this.worker.terminate();
  }
}
