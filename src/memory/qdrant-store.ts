/**
 * Adapter: the MemoryStore in a Qdrant collection (production), through @qdrant/js-client-rest 1.18.
 *
 * Layout of the collection:
 * - one unnamed dense vector per point, size = the embedder's dimensions, distance Cosine (Qdrant
 *   normalizes vectors on write, so a query's `score` is the cosine similarity);
 * - point id = UUIDv5(recordKey(record), QDRANT_POINT_NAMESPACE), so writing the same PR (or the same
 *   preview branch pair) again replaces its point, from any process;
 * - payload = the PrRecord's fields, flat, plus `record_key`; keyword payload indexes on trace_id, repo,
 *   component_scope and blueprint_id (the fields filtered on);
 * - the embedder identity in the collection's metadata (Qdrant >= 1.16; every server the 1.18 client
 *   supports has it): `metadata.pr_creator = {embedder: {name, version, dimensions}, layout: 1}`. Keeping it
 *   there rather than in a reserved point means no query, scroll or count has to step around a fake record.
 *
 * Requests (what the client sends is in the Qdrant emulator's log, test/emulators/qdrant.ts):
 * - init: GET /collections/{c}/exists; PUT /collections/{c} {vectors, metadata} when missing (through
 *   client.api(): the 1.18 client's createCollection() drops `metadata`); GET /collections/{c}; PUT
 *   /collections/{c}/index?wait=true for each missing index.
 * - upsert: POST /collections/{c}/points (retrieve the existing created_at), then PUT
 *   /collections/{c}/points?wait=true.
 * - similar: POST /collections/{c}/points/query (never the deprecated /points/search, which the 1.19
 *   server spec no longer lists).
 * - byTrace / history: POST /collections/{c}/points/scroll, paging through next_page_offset; ordered
 *   here (the scroll is in id order, and order_by would need a range index and start_from paging).
 *
 * Errors: every failed request becomes a QdrantStoreError naming the operation, the collection and the URL
 * the client really talks to (the 1.18 client defaults to port 6333 when the URL has none — even for
 * https), with the server's own error text; the API key never appears (it travels only in a header, and
 * is scrubbed from messages in case a proxy echoes it).
 *
 * Concurrency: upsert reads created_at then writes, so two processes writing the same record at the same
 * moment may both keep their own created_at; the last write wins, as it does for the other fields.
 */
import { QdrantClient, QdrantClientTimeoutError, type Schemas } from "@qdrant/js-client-rest";
import { v5 as uuidv5 } from "uuid";
import {
  MemoryMismatchError,
  recordKey,
  type EmbedderIdentity,
  type MemoryStore,
  type PrRecord,
  type Scored,
  type SimilarQuery,
  PR_RECORD_FIELDS,
} from "./store.js";

export interface QdrantStoreOptions {
  /** e.g. "http://localhost:6333". Without an explicit port the client uses 6333, also for https. */
  url: string;
  apiKey?: string;
  collection: string;
  /** Per-request timeout; default 15 s. */
  timeoutMs?: number;
}

/**
 * Namespace of the point ids: id = UUIDv5(recordKey(record), this). It is fixed forever — changing it
 * would orphan every point already stored (a new write would no longer replace the old one).
 */
export const QDRANT_POINT_NAMESPACE = "96dc3aa1-39b3-4d4c-8599-956d2f8b7f75";

/** The key of this store's entry in the collection metadata. */
export const QDRANT_METADATA_KEY = "pr_creator";
const LAYOUT_VERSION = 1;

/** Payload fields filtered on, each with a keyword index. */
export const QDRANT_INDEXED_FIELDS = ["trace_id", "repo", "component_scope", "blueprint_id"] as const;

const DEFAULT_TIMEOUT_MS = 15_000;
const SCROLL_PAGE = 256;
const QDRANT_DEFAULT_PORT = 6333;

/** The point id of a record key. */
export function qdrantPointId(key: string): string {
  return uuidv5(key, QDRANT_POINT_NAMESPACE);
}

/** A request to Qdrant that failed: what the store was doing, where, and what came back. */
export class QdrantStoreError extends Error {
  constructor(
    message: string,
    readonly operation: string,
    readonly url: string,
    /** The HTTP status Qdrant answered, when it answered. */
    readonly status: number | undefined,
    cause: unknown,
  ) {
    super(message, { cause });
    this.name = "QdrantStoreError";
  }
}

