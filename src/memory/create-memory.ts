import path from "node:path";
import { PrCreatorError } from "../domain/errors.js";
import type { Policy } from "../domain/policy.js";
import type { Database } from "../postgres/database.js";
import { createEmbedder } from "./embeddings.js";
import { createPendingRecords, type PendingRecords } from "./pending.js";
import { createPrMemory, type PrMemory } from "./pr-memory.js";
import { createPostgresStore } from "./postgres-store.js";
import { createSqliteStore } from "./sqlite-store.js";
import type { MemoryStore } from "./store.js";

type Env = Readonly<Record<string, string | undefined>>;

/**
 * A store opened on first use: a state file that is corrupt or locked, or a Qdrant that is down, then fails
 * inside the run — which degrades and says so — instead of at start-up.
 */
function lazy(kind: MemoryStore["kind"], open: () => Promise<MemoryStore>): MemoryStore {
  let store: Promise<MemoryStore> | undefined;
  // A failed open is not kept: the next call tries again (a locked state file may be free by then).
  const get = () =>
    (store ??= open().catch((error: unknown) => {
      store = undefined;
      throw error;
    }));
  return {
    kind,
    init: async (embedder) => (await get()).init(embedder),
    upsert: async (record, vector) => (await get()).upsert(record, vector),
    byTrace: async (traceId) => (await get()).byTrace(traceId),
    similar: async (query) => (await get()).similar(query),
    history: async (opts) => (await get()).history(opts),
    close: async () => {
      await (await store?.catch(() => undefined))?.close();
    },
  };
}

export interface MemorySetup {
  memory: PrMemory;
  pending: PendingRecords;
  /** For people: "sqlite .pr-creator/state.db", "qdrant http://…/pr_creator_prs". */
  description: string;
}

/**
 * Memory from policy and environment, or null with `memory.store: none`. With a shared `database` (see
 * openSharedState), `memory.store: sqlite` — the default, "the shared state" — means Qdrant when QDRANT_URL is
 * set, else the database's own table; without one it means the state file, as always.
 */
export function createMemory(
  policy: Policy,
  stateFile: string,
  env: Env = process.env,
  database: Database | null = null,
): MemorySetup | null {
  const cfg = policy.memory;
  if (cfg.store === "none") return null;
  const embedder = createEmbedder(policy, env);
  const pending = createPendingRecords(path.join(path.dirname(stateFile), "memory-pending.jsonl"));
  if (cfg.store === "sqlite" && database !== null && !env.QDRANT_URL?.trim()) {
    return {
      memory: createPrMemory(
        lazy("postgres", async () => createPostgresStore(database)),
        embedder,
      ),
      pending,
      description: `postgres ${database.url}`,
    };
  }
  if (cfg.store === "sqlite" && database === null) {
    return {
      memory: createPrMemory(
        lazy("sqlite", async () => createSqliteStore(stateFile)),
        embedder,
      ),
      pending,
      description: `sqlite ${stateFile}`,
    };
  }
  const url = env.QDRANT_URL?.trim() || cfg.qdrant.url;
  if (!url) {
    throw new PrCreatorError(
      "invalid_config",
      "memory.store is qdrant but neither QDRANT_URL nor memory.qdrant.url is set.",
      {
        hint: "Set QDRANT_URL (and QDRANT_API_KEY if the server needs one), or use memory.store: sqlite.",
      },
    );
  }
  const apiKey = env.QDRANT_API_KEY?.trim() || undefined;
  // The Qdrant client (and undici under it) loads only with this store.
  const store = lazy("qdrant", async () =>
    (await import("./qdrant-store.js")).createQdrantStore({
      url,
      collection: cfg.qdrant.collection,
      ...(apiKey ? { apiKey } : {}),
      timeoutMs: policy.forge_timeout_ms,
    }),
  );
  return { memory: createPrMemory(store, embedder), pending, description: `qdrant ${url}/${cfg.qdrant.collection}` };
}
