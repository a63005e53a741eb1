/**
 * Keeps the single-machine server's run registry (runs-store.ts) from growing forever, with the semantics the
 * workers' sweeper has in PostgreSQL (src/workers/sweeper.ts): runs that finished (done or failed) more than
 * `server.keep_finished_runs_days` ago are deleted at start and then every `everyMs`; queued, running and
 * awaiting_approval runs never are; 0 keeps every run. better-sqlite3 is synchronous, so a round deletes one
 * batch per event-loop turn until a batch comes back short: a large backlog (the first start after an upgrade)
 * never holds up the requests for longer than one batch.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import type { RunStore } from "./runs-store.js";

const DAY_MS = 86_400_000;

export interface RunPrunerOptions {
  store: Pick<RunStore, "pruneFinished">;
  /** server.keep_finished_runs_days; 0 keeps every run (nothing is scheduled). */
  keepDays: number;
  /** The server's clock: a run is old when it finished more than keepDays before now(). */
  now: () => Date;
  /** How long after a round ends the next one starts; default 60 s. */
  everyMs?: number;
  /** Runs deleted per event-loop turn; default 1,000. */
  batchSize?: number;
  /** A round deleted runs (all its batches together); not called for a round that deleted none. */
  onPruned: (deleted: number) => void;
  /** A batch failed (the state file is locked or unwritable); the round ends and the next one tries again. */
  onError: (error: unknown) => void;
}

export interface RunPruner {
  /** Stops scheduling rounds and waits for the current one to stop between batches; the store may then be closed. */
  stop(): Promise<void>;
}

/** Starts pruning at once (the first round runs on the next turn) and then every `everyMs`; the timer is unref'd. */
export function startRunPruner(options: RunPrunerOptions): RunPruner {
  if (options.keepDays <= 0) return { stop: async () => undefined };
  const everyMs = options.everyMs ?? 60_000;
  const batchSize = options.batchSize ?? 1000;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  const round = async (): Promise<void> => {
    // One cutoff per round: runs finishing during the round are far newer than it anyway.
    const before = new Date(options.now().getTime() - options.keepDays * DAY_MS).toISOString();
    let deleted = 0;
    try {
      for (;;) {
        await nextTurn();
        if (stopped) break;
        const n = options.store.pruneFinished(before, batchSize);
        deleted += n;
        if (n < batchSize) break;
      }
    } catch (error) {
      options.onError(error);
    }
    if (deleted > 0) options.onPruned(deleted);
  };

  let current = round();
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      current = round().then(schedule);
    }, everyMs);
    // Pruning alone never keeps the process alive.
    timer.unref();
  };
  current = current.then(schedule);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current;
    },
  };
}
