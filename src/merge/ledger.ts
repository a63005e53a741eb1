import { openHistory, type History, type HistoryEntryInput } from "../metrics/history.js";
import { createMetrics, type Metrics } from "../metrics/metrics.js";
import { errorText } from "../domain/errors.js";

/**
 * Where the agent writes what happened to PRs: Prometheus metrics (this process) and the history ledger in
 * the state file or the shared database (every process, for `report`). The ledger opens on first use, and a ledger that cannot be
 * written never fails a run: the caller gets a warning instead.
 */
export interface Ledger {
  metrics: Metrics;
  /** Appends an entry; resolves to a warning when the ledger could not take it. */
  append(entry: HistoryEntryInput): Promise<string | null>;
  /** Whether the history already holds a CI run or a merge of this PR (so a second watcher does not repeat it). */
  settled(kind: "ci" | "merge", repo: string, prId: string): Promise<boolean>;
  /**
   * Whether this run may announce `kind` (created, ready) for the PR: true exactly once per PR across runs
   * and processes that share the state file or database. Call `announced` after the event was handed to the sinks.
   */
  mayAnnounce(kind: AnnouncementKind, pr: PrKey): Promise<boolean>;
  announced(kind: AnnouncementKind, pr: PrKey): Promise<void>;
  close(): Promise<void>;
}

export type AnnouncementKind = "created" | "ready";

export interface PrKey {
  forge: string;
  repo: string;
  pr_id: string;
}

/** A claim older than this that was never confirmed belongs to a run that died before sending; take it over. */
const STALE_CLAIM_MS = 120_000;

/**
 * Where the history lives: the state file (its path), nowhere (null: announcements are remembered by this
 * process only), or a store opened on first use — the PostgreSQL database shared by every process.
 */
export type HistorySource = string | null | { where: string; open: () => History | Promise<History> };

const keyOf = (pr: PrKey) => `${pr.forge}\u0000${pr.repo.toLowerCase()}\u0000${pr.pr_id}`;

export function createLedger(source: HistorySource, metrics: Metrics = createMetrics()): Ledger {
  const where = source === null || typeof source === "string" ? source : source.where;
  const openStore = (): Promise<History> =>
    Promise.resolve(typeof source === "string" ? openHistory(source) : source!.open());
  let opening: Promise<History> | undefined;
  let history: History | undefined;
  const open = async (): Promise<History> => {
    opening ??= openStore().catch((error: unknown) => {
      opening = undefined;
      throw error;
    });
    return (history = await opening);
  };
  // Without a state file, announcements are remembered for this process only.
  const inProcess = new Set<string>();
  return {
    metrics,
    async mayAnnounce(kind, pr) {
      const key = keyOf(pr);
      if (where !== null) {
        try {
          return await (await open()).claimAnnouncement(key, kind, STALE_CLAIM_MS);
        } catch {
          // A ledger that cannot be read must not silence a PR: fall back to this process's memory.
        }
      }
      if (inProcess.has(`${kind}\u0000${key}`)) return false;
      inProcess.add(`${kind}\u0000${key}`);
      return true;
    },
    async announced(kind, pr) {
      if (where === null || history === undefined) return;
      try {
        await history.confirmAnnouncement(keyOf(pr), kind);
      } catch {
        // The claim stays; a later run re-announces only after STALE_CLAIM_MS, so at worst one duplicate.
      }
    },
    async append(entry) {
      if (where === null) return null;
      try {
        await (await open()).append(entry);
        return null;
      } catch (error) {
        return `The PR history in ${where} could not be written (${errorText(error)}); report will miss this ${entry.kind} entry.`;
      }
    },
    async settled(kind, repo, prId) {
      if (where === null) return false;
      try {
        const entries = await (await open()).list({ repo });
        return entries.some(
          (e) => e.kind === kind && e.pr_id === prId && (e.kind !== "merge" || e.result === "merged"),
        );
      } catch {
        return false;
      }
    },
    async close() {
      const current = opening;
      opening = undefined;
      history = undefined;
      await (await current?.catch(() => undefined))?.close();
    },
  };
}