export function createQdrantStore(opts: QdrantStoreOptions): MemoryStore {
  return new QdrantMemoryStore(opts);
}

const RECORD_FIELDS = PR_RECORD_FIELDS;
const NULLABLE_FIELDS: ReadonlySet<string> = new Set(["pr_id", "url"]);
const STATUSES: ReadonlySet<string> = new Set(["previewed", "created", "updated", "unchanged"]);

type Filter = Schemas["Filter"];
type Condition = Schemas["Condition"];
type Payload = Record<string, unknown>;

function describeEmbedder(e: EmbedderIdentity): string {
  return `"${e.name}" version ${e.version} (${e.dimensions} dimensions)`;
}

const match = (key: string, value: string): Condition => ({ key, match: { value } });

class QdrantMemoryStore implements MemoryStore {
  readonly kind = "qdrant" as const;
  private readonly client: QdrantClient;
  private readonly collection: string;
  /** The URL the client really uses, without credentials: for messages. */
  private readonly where: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;
  private embedder: EmbedderIdentity | undefined;
  private closed = false;

  constructor(opts: QdrantStoreOptions) {
    if (!opts.collection) throw new Error("Qdrant memory: the collection name is empty.");
    this.collection = opts.collection;
    this.apiKey = opts.apiKey;
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.where = effectiveUrl(opts.url);
    this.client = new QdrantClient({
      url: opts.url,
      apiKey: opts.apiKey,
      timeout: this.timeoutMs,
      // The compatibility check is a GET / fired from the constructor and never awaited: a mismatch or an
      // unreachable server only console.warns (it never throws), and the stray request races our first
      // call. Our own requests report an unreachable or failing server properly, so it is off.
      checkCompatibility: false,
    });
  }

  async init(embedder: EmbedderIdentity): Promise<void> {
    this.open();
    if (!Number.isInteger(embedder.dimensions) || embedder.dimensions <= 0) {
      throw new Error(`Embedder ${describeEmbedder(embedder)}: dimensions must be a positive integer.`);
    }
    const identity = {
      embedder: { name: embedder.name, version: embedder.version, dimensions: embedder.dimensions },
      layout: LAYOUT_VERSION,
    };
    const { exists } = await this.call("check whether the collection exists", () =>
      this.client.collectionExists(this.collection),
    );
    let created = false;
    if (!exists) {
      try {
        // client.api(), not client.createCollection(): the 1.18 wrapper does not pass `metadata` on.
        await this.call("create the collection", () =>
          this.client.api().createCollection({
            collection_name: this.collection,
            vectors: { size: embedder.dimensions, distance: "Cosine" },
            metadata: { [QDRANT_METADATA_KEY]: identity },
          }),
        );
        created = true;
      } catch (error) {
        // 409: another process created it meanwhile; check that one like any existing collection.
        if (!(error instanceof QdrantStoreError && error.status === 409)) throw error;
      }
    }
    let info = await this.call("read the collection", () => this.client.getCollection(this.collection));
    this.checkVectors(info, embedder);
    let stored = storedIdentity(info);
    if (stored === undefined && !created) {
      const points = info.points_count ?? 0;
      if (points > 0) {
        throw new MemoryMismatchError(
          `The Qdrant collection "${this.collection}" at ${this.where} holds ${points} points but records no embedder, so it was not made by pr-creator; ` +
            `this run uses ${describeEmbedder(embedder)}. Point memory.qdrant.collection at another collection.`,
        );
      }
      // An empty collection made by hand (or by an init that failed half-way): claim it.
      await this.call("record the embedder in the collection metadata", () =>
        this.client.updateCollection(this.collection, { metadata: { [QDRANT_METADATA_KEY]: identity } }),
      );
      info = await this.call("read the collection", () => this.client.getCollection(this.collection));
      stored = storedIdentity(info);
    }
    if (stored === undefined) {
      throw new QdrantStoreError(
        `Qdrant memory: the server at ${this.where} did not keep the metadata of collection "${this.collection}"; ` +
          `pr-creator records its embedder there, which needs Qdrant 1.16 or later.`,
        "record the embedder in the collection metadata",
        this.where,
        undefined,
        undefined,
      );
    }
    if (
      stored.name !== embedder.name ||
      stored.version !== embedder.version ||
      stored.dimensions !== embedder.dimensions
    ) {
      throw new MemoryMismatchError(
        `The Qdrant collection "${this.collection}" at ${this.where} holds vectors of embedder ${describeEmbedder(stored)}, ` +
          `but this run uses ${describeEmbedder(embedder)}; vectors of different embedders cannot be compared. ` +
          `Use the same embedder as before (${stored.name} ${stored.version}), or point memory.qdrant.collection at a new collection.`,
      );
    }
    const schema = info.payload_schema;
    for (const field of QDRANT_INDEXED_FIELDS) {
      if (schema[field]?.data_type === "keyword") continue;
      await this.call(`create the keyword index on ${field}`, () =>
        this.client.createPayloadIndex(this.collection, { field_name: field, field_schema: "keyword", wait: true }),
      );
    }
    this.embedder = { ...embedder };
  }

