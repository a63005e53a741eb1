/**
 * What every table in the shared SQLite state file (memory, PR history, event outbox, server runs) does the
 * same way: versioned migrations per table, and the same errors for a file that is not a state file or
 * cannot be opened. Each owner passes its table name and what it uses the file for.
 */
import type Database from "better-sqlite3";
import { PrCreatorError } from "../domain/errors.js";

export interface Migration {
  version: number;
  sql: string;
}

function detail(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** SQLite says the file is not a database, or a corrupt one. */
export function isNotADatabase(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" && (code.startsWith("SQLITE_NOTADB") || code.startsWith("SQLITE_CORRUPT"));
}

export function notAStateFile(file: string, error: unknown): PrCreatorError {
  return new PrCreatorError(
    "invalid_config",
    `The file ${file} is not a valid state file (${detail(error)}); move it aside or point state_file elsewhere.`,
    { cause: error },
  );
}

/** Why the state file could not be opened for `purpose` ("memory", "the PR history", …), as an invalid_config error. */
export function stateFileError(file: string, error: unknown, purpose: string): PrCreatorError {
  if (error instanceof PrCreatorError) return error;
  if (isNotADatabase(error)) return notAStateFile(file, error);
  return new PrCreatorError(
    "invalid_config",
    `The state file ${file} cannot be opened for ${purpose} (${detail(error)}).`,
    {
      hint: "Point state_file in the config at a writable location.",
      cause: error,
    },
  );
}

/**
 * Applies the migrations `table` has not seen, recording each in `<table>_schema_version` (not PRAGMA
 * user_version, which belongs to the whole file). A file from a newer pr-creator is refused.
 */
export function migrateTable(
  db: Database.Database,
  file: string,
  table: string,
  what: string,
  migrations: readonly Migration[],
): void {
  const latest = migrations[migrations.length - 1]!.version;
  const versions = `${table}_schema_version`;
  db.transaction(() => {
    db.exec(`CREATE TABLE IF NOT EXISTS ${versions} (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`);
    const current = Number(db.prepare(`SELECT coalesce(max(version), 0) FROM ${versions}`).pluck().get());
    if (current > latest) {
      throw new PrCreatorError(
        "invalid_config",
        `${what} in the state file ${file} has schema version ${current}, newer than this pr-creator knows (${latest}).`,
        {
          hint: "Upgrade pr-creator, or point state_file elsewhere.",
        },
      );
    }
    const record = db.prepare(`INSERT INTO ${versions} (version, applied_at) VALUES (?, ?)`);
    for (const migration of migrations) {
      if (migration.version <= current) continue;
      db.exec(migration.sql);
      record.run(migration.version, new Date().toISOString());
    }
  }).immediate();
}
