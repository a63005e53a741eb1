import { openHistory, type History, type HistoryEntryInput } from "../metrics/history.js";
import { createMetrics, type Metrics } from "../metrics/metrics.js";

/**
 * Where the agent writes what happened to PRs: Prometheus metrics (this process) and the history ledger in
 * the state file (every process, for `report`). The ledger opens on first use, and a ledger that cannot be
 * written never fails a run: the caller gets a warning instead.
 */
export interface Ledger {
  metrics: Metrics;
  /** Appends an entry; resolves to a warning when the ledger could not take it. */
  append(entry: HistoryEntryInput): Promise<string | null>;
  /** Whether the history already holds a CI run or a merge of this PR (so a second watcher does not repeat it). */
  settled(kind: "ci" | "merge", repo: string, prId: string): Promise<boolean>;
  close(): Promise<void>;
}

export function createLedger(stateFile: string | null, metrics: Metrics = createMetrics()): Ledger {
  let history: History | undefined;
  return {
    metrics,
    async append(entry) {
      if (stateFile === null) return null;
      try {
        history ??= openHistory(stateFile);
        await history.append(entry);
        return null;
      } catch (error) {
        return `The PR history in ${stateFile} could not be written (${error instanceof Error ? error.message : String(error)}); report will miss this ${entry.kind} entry.`;
      }
    },
    async settled(kind, repo, prId) {
      if (stateFile === null) return false;
      try {
        history ??= openHistory(stateFile);
        const entries = await history.list({ repo });
        return entries.some(
          (e) => e.kind === kind && e.pr_id === prId && (e.kind !== "merge" || e.result === "merged"),
        );
      } catch {
        return false;
      }
    },
    async close() {
      await history?.close();
      history = undefined;
    },
  };
}