  async upsert(record: PrRecord, vector: number[]): Promise<void> {
    const embedder = this.initialised();
    const key = recordKey(record);
    checkVector(vector, embedder, `the vector of ${key}`);
    checkDate(record.created_at, "created_at", key);
    checkDate(record.updated_at, "updated_at", key);
    const id = qdrantPointId(key);
    const existing = await this.call(`read the stored record ${key}`, () =>
      this.client.retrieve(this.collection, { ids: [id], with_payload: ["created_at"], with_vector: false }),
    );
    const first = existing[0]?.payload?.created_at;
    const payload: Payload = {
      ...pick(record),
      created_at: typeof first === "string" ? first : record.created_at,
      record_key: key,
    };
    await this.call(`write the record ${key}`, () =>
      this.client.upsert(this.collection, { wait: true, points: [{ id, vector, payload }] }),
    );
  }

  async byTrace(traceId: string): Promise<PrRecord[]> {
    this.initialised();
    const records = await this.scrollAll(`list the records of trace ${traceId}`, {
      must: [match("trace_id", traceId)],
    });
    return records.sort(
      (a, b) =>
        compareTime(a.created_at, b.created_at) ||
        compareTime(a.updated_at, b.updated_at) ||
        compareText(recordKey(a), recordKey(b)),
    );
  }

  async similar(query: SimilarQuery): Promise<Scored[]> {
    const embedder = this.initialised();
    if (!Number.isInteger(query.k) || query.k < 0)
      throw new Error(`similar(): k must be a non-negative integer, got ${query.k}.`);
    checkVector(query.vector, embedder, "the query vector");
    if (query.k === 0) return [];
    const must: Condition[] = [];
    if (query.repo !== undefined) must.push(match("repo", query.repo));
    if (query.component_scope !== undefined) must.push(match("component_scope", query.component_scope));
    if (query.blueprint_id !== undefined) must.push(match("blueprint_id", query.blueprint_id));
    const filter: Filter = {};
    if (must.length > 0) filter.must = must;
    if (query.exclude_key !== undefined) filter.must_not = [{ has_id: [qdrantPointId(query.exclude_key)] }];
    const result = await this.call("find similar records", () =>
      this.client.query(this.collection, {
        query: query.vector,
        ...(must.length > 0 || query.exclude_key !== undefined ? { filter } : {}),
        limit: query.k,
        with_payload: true,
      }),
    );
    return result.points.map((p) => ({ record: this.toRecord(p.id, p.payload), score: p.score }));
  }

  async history(opts: { since?: Date; limit?: number } = {}): Promise<PrRecord[]> {
    this.initialised();
    const since = opts.since?.getTime();
    if (since !== undefined && Number.isNaN(since)) throw new Error("history(): since is an invalid Date.");
    if (opts.limit !== undefined && (!Number.isInteger(opts.limit) || opts.limit < 0)) {
      throw new Error(`history(): limit must be a non-negative integer, got ${opts.limit}.`);
    }
    if (opts.limit === 0) return [];
    const records = await this.scrollAll("list the history", undefined);
    return records
      .filter((r) => since === undefined || Date.parse(r.updated_at) >= since)
      .sort((a, b) => compareTime(b.updated_at, a.updated_at) || compareText(recordKey(b), recordKey(a)))
      .slice(0, opts.limit ?? Number.POSITIVE_INFINITY);
  }

