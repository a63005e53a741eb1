import type { Embedder } from "./embeddings.js";
import { recordKey, type MemoryStore, type PrRecord, type Scored } from "./store.js";

export interface RecallQuery {
  text: string;
  k: number;
  /** Empty: any repository. */
  repo: string;
  /** Empty: no preference for a scope. */
  component_scope: string;
  exclude_key?: string;
}

/**
 * Memory as the agent uses it: a store plus the embedder its vectors come from. The store is prepared on
 * first use, and a store that cannot be prepared stays unavailable for this process with the reason kept,
 * so a run degrades (recall skipped, said so) instead of failing.
 */
export interface PrMemory {
  readonly kind: MemoryStore["kind"];
  remember(record: PrRecord): Promise<void>;
  /** Earlier PRs like this text: the same scope first, then the rest of the repo, best first. */
  recall(query: RecallQuery): Promise<Scored[]>;
  /** The nearest earlier PR of the same scope to a finished PR's text (duplicate check). */
  nearest(text: string, filter: { component_scope: string; exclude_key: string }): Promise<Scored | undefined>;
  chain(traceId: string): Promise<PrRecord[]>;
  history(opts?: { since?: Date; limit?: number }): Promise<PrRecord[]>;
  close(): Promise<void>;
}

export function createPrMemory(store: MemoryStore, embedder: Embedder): PrMemory {
  let ready: Promise<void> | undefined;
  const prepared = () =>
    (ready ??= store.init(embedder.identity).catch((error: unknown) => {
      // Remember the failure for this process: every later call reports it without retrying init.
      ready = Promise.reject(error);
      ready.catch(() => undefined);
      throw error;
    }));
  const embed = (text: string) => embedder.embeddings.embedQuery(text);

  return {
    kind: store.kind,
    async remember(record) {
      await prepared();
      await store.upsert(record, await embed(`${record.title}\n${record.text}`));
    },
    async recall(q) {
      if (q.k <= 0) return [];
      await prepared();
      const vector = await embed(q.text);
      const base = {
        vector,
        ...(q.repo ? { repo: q.repo } : {}),
        ...(q.exclude_key ? { exclude_key: q.exclude_key } : {}),
      };
      const sameScope = q.component_scope
        ? await store.similar({ ...base, k: q.k, component_scope: q.component_scope })
        : [];
      if (sameScope.length >= q.k) return sameScope;
      const rest = await store.similar({ ...base, k: q.k + sameScope.length });
      const seen = new Set(sameScope.map((s) => recordKey(s.record)));
      return [...sameScope, ...rest.filter((s) => !seen.has(recordKey(s.record)))].slice(0, q.k);
    },
    async nearest(text, filter) {
      await prepared();
      const [best] = await store.similar({
        vector: await embed(text),
        k: 1,
        component_scope: filter.component_scope,
        exclude_key: filter.exclude_key,
      });
      return best;
    },
    async chain(traceId) {
      await prepared();
      return store.byTrace(traceId);
    },
    async history(opts) {
      await prepared();
      return store.history(opts);
    },
    close: () => store.close(),
  };
}
