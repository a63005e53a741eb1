/**
 * The PR history ledger: one row per thing that happened to a PR (a run ended, its checks settled, a merge
 * was tried, a rollback was made), kept in the agent's state file so the report can measure the seed's
 * success metrics over any period.
 *
 * The state file is shared with LangGraph's checkpoints and the memory tables: every table here is prefixed
 * `pr_history` and no other table is touched. The schema is versioned in `pr_history_schema_version` (not
 * PRAGMA user_version, which belongs to the whole file).
 *
 * Layout: `pr_history` holds each entry as validated JSON, plus the columns queries filter on (`at_ms`,
 * `repo`) and those useful when reading the table by hand (`kind`, `trace_id`, `pr_id`).
 *
 * better-sqlite3 is synchronous: an append is one INSERT, so appends never interleave within a process, and
 * several connections to the file (several agents in one process, or other processes) serialize on
 * SQLite's write lock, waiting up to busy_timeout.
 */
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { errorText, formatZodIssues, PrCreatorError } from "../domain/errors.js";
import { FailureReasonSchema } from "../domain/reasons.js";
import { CI_RESULTS, DRAFTERS, GENERATION_STATUSES, MERGE_RESULTS, RISK_LEVELS, ROLLBACK_RESULTS } from "./outcomes.js";
import { isNotADatabase, migrateTable, notAStateFile, stateFileError } from "../state/state-db.js";

type Db = Database.Database;

/** A moment: a Date, or an ISO 8601 time with a zone; stored and returned as UTC ISO 8601 with milliseconds. */
const At = z
  .union([z.date(), z.iso.datetime({ offset: true })])
  .transform((value) => (typeof value === "string" ? new Date(value) : value).toISOString());
const Text = z.string().min(1);
const Millis = z.number().nonnegative();

const Common = { at: At, repo: Text, trace_id: Text };

export const GenerationEntrySchema = z
  .strictObject({
    kind: z.literal("generation"),
    ...Common,
    pr_id: Text.nullable(),
    status: z.enum(GENERATION_STATUSES),
    /** Why the run failed; null unless status is failed. */
    reason: FailureReasonSchema.nullable(),
    risk: z.enum(RISK_LEVELS).nullable(),
    /** Run start → PR published or failed. */
    duration_ms: Millis,
    /** The published title and body passed the gate. */
    compliant: z.boolean(),
    drafted_by: z.enum(DRAFTERS).nullable(),
  })
  .refine((e) => (e.status === "failed") === (e.reason !== null), {
    path: ["reason"],
    message: "is required when status is failed, and must be null otherwise",
  });

export const CiEntrySchema = z.strictObject({
  kind: z.literal("ci"),
  ...Common,
  pr_id: Text,
  result: z.enum(CI_RESULTS),
  /** PR opened → all checks settled. */
  duration_ms: Millis,
  failed_checks: z.array(Text),
});

export const MergeEntrySchema = z.strictObject({
  kind: z.literal("merge"),
  ...Common,
  pr_id: Text,
  risk: z.enum(RISK_LEVELS),
  /** The agent merged (or tried to) by itself, rather than a person. */
  auto: z.boolean(),
  result: z.enum(MERGE_RESULTS),
  /** Checks settled → merged; null when it did not merge or the checks' time is unknown. */
  after_ci_ms: Millis.nullable(),
  reason: Text.nullable(),
});

export const RollbackEntrySchema = z.strictObject({
  kind: z.literal("rollback"),
  ...Common,
  /** The PR rolled back. */
  pr_id: Text,
  revert_pr_id: Text.nullable(),
  result: z.enum(ROLLBACK_RESULTS),
  reason: Text.nullable(),
});

export const HistoryEntrySchema = z.discriminatedUnion("kind", [
  GenerationEntrySchema,
  CiEntrySchema,
  MergeEntrySchema,
  RollbackEntrySchema,
]);

