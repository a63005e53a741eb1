/**
 * What every table in the shared SQLite state file (memory, PR history, event outbox, server runs) does the
 * same way: versioned migrations per table, and the same errors for a file that is not a state file or
 * cannot be opened. Each owner passes its table name and what it uses the file for.
 */
import type Database from "better-sqlite3";
import { constants } from "node:fs";
import { access, stat } from "node:fs/promises";
import path from "node:path";
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

const errno = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

/** Why a state file that does not exist yet could not be created, or null when its nearest existing folder allows it. */
async function creationProblem(file: string): Promise<string | null> {
  for (let dir = path.dirname(file); ; dir = path.dirname(dir)) {
    const info = await stat(dir).catch((error: unknown) => errno(error));
    if (info === "ENOENT" || info === "ENOTDIR") {
      if (path.dirname(dir) === dir) return null;
      continue;
    }
    if (typeof info === "string") return `cannot be created: its folder ${dir} cannot be read (${info})`;
    if (!info.isDirectory()) return `cannot be created: ${dir} is a file, not a folder`;
    const denied = await access(dir, constants.W_OK).then(
      () => null,
      (error: unknown) => errno(error),
    );
    return denied ? `cannot be created: the folder ${dir} is not writable (${denied})` : null;
  }
}

/**
 * Refuses, as invalid_config, a state file path that can never work — a directory, a device, a file that
 * cannot be read and written, or one whose folder is a file — before any command opens it. A file that
 * exists but is not a database is left to the stores, which say so (a run then carries on without memory).
 */
export async function checkStateFilePath(file: string): Promise<void> {
  const info = await stat(file).catch((error: unknown) => errno(error));
  let why: string | null;
  if (info === "ENOENT" || info === "ENOTDIR") why = await creationProblem(file);
  else if (typeof info === "string") why = `cannot be read (${info})`;
  else if (info.isDirectory()) why = "is a directory";
  else if (!info.isFile()) why = "is not a regular file";
  else {
    const denied = await access(file, constants.R_OK | constants.W_OK).then(
      () => null,
      (error: unknown) => errno(error),
    );
    why = denied ? `cannot be read and written (${denied})` : null;
  }
  if (why) {
    throw new PrCreatorError("invalid_config", `The state file ${file} ${why}.`, {
      hint: "Point state_file in the config at a file in a writable folder; it is created when missing.",
    });
  }
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