  async close(): Promise<void> {
    // The 1.18 client has nothing to close: its undici Agent's idle keep-alive sockets do not hold the
    // process open and time out by themselves.
    this.closed = true;
    this.embedder = undefined;
  }

  /** Every record matching the filter, paging through next_page_offset. */
  private async scrollAll(operation: string, filter: Filter | undefined): Promise<PrRecord[]> {
    const out: PrRecord[] = [];
    const seen = new Set<string>();
    let offset: string | number | undefined;
    for (;;) {
      const page = await this.call(operation, () =>
        this.client.scroll(this.collection, {
          ...(filter ? { filter } : {}),
          limit: SCROLL_PAGE,
          ...(offset !== undefined ? { offset } : {}),
          with_payload: true,
          with_vector: false,
        }),
      );
      for (const p of page.points) out.push(this.toRecord(p.id, p.payload));
      const next = page.next_page_offset;
      if (typeof next !== "string" && typeof next !== "number") return out;
      // A server that hands back an offset it already gave would loop forever.
      if (seen.has(String(next)))
        throw new Error(
          `Qdrant memory: ${operation} at ${this.where}: the scroll returned the offset ${String(next)} twice.`,
        );
      seen.add(String(next));
      offset = next;
    }
  }

  private toRecord(id: unknown, payload: Payload | null | undefined): PrRecord {
    const problem = (what: string) =>
      new Error(
        `Qdrant memory: point ${String(id)} of collection "${this.collection}" at ${this.where} is not a pr-creator record (${what}).`,
      );
    if (!payload) throw problem("no payload");
    const out: Record<string, unknown> = {};
    for (const field of RECORD_FIELDS) {
      const value = payload[field];
      if (typeof value === "string" || (value === null && NULLABLE_FIELDS.has(field))) out[field] = value;
      else throw problem(`${field} is ${value === undefined ? "missing" : JSON.stringify(value)}`);
    }
    if (!STATUSES.has(out.status as string)) throw problem(`status is ${JSON.stringify(out.status)}`);
    return out as unknown as PrRecord;
  }

  private checkVectors(info: Schemas["CollectionInfo"], embedder: EmbedderIdentity): void {
    const vectors = info.config.params.vectors as Record<string, unknown> | undefined;
    const size = vectors?.size;
    const stored = storedIdentity(info);
    const made = stored ? ` (made for embedder ${describeEmbedder(stored)})` : "";
    if (typeof size !== "number") {
      throw new MemoryMismatchError(
        `The Qdrant collection "${this.collection}" at ${this.where}${made} has named vectors (${Object.keys(vectors ?? {}).join(", ") || "none"}); ` +
          `pr-creator needs one unnamed vector for embedder ${describeEmbedder(embedder)}. Point memory.qdrant.collection at another collection.`,
      );
    }
    if (size !== embedder.dimensions) {
      throw new MemoryMismatchError(
        `The Qdrant collection "${this.collection}" at ${this.where}${made} holds ${size}-dimensional vectors, ` +
          `but this run uses embedder ${describeEmbedder(embedder)}; vectors of different embedders cannot be compared. ` +
          `Use the same embedder as before${stored ? ` (${stored.name} ${stored.version})` : ""}, or point memory.qdrant.collection at a new collection.`,
      );
    }
    if (vectors?.distance !== "Cosine") {
      throw new MemoryMismatchError(
        `The Qdrant collection "${this.collection}" at ${this.where}${made} compares vectors by ${String(vectors?.distance)}, ` +
          `but pr-creator's scores are cosine similarities (embedder ${describeEmbedder(embedder)}). Point memory.qdrant.collection at another collection.`,
      );
    }
  }

