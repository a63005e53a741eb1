/**
 * Port: long-term memory of pull requests — the audit chain trace → PR → commit → branch, and similar-PR
 * recall by vector. Three adapters: one SQLite file (embedded default), PostgreSQL (the shared database, scored
 * in-process) and Qdrant (production at scale).
 */

/** One PR as remembered. Previews are remembered too (pr_id null), so recall works before any forge is set. */
export interface PrRecord {
  repo: string;
  /** The forge's PR id, or null for a dry-run preview. */
  pr_id: string | null;
  url: string | null;
  /** "dry-run", "azure-devops" or "github". */
  forge: string;
  status: "previewed" | "created" | "updated" | "unchanged";
  trace_id: string;
  blueprint_id: string;
  component_scope: string;
  commit_hash: string;
  source_branch: string;
  target_branch: string;
  title: string;
  /** The prose that is embedded and offered as a style example: summary, purpose, highlights. */
  text: string;
  /** ISO 8601: when this PR was first remembered, and last written. */
  created_at: string;
  updated_at: string;
}

export interface SimilarQuery {
  vector: number[];
  k: number;
  repo?: string;
  component_scope?: string;
  blueprint_id?: string;
  /** Leave this record out (the PR being drafted). */
  exclude_key?: string;
}

export interface Scored {
  record: PrRecord;
  /** Cosine similarity, 1 = identical direction. */
  score: number;
}

/** The embedder a store's vectors were made with; a store refuses vectors of another. */
export interface EmbedderIdentity {
  name: string;
  version: string;
  dimensions: number;
}

/** Every field of a PrRecord, in one place for the stores' columns and payloads. */
export const PR_RECORD_FIELDS = [
  "repo",
  "pr_id",
  "url",
  "forge",
  "status",
  "trace_id",
  "blueprint_id",
  "component_scope",
  "commit_hash",
  "source_branch",
  "target_branch",
  "title",
  "text",
  "created_at",
  "updated_at",
] as const satisfies ReadonlyArray<keyof PrRecord>;

/** The record's identity: repo and PR id, or repo and branch pair for a preview. */
export function recordKey(r: Pick<PrRecord, "repo" | "pr_id" | "source_branch" | "target_branch">): string {
  return r.pr_id !== null ? `${r.repo}#${r.pr_id}` : `${r.repo}#preview:${r.source_branch}->${r.target_branch}`;
}

export interface MemoryStore {
  readonly kind: "sqlite" | "qdrant" | "postgres";
  /**
   * Prepares the store for vectors of this embedder (creates tables / the collection and indexes).
   * Throws MemoryMismatchError when the store already holds vectors of another embedder or size.
   */
  init(embedder: EmbedderIdentity): Promise<void>;
  /** Inserts or replaces the record with the same key; keeps the first `created_at`. */
  upsert(record: PrRecord, vector: number[]): Promise<void>;
  /** Every record of a trace, oldest first. */
  byTrace(traceId: string): Promise<PrRecord[]>;
  /** The k nearest records to the vector, best first, within the filters. */
  similar(query: SimilarQuery): Promise<Scored[]>;
  /** Records updated at or after `since`, newest first. */
  history(opts?: { since?: Date; limit?: number }): Promise<PrRecord[]>;
  close(): Promise<void>;
}

export class MemoryMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MemoryMismatchError";
  }
}