/** What append() takes: `at` may be a Date or an ISO 8601 string with a zone. */
export type HistoryEntryInput = z.input<typeof HistoryEntrySchema>;
/** What list() returns: `at` is UTC ISO 8601 (`2026-01-08T09:30:00.000Z`). */
export type HistoryEntry = z.output<typeof HistoryEntrySchema>;
export type GenerationEntry = z.output<typeof GenerationEntrySchema>;
export type CiEntry = z.output<typeof CiEntrySchema>;
export type MergeEntry = z.output<typeof MergeEntrySchema>;
export type RollbackEntry = z.output<typeof RollbackEntrySchema>;

export interface HistoryQuery {
  /** Only entries at or after this moment. */
  since?: Date;
  /** Only entries of this repository (exact name). */
  repo?: string;
}

export interface History {
  /** Validates and stores one entry; a PrCreatorError (invalid_request) names every bad field. */
  append(entry: HistoryEntryInput): Promise<void>;
  /** Entries oldest first (by `at`, then by the order they were appended). */
  list(query?: HistoryQuery): Promise<HistoryEntry[]>;
  /**
   * Claims the announcement `kind` of the PR `prKey`: true when no run has sent it, or when a run claimed it
   * more than `staleMs` ago and never confirmed (it died between claiming and sending). One claim wins.
   */
  claimAnnouncement(prKey: string, kind: string, staleMs: number): Promise<boolean>;
  /** Records that the claimed announcement was handed to the event sinks. */
  confirmAnnouncement(prKey: string, kind: string): Promise<void>;
  /** Closes the connection if openHistory opened it; later calls throw. */
  close(): Promise<void>;
}

/** The entry append() stores: validated, `at` in UTC; a PrCreatorError (invalid_request) names every bad field. */
export function parseHistoryEntry(input: HistoryEntryInput): HistoryEntry {
  const parsed = HistoryEntrySchema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  const kind = (input as { kind?: unknown } | null)?.kind;
  throw new PrCreatorError(
    "invalid_request",
    `The PR history entry${typeof kind === "string" ? ` (${kind})` : ""} is invalid: ${formatZodIssues(parsed.error).join("; ")}.`,
  );
}

/** A stored entry read back (`stored` yields its JSON value); a row that is not one is an invalid_config error naming `row`. */
export function readHistoryEntry(stored: () => unknown, row: string): HistoryEntry {
  let problem: string;
  try {
    const parsed = HistoryEntrySchema.safeParse(stored());
    if (parsed.success) return parsed.data;
    problem = formatZodIssues(parsed.error).join("; ");
  } catch (error) {
    problem = `not JSON: ${errorText(error)}`;
  }
  throw new PrCreatorError("invalid_config", `${row} is not a valid entry (${problem}).`, {
    hint: "The table was edited by hand or by a newer pr-creator; delete the row or upgrade pr-creator.",
  });
}

/** How long a write waits for another connection's lock (as the memory store and the checkpoints). */
const BUSY_TIMEOUT_MS = 5000;

/** Migrations in order; each runs once, in the same transaction as its row in pr_history_schema_version. */
const MIGRATIONS: ReadonlyArray<{ version: number; sql: string }> = [
  {
    version: 1,
    sql: `
      CREATE TABLE pr_history (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        kind TEXT NOT NULL,
        repo TEXT NOT NULL,
        trace_id TEXT NOT NULL,
        pr_id TEXT,
        entry TEXT NOT NULL
      );
      CREATE INDEX pr_history_at ON pr_history (at_ms, id);
      CREATE INDEX pr_history_repo_at ON pr_history (repo, at_ms, id);
    `,
  },
  {
    version: 2,
    sql: `
      CREATE TABLE pr_history_announcements (
        pr_key TEXT NOT NULL,
        kind TEXT NOT NULL,
        state TEXT NOT NULL,
        at_ms INTEGER NOT NULL,
        PRIMARY KEY (pr_key, kind)
      );
    `,
  },
];

/**
 * Opens (or creates) the ledger in `file` — the state file — or in memory (":memory:"). Throws a
 * PrCreatorError (invalid_config) when the file cannot be opened, is not a database, or holds a ledger
 * newer than this pr-creator. (The signature names no better-sqlite3 type: the package's declarations
 * must type-check for consumers without @types/better-sqlite3.)
 */