  /** Runs one client call; any failure becomes a QdrantStoreError saying what failed and where. */
  private async call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    this.open();
    try {
      return await fn();
    } catch (error) {
      throw this.wrap(operation, error);
    }
  }

  private wrap(operation: string, error: unknown): QdrantStoreError {
    const status = statusOf(error);
    let detail: string;
    if (status !== undefined) {
      const e = error as { statusText?: string; data?: unknown };
      const body = e.data as { status?: { error?: unknown } } | string | undefined;
      const text =
        typeof body === "object" && body !== null && typeof body.status?.error === "string"
          ? body.status.error
          : typeof body === "string"
            ? body
            : body === undefined
              ? ""
              : JSON.stringify(body);
      detail = `Qdrant answered ${status}${e.statusText ? ` ${e.statusText}` : ""}${text ? `: ${truncate(text, 300)}` : ""}`;
    } else if (error instanceof QdrantClientTimeoutError) {
      detail = `no answer within ${this.timeoutMs} ms`;
    } else if (error instanceof Error) {
      const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
      const code = typeof cause?.code === "string" ? cause.code : undefined;
      const causeMessage = typeof cause?.message === "string" ? cause.message : undefined;
      detail = [error.message, code, causeMessage].filter((x) => x !== undefined && x !== "").join(": ");
      if (code === "ECONNREFUSED") detail += " (is Qdrant running there?)";
    } else {
      detail = String(error);
    }
    const message = `Qdrant memory: could not ${operation} in collection "${this.collection}" at ${this.where}: ${detail}`;
    return new QdrantStoreError(this.scrub(message), operation, this.where, status, error);
  }

  private scrub(text: string): string {
    return this.apiKey ? text.split(this.apiKey).join("***") : text;
  }

  private open(): void {
    if (this.closed)
      throw new Error(`The Qdrant memory store (collection "${this.collection}" at ${this.where}) is closed.`);
  }

  private initialised(): EmbedderIdentity {
    this.open();
    if (this.embedder === undefined) {
      throw new Error(
        `The Qdrant memory store (collection "${this.collection}" at ${this.where}) is not initialised: call init(embedder) first.`,
      );
    }
    return this.embedder;
  }
}

/** The HTTP status of a failed client call: the client rethrows the fetcher's ApiError for non-2xx answers. */
function statusOf(error: unknown): number | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  return typeof status === "number" && "data" in error ? status : undefined;
}

function storedIdentity(info: Schemas["CollectionInfo"]): EmbedderIdentity | undefined {
  const metadata = info.config.metadata as Record<string, unknown> | null | undefined;
  const entry = metadata?.[QDRANT_METADATA_KEY] as { embedder?: Partial<EmbedderIdentity> } | undefined;
  const e = entry?.embedder;
  if (!e || typeof e.name !== "string" || typeof e.version !== "string" || typeof e.dimensions !== "number")
    return undefined;
  return { name: e.name, version: e.version, dimensions: e.dimensions };
}

/** The URL the 1.18 client connects to (it uses 6333 when the URL names no port), without credentials. */
function effectiveUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(
      `Qdrant memory: ${JSON.stringify(url.replace(/\/\/[^/@]*@/, "//***@"))} is not a URL (expected e.g. http://localhost:6333).`,
    );
  }
  const port = parsed.port || String(QDRANT_DEFAULT_PORT);
  const path = parsed.pathname === "/" ? "" : parsed.pathname.replace(/\/$/, "");
  return `${parsed.protocol}//${parsed.hostname.includes(":") ? `[${parsed.hostname}]` : parsed.hostname}:${port}${path}`;
}

function pick(record: PrRecord): Payload {
  return Object.fromEntries(RECORD_FIELDS.map((f) => [f, record[f]]));
}

function checkVector(vector: number[], embedder: EmbedderIdentity, what: string): void {
  if (vector.length !== embedder.dimensions) {
    throw new Error(
      `${what} has ${vector.length} dimensions; expected ${embedder.dimensions} (embedder ${embedder.name} ${embedder.version}).`,
    );
  }
  let zero = true;
  for (const x of vector) {
    if (typeof x !== "number" || !Number.isFinite(x))
      throw new Error(`${what} contains ${String(x)}; every component must be a finite number.`);
    if (x !== 0) zero = false;
  }
  if (zero) throw new Error(`${what} is all zeros; cosine similarity is undefined for it.`);
}

function checkDate(value: string, field: string, key: string): void {
  if (!Number.isFinite(Date.parse(value)))
    throw new Error(`Memory record ${key}: ${field} ${JSON.stringify(value)} is not an ISO 8601 date.`);
}

function compareTime(a: string, b: string): number {
  return Date.parse(a) - Date.parse(b) || compareText(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}
