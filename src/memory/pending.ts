import { appendFile, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { PrMemory } from "./pr-memory.js";
import type { PrRecord } from "./store.js";

/**
 * Records that could not be written to memory wait in a JSON-lines file beside the state file and are
 * retried on the next run, so a locked or unreachable store never loses a PR record.
 */
export function createPendingRecords(file: string) {
  return {
    file,
    async add(record: PrRecord): Promise<void> {
      await mkdir(path.dirname(file), { recursive: true });
      await appendFile(file, `${JSON.stringify(record)}\n`, "utf8");
    },
    /** Writes every waiting record it can; keeps the rest. Returns how many were written and how many wait. */
    async flush(memory: PrMemory): Promise<{ written: number; waiting: number }> {
      const text = await readFile(file, "utf8").catch((error: NodeJS.ErrnoException) =>
        error.code === "ENOENT" ? "" : Promise.reject(error),
      );
      const records = text
        .split("\n")
        .filter((l) => l.trim())
        .flatMap((l) => {
          try {
            return [JSON.parse(l) as PrRecord];
          } catch {
            return [];
          }
        });
      if (records.length === 0) return { written: 0, waiting: 0 };
      const left: PrRecord[] = [];
      for (const record of records) {
        try {
          await memory.remember(record);
        } catch {
          left.push(record);
        }
      }
      const tmp = `${file}.tmp`;
      await writeFile(tmp, left.map((r) => `${JSON.stringify(r)}\n`).join(""), "utf8");
      await rename(tmp, file);
      return { written: records.length - left.length, waiting: left.length };
    },
  };
}

export type PendingRecords = ReturnType<typeof createPendingRecords>;