export function openHistory(file: string | ":memory:"): History {
  return openHistoryOn(file);
}

/**
 * As openHistory, or on an open connection (`{ db }`), which the caller then closes.
 * @internal Left out of the published declarations (stripInternal): it names a better-sqlite3 type.
 */
export function openHistoryOn(target: string | { db: Db }): History {
  const owned = typeof target === "string";
  const name = owned ? target : target.db.name;
  let db: Db | undefined;
  try {
    if (owned) {
      if (target !== ":memory:") mkdirSync(path.dirname(path.resolve(target)), { recursive: true });
      db = new Database(target);
      db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      db.pragma("journal_mode = WAL");
      // In WAL mode NORMAL cannot corrupt the file; a power cut may lose the last appends, which a ledger of
      // metrics can afford, and each append then needs no fsync.
      db.pragma("synchronous = NORMAL");
    } else {
      db = target.db;
      if (db.pragma("busy_timeout", { simple: true }) === 0) db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    }
    migrateTable(db, name, "pr_history", "The PR history", MIGRATIONS);
    return sqliteHistory(db, name, owned);
  } catch (error) {
    if (owned) db?.close();
    throw stateFileError(name, error, "the PR history");
  }
}

function sqliteHistory(db: Db, file: string, owned: boolean): History {
  const insert = db.prepare(
    "INSERT INTO pr_history (at_ms, kind, repo, trace_id, pr_id, entry) VALUES (?, ?, ?, ?, ?, ?)",
  );
  const all = db.prepare("SELECT id, entry FROM pr_history WHERE at_ms >= ? ORDER BY at_ms, id");
  const ofRepo = db.prepare("SELECT id, entry FROM pr_history WHERE repo = ? AND at_ms >= ? ORDER BY at_ms, id");
  const claimNew = db.prepare(
    "INSERT OR IGNORE INTO pr_history_announcements (pr_key, kind, state, at_ms) VALUES (?, ?, 'claimed', ?)",
  );
  const reclaimStale = db.prepare(
    "UPDATE pr_history_announcements SET at_ms = ? WHERE pr_key = ? AND kind = ? AND state = 'claimed' AND at_ms < ?",
  );
  const confirm = db.prepare(
    "UPDATE pr_history_announcements SET state = 'sent', at_ms = ? WHERE pr_key = ? AND kind = ?",
  );
  let closed = false;

  /** Runs one synchronous operation; a file found corrupt mid-way is reported as such. */
  const run = <T>(operation: () => T): T => {
    if (closed) throw new Error(`The PR history on ${file} is closed.`);
    try {
      return operation();
    } catch (error) {
      if (isNotADatabase(error)) throw notAStateFile(file, error);
      throw error;
    }
  };

  return {
    async claimAnnouncement(prKey, kind, staleMs) {
      const now = Date.now();
      return run(() =>
        db
          .transaction(
            () =>
              claimNew.run(prKey, kind, now).changes === 1 ||
              reclaimStale.run(now, prKey, kind, now - staleMs).changes === 1,
          )
          .immediate(),
      );
    },

    async confirmAnnouncement(prKey, kind) {
      run(() => confirm.run(Date.now(), prKey, kind));
    },

    async append(input) {
      const e = parseHistoryEntry(input);
      run(() => insert.run(Date.parse(e.at), e.kind, e.repo, e.trace_id, e.pr_id, JSON.stringify(e)));
    },

    async list(query = {}) {
      const since = query.since === undefined ? Number.MIN_SAFE_INTEGER : query.since.getTime();
      if (Number.isNaN(since)) throw new RangeError("list(): since is an invalid Date.");
      const rows = run(
        () =>
          (query.repo === undefined ? all.all(since) : ofRepo.all(query.repo, since)) as Array<{
            id: number;
            entry: string;
          }>,
      );
      return rows.map((row) =>
        readHistoryEntry(() => JSON.parse(row.entry) as unknown, `Row ${row.id} of pr_history in ${file}`),
      );
    },

    async close() {
      if (closed) return;
      closed = true;
      if (owned) db.close();
    },
  };
}
