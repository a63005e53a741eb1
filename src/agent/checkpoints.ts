import { SqliteSaver } from "@langchain/langgraph-checkpoint-sqlite";
import Database from "better-sqlite3";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { errorText, PrCreatorError } from "../domain/errors.js";

export interface Checkpoints {
  saver: SqliteSaver;
  close(): void;
}

/** LangGraph checkpoints in the project's state file (SQLite, WAL), so paused runs outlive the process. */
export async function openCheckpoints(file: string): Promise<Checkpoints> {
  try {
    await mkdir(path.dirname(file), { recursive: true });
    const db = new Database(file);
    db.pragma("journal_mode = WAL");
    db.pragma("busy_timeout = 5000");
    return { saver: new SqliteSaver(db), close: () => db.close() };
  } catch (error) {
    throw new PrCreatorError("invalid_config", `The state file ${file} cannot be opened (${errorText(error)}).`, {
      hint: "Point state_file in the config at a writable location.",
      cause: error,
    });
  }
}
