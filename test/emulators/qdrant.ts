/**
 * A loopback emulator of Qdrant's REST API, for driving the UNMODIFIED @qdrant/js-client-rest in tests:
 *
 *   const emu = await startQdrantEmulator({ apiKey: "k" });
 *   const client = new QdrantClient({ url: emu.url, apiKey: "k", checkCompatibility: false });
 *
 * Implemented (operation ids of test/specs/qdrant-openapi.json):
 *   GET  /                                  root                VersionInfo (not wrapped in `result`)
 *   GET  /collections/{c}/exists            collection_exists   {exists}
 *   GET  /collections/{c}                   get_collection      CollectionInfo (config.params.vectors {size, distance}, config.metadata)
 *   PUT  /collections/{c}                   create_collection   one unnamed dense vector; 409 when it exists
 *   PATCH /collections/{c}                  update_collection   metadata only (merged; a null value removes a key)
 *   DELETE /collections/{c}                 delete_collection
 *   PUT  /collections/{c}/index             create_field_index  recorded in payload_schema
 *   PUT  /collections/{c}/points            upsert_points       PointsList or PointsBatch; wrong dimension → 400
 *   POST /collections/{c}/points            get_points          (the client's retrieve)
 *   POST /collections/{c}/points/query      query_points        nearest by vector / {nearest} / point id, brute force
 *   POST /collections/{c}/points/scroll     scroll_points       by id with next_page_offset, or order_by (needs a range index)
 *   POST /collections/{c}/points/delete     delete_points       by ids or filter
 * Filters: see qdrant-model.ts. Anything else in the spec → 400 "Not implemented by the Qdrant emulator";
 * a path the spec does not have (e.g. the deprecated /points/search, gone from the 1.19 spec) → 404 with an
 * empty body, as actix answers unknown routes.
 *
 * Every exchange is checked against the specification and logged in `requests`: the request's query string
 * and body (strictly — undeclared properties count as violations, see qdrant-openapi.ts), answered with
 * 400 naming the violation; and the emulator's own response, whose problems land in `responseViolations`
 * (a test should assert there are none: they would be emulator bugs).
 *
 * Responses: `{result, status: "ok", time}`; errors `{status: {error}, time}` — 404 "Not found: Collection
 * `x` doesn't exist!", 400 "Wrong input: Vector dimension error: expected dim: 4, got 3", 409 "Wrong input:
 * Collection `x` already exists!". With `apiKey`, requests need `api-key: <key>` (or `Authorization: Bearer
 * <key>`), else 403. `version` (default "1.18.0") is what GET / reports; below 1.16 collection metadata is
 * dropped, as such servers do not know it.
 *
 * Faults: `inject(route, fault, times = 1)` — `{status, body?}` answers that instead, `{reset: true}`
 * destroys the socket, `{delayMs}` delays the normal answer. Faults are consumed in injection order.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  NotImplementedByEmulator,
  QdrantApiError,
  higherIsBetter,
  idKey,
  indexedPoints,
  matchesFilter,
  newCollection,
  normalizeId,
  prepareVector,
  score,
  selectPayload,
  selectVector,
  sortedPoints,
  valuesAt,
  type Distance,
  type EmulatedCollection,
  type EmulatedPoint,
} from "./qdrant-model.js";
import {
  matchOperation,
  qdrantSpec,
  requestBodySchema,
  responseSchema,
  validateQuery,
  validateSchema,
  type MatchedOperation,
} from "./qdrant-openapi.js";

export type { EmulatedCollection, EmulatedPoint, PointId, Distance } from "./qdrant-model.js";

export type QdrantRoute =
  | "root"
  | "exists"
  | "getCollection"
  | "createCollection"
  | "updateCollection"
  | "deleteCollection"
  | "createIndex"
  | "upsert"
  | "retrieve"
  | "query"
  | "scroll"
  | "delete"
  /** An operation of the spec the emulator does not implement, or a path the spec does not have. */
  | "other";

const ROUTES: Record<string, QdrantRoute> = {
  root: "root",
  collection_exists: "exists",
  get_collection: "getCollection",
  create_collection: "createCollection",
  update_collection: "updateCollection",
  delete_collection: "deleteCollection",
  create_field_index: "createIndex",
  upsert_points: "upsert",
  get_points: "retrieve",
  query_points: "query",
  scroll_points: "scroll",
  delete_points: "delete",
};

export type QdrantFault = { status: number; body?: unknown } | { reset: true } | { delayMs: number };

export interface QdrantRequestLog {
  method: string;
  path: string;
  query: Record<string, string>;
  route: QdrantRoute;
  /** The spec's operationId, null for a path the spec does not have. */
  operationId: string | null;
  /** The api-key header as received (the emulator is test-only). */
  apiKey: string | undefined;
  userAgent: string | undefined;
  /** The parsed JSON body (undefined when none was sent). */
  body: unknown;
  /** The status answered; null when the connection was reset. */
  status: number | null;
  response: unknown;
  /** How the request violates the spec (empty = valid). */
  violations: string[];
  /** How the emulator's response violates the spec (should always be empty). */
  responseViolations: string[];
  fault?: QdrantFault;
}

export interface QdrantEmulatorOptions {
  apiKey?: string;
  /** The server version GET / reports; default "1.18.0". */
  version?: string;
}

export interface QdrantEmulator {
  url: string;
  version: string;
  collections: Map<string, EmulatedCollection>;
  requests: QdrantRequestLog[];
  inject(route: QdrantRoute | "*", fault: QdrantFault, times?: number): void;
  /** Seeds a collection directly, bypassing the API (e.g. one made by another tool). */
  createCollection(
    name: string,
    opts: { size: number; distance?: Distance; metadata?: Record<string, unknown> | null },
  ): EmulatedCollection;
  /** Every spec problem seen so far, requests and responses, as "METHOD path: problem". */
  violations(): string[];
  close(): Promise<void>;
}

interface Reply {
  status: number;
  body: unknown;
}

const SPEC = qdrantSpec();

const versionAtLeast = (version: string, major: number, minor: number): boolean => {
  const [ma = 0, mi = 0] = version.split(".").map((x) => Number.parseInt(x, 10));
  return ma > major || (ma === major && mi >= minor);
};

export async function startQdrantEmulator(opts: QdrantEmulatorOptions = {}): Promise<QdrantEmulator> {
  const version = opts.version ?? "1.18.0";
  const supportsMetadata = versionAtLeast(version, 1, 16);
  const collections = new Map<string, EmulatedCollection>();
  const requests: QdrantRequestLog[] = [];
  const faults: { route: QdrantRoute | "*"; fault: QdrantFault; left: number }[] = [];

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ status: { error: `Service internal error: ${String(error)}` }, time: 0 }));
        }
      });
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse, raw: string): Promise<void> {
    const started = process.hrtime.bigint();
    const url = new URL(req.url ?? "/", "http://emulator");
    const method = (req.method ?? "GET").toUpperCase();
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0] : v;
    };
    const entry: QdrantRequestLog = {
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      route: "other",
      operationId: null,
      apiKey: header("api-key"),
      userAgent: header("user-agent"),
      body: undefined,
      status: null,
      response: undefined,
      violations: [],
      responseViolations: [],
    };
    requests.push(entry);
    const time = () => Number(process.hrtime.bigint() - started) / 1e9;
    const error = (status: number, message: string): Reply => ({
      status,
      body: { status: { error: message }, time: time() },
    });

    const send = (reply: Reply, op: MatchedOperation | undefined) => {
      entry.status = reply.status;
      entry.response = reply.body;
      if (op) {
        const schema = responseSchema(op.operation, reply.status);
        if (!schema) entry.responseViolations.push(`no response schema for status ${reply.status}`);
        else entry.responseViolations.push(...validateSchema(SPEC, reply.body, schema, { strict: true }));
      }
      if (reply.body === undefined) {
        res.writeHead(reply.status);
        res.end();
        return;
      }
      const text = typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body);
      res.writeHead(reply.status, { "content-type": "application/json" });
      res.end(text);
    };

    if (opts.apiKey !== undefined) {
      const bearer = header("authorization")?.replace(/^Bearer\s+/i, "");
      if (entry.apiKey !== opts.apiKey && bearer !== opts.apiKey) {
        const message =
          entry.apiKey === undefined && bearer === undefined
            ? "Must provide an API key or an Authorization bearer token"
            : "Invalid API key or JWT";
        return send(error(403, message), undefined);
      }
    }

    const op = matchOperation(SPEC, method, url.pathname);
    if (!op) {
      entry.violations.push(`no operation ${method} ${url.pathname} in the specification`);
      return send({ status: 404, body: undefined }, undefined);
    }
    entry.operationId = op.operation.operationId ?? null;
    entry.route = ROUTES[entry.operationId ?? ""] ?? "other";

    entry.violations.push(...validateQuery(SPEC, op.operation, url.searchParams));
    const bodySchema = requestBodySchema(op.operation);
    if (raw.length > 0) {
      try {
        entry.body = JSON.parse(raw);
      } catch (e) {
        entry.violations.push(`body: not JSON (${(e as Error).message})`);
        return send(error(400, `Json deserialize error: ${(e as Error).message}`), op);
      }
      if (!bodySchema) entry.violations.push("body: the operation takes no body");
      else
        entry.violations.push(
          ...validateSchema(SPEC, entry.body, bodySchema, { strict: true }).map((p) => p.replace(/^\$/, "body")),
        );
    } else if (bodySchema) {
      entry.violations.push("body: missing");
    }
    if (entry.violations.length > 0)
      return send(error(400, `Validation error in JSON body: ${entry.violations.join("; ")}`), op);

    const faultIndex = faults.findIndex((f) => f.left > 0 && (f.route === "*" || f.route === entry.route));
    const fault = faultIndex >= 0 ? faults[faultIndex] : undefined;
    if (fault) {
      fault.left--;
      entry.fault = fault.fault;
      if ("reset" in fault.fault) {
        req.socket.destroy();
        return;
      }
      if ("delayMs" in fault.fault)
        await new Promise((r) => setTimeout(r, (fault.fault as { delayMs: number }).delayMs));
      else {
        const body = fault.fault.body ?? {
          status: { error: `Service internal error: injected fault (${fault.fault.status})` },
          time: time(),
        };
        return send({ status: fault.fault.status, body }, op);
      }
    }

    try {
      const result = dispatch(op, url.searchParams, entry.body as Record<string, unknown> | undefined);
      const body = entry.operationId === "root" ? result : { result, status: "ok", time: time() };
      return send({ status: 200, body }, op);
    } catch (e) {
      if (e instanceof QdrantApiError) return send(error(e.status, e.message), op);
      throw e;
    }
  }

  const collection = (name: string | undefined): EmulatedCollection => {
    const c = collections.get(name ?? "");
    if (!c) throw new QdrantApiError(404, `Not found: Collection \`${name ?? ""}\` doesn't exist!`);
    return c;
  };
  const updateResult = (c: EmulatedCollection, query: URLSearchParams) => ({
    operation_id: c.operations,
    status: query.get("wait") === "true" ? "completed" : "acknowledged",
  });
  const notNull = (v: unknown) => v !== undefined && v !== null;

  function dispatch(op: MatchedOperation, query: URLSearchParams, body: Record<string, unknown> = {}): unknown {
    const name = op.pathParams.collection_name;
    switch (op.operation.operationId) {
      case "root":
        return { title: "qdrant - vector search engine", version, commit: "0000000000000000000000000000000000000000" };
      case "collection_exists":
        return { exists: collections.has(name ?? "") };
      case "get_collection":
        return collectionInfo(collection(name));
      case "create_collection": {
        if (collections.has(name ?? ""))
          throw new QdrantApiError(409, `Wrong input: Collection \`${name ?? ""}\` already exists!`);
        const vectors = body.vectors as Record<string, unknown> | undefined;
        if (!vectors || typeof vectors.size !== "number")
          throw new NotImplementedByEmulator("collections without a single unnamed vector");
        if (notNull(body.sparse_vectors)) throw new NotImplementedByEmulator("sparse vectors");
        const metadata =
          supportsMetadata && notNull(body.metadata) ? structuredClone(body.metadata as Record<string, unknown>) : null;
        collections.set(name ?? "", newCollection(name ?? "", vectors.size, vectors.distance as Distance, metadata));
        return true;
      }
      case "update_collection": {
        const c = collection(name);
        for (const k of Object.keys(body))
          if (k !== "metadata" && notNull(body[k])) throw new NotImplementedByEmulator(`updating ${k}`);
        if (supportsMetadata && notNull(body.metadata)) {
          const merged: Record<string, unknown> = { ...(c.metadata ?? {}) };
          for (const [k, v] of Object.entries(body.metadata as Record<string, unknown>)) {
            if (v === null) delete merged[k];
            else merged[k] = structuredClone(v);
          }
          c.metadata = merged;
        }
        return true;
      }
      case "delete_collection":
        return collections.delete(name ?? "");
      case "create_field_index": {
        const c = collection(name);
        const schema = body.field_schema;
        if (!notNull(schema)) throw new NotImplementedByEmulator("payload indexes without field_schema");
        c.operations++;
        if (typeof schema === "string") c.indexes.set(body.field_name as string, { data_type: schema });
        else {
          const params = schema as Record<string, unknown>;
          c.indexes.set(body.field_name as string, {
            data_type: params.type as string,
            params: structuredClone(params),
          });
        }
        return updateResult(c, query);
      }
      case "upsert_points":
        return upsert(collection(name), query, body);
      case "get_points": {
        const c = collection(name);
        const out: unknown[] = [];
        for (const id of body.ids as unknown[]) {
          const p = c.points.get(idKey(normalizeId(id)));
          if (p) out.push(record(p, body.with_payload ?? true, body.with_vector));
        }
        return out;
      }
      case "scroll_points":
        return scroll(collection(name), body);
      case "query_points":
        return queryPoints(collection(name), body);
      case "delete_points": {
        const c = collection(name);
        if (notNull(body.shard_key)) throw new NotImplementedByEmulator("shard keys");
        if (Array.isArray(body.points)) for (const id of body.points) c.points.delete(idKey(normalizeId(id)));
        else for (const [k, p] of [...c.points]) if (matchesFilter(p, body.filter)) c.points.delete(k);
        c.operations++;
        return updateResult(c, query);
      }
      default:
        throw new NotImplementedByEmulator(`operation ${op.operation.operationId ?? op.template}`);
    }
  }

  function collectionInfo(c: EmulatedCollection): unknown {
    const config: Record<string, unknown> = {
      params: {
        vectors: { size: c.size, distance: c.distance },
        shard_number: 1,
        replication_factor: 1,
        write_consistency_factor: 1,
        on_disk_payload: true,
      },
      hnsw_config: { m: 16, ef_construct: 100, full_scan_threshold: 10000, max_indexing_threads: 0, on_disk: false },
      optimizer_config: {
        deleted_threshold: 0.2,
        vacuum_min_vector_number: 1000,
        default_segment_number: 0,
        max_segment_size: null,
        memmap_threshold: null,
        indexing_threshold: 10000,
        flush_interval_sec: 5,
        max_optimization_threads: null,
      },
      wal_config: { wal_capacity_mb: 32, wal_segments_ahead: 0 },
      quantization_config: null,
      strict_mode_config: { enabled: false },
    };
    if (supportsMetadata && c.metadata) config.metadata = structuredClone(c.metadata);
    return {
      status: "green",
      optimizer_status: "ok",
      indexed_vectors_count: 0,
      points_count: c.points.size,
      segments_count: 1,
      config,
      payload_schema: Object.fromEntries(
        [...c.indexes].map(([field, ix]) => [
          field,
          { data_type: ix.data_type, ...(ix.params ? { params: ix.params } : {}), points: indexedPoints(c, field) },
        ]),
      ),
    };
  }

  function upsert(c: EmulatedCollection, query: URLSearchParams, body: Record<string, unknown>): unknown {
    for (const k of ["shard_key", "update_filter", "update_mode"])
      if (notNull(body[k])) throw new NotImplementedByEmulator(`upsert with ${k}`);
    let incoming: { id: unknown; vector: unknown; payload: unknown }[];
    if (Array.isArray(body.points)) {
      incoming = (body.points as Record<string, unknown>[]).map((p) => ({
        id: p.id,
        vector: p.vector,
        payload: p.payload,
      }));
    } else {
      const batch = body.batch as { ids: unknown[]; vectors: unknown; payloads?: unknown[] | null };
      if (!Array.isArray(batch.vectors)) throw new NotImplementedByEmulator("named vectors in a batch");
      const vectors = batch.vectors as unknown[];
      incoming = batch.ids.map((id, i) => ({ id, vector: vectors[i], payload: batch.payloads?.[i] }));
    }
    // Validate everything before writing anything: an update is all or nothing.
    const prepared = incoming.map((p) => ({
      id: normalizeId(p.id),
      vector: prepareVector(c, p.vector),
      payload: p.payload,
    }));
    c.operations++;
    for (const p of prepared) {
      c.points.set(idKey(p.id), {
        id: p.id,
        vector: p.vector,
        payload: notNull(p.payload) ? structuredClone(p.payload as Record<string, unknown>) : {},
        version: c.operations,
      });
    }
    return updateResult(c, query);
  }

  function record(p: EmulatedPoint, withPayload: unknown, withVector: unknown): Record<string, unknown> {
    const out: Record<string, unknown> = { id: p.id };
    const payload = selectPayload(p.payload, withPayload);
    if (payload) out.payload = payload;
    const vector = selectVector(p.vector, withVector);
    if (vector) out.vector = vector;
    return out;
  }

  function scroll(c: EmulatedCollection, body: Record<string, unknown>): unknown {
    if (notNull(body.shard_key)) throw new NotImplementedByEmulator("shard keys");
    const limit = (body.limit as number | null | undefined) ?? 10;
    const withPayload = body.with_payload ?? true;
    const matching = sortedPoints(c).filter((p) => matchesFilter(p, body.filter));
    if (notNull(body.order_by)) {
      const orderBy =
        typeof body.order_by === "string"
          ? { key: body.order_by }
          : (body.order_by as { key: string; direction?: string | null; start_from?: unknown });
      const index = c.indexes.get(orderBy.key);
      if (!index || !["integer", "float", "datetime"].includes(index.data_type)) {
        throw new QdrantApiError(
          400,
          `Bad request: No range index for \`order_by\` key: \`${orderBy.key}\`. Please create one to use \`order_by\`. Check https://qdrant.tech/documentation/concepts/indexing/#payload-index to see which payload schemas support Range conditions`,
        );
      }
      const numeric = (v: unknown) => (typeof v === "string" ? Date.parse(v) : typeof v === "number" ? v : NaN);
      const desc = orderBy.direction === "desc";
      const start = notNull(orderBy.start_from) ? numeric(orderBy.start_from) : undefined;
      const keyed = matching.flatMap((p) =>
        valuesAt(p.payload, orderBy.key)
          .map(numeric)
          .filter((v) => !Number.isNaN(v))
          .map((v) => ({ p, v })),
      );
      keyed.sort((a, b) => (desc ? b.v - a.v : a.v - b.v));
      const from = keyed.filter(({ v }) => start === undefined || (desc ? v <= start : v >= start)).slice(0, limit);
      // With order_by Qdrant pages by start_from, never by next_page_offset.
      return {
        points: from.map(({ p, v }) => ({ ...record(p, withPayload, body.with_vector), order_value: v })),
        next_page_offset: null,
      };
    }
    const offset = notNull(body.offset) ? idKey(normalizeId(body.offset)) : undefined;
    const from = offset === undefined ? matching : matching.filter((p) => idKey(p.id) >= offset);
    const page = from.slice(0, limit);
    const next = from[limit];
    return {
      points: page.map((p) => record(p, withPayload, body.with_vector)),
      next_page_offset: next ? next.id : null,
    };
  }

  function queryPoints(c: EmulatedCollection, body: Record<string, unknown>): unknown {
    for (const k of ["shard_key", "prefetch", "lookup_from"])
      if (notNull(body[k])) throw new NotImplementedByEmulator(`query with ${k}`);
    if (notNull(body.using) && body.using !== "")
      throw new QdrantApiError(400, `Wrong input: Not existing vector name error: ${String(body.using)}`);
    let q = body.query;
    if (q && typeof q === "object" && !Array.isArray(q) && "nearest" in q) q = (q as { nearest: unknown }).nearest;
    let vector: number[];
    let exclude: string | undefined;
    if (Array.isArray(q)) vector = prepareVector(c, q);
    else if (typeof q === "string" || typeof q === "number") {
      const id = normalizeId(q);
      const p = c.points.get(idKey(id));
      if (!p) throw new QdrantApiError(404, `Not found: No point with id ${String(id)} found`);
      vector = p.vector;
      exclude = idKey(id);
    } else
      throw new NotImplementedByEmulator(
        q === undefined || q === null ? "query without a query vector" : "this kind of query",
      );
    const limit = (body.limit as number | null | undefined) ?? 10;
    const offset = (body.offset as number | null | undefined) ?? 0;
    const threshold = body.score_threshold as number | null | undefined;
    const better = higherIsBetter(c);
    const scored = sortedPoints(c)
      .filter((p) => idKey(p.id) !== exclude && matchesFilter(p, body.filter))
      .map((p) => ({ p, s: score(c, p.vector, vector) }))
      .filter(({ s }) => threshold === undefined || threshold === null || (better ? s >= threshold : s <= threshold))
      .sort((a, b) => (better ? b.s - a.s : a.s - b.s))
      .slice(offset, offset + limit);
    return {
      points: scored.map(({ p, s }) => ({
        ...record(p, body.with_payload ?? false, body.with_vector),
        version: p.version,
        score: s,
      })),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    version,
    collections,
    requests,
    inject(route, fault, times = 1) {
      faults.push({ route, fault, left: times });
    },
    createCollection(name, { size, distance = "Cosine", metadata = null }) {
      const c = newCollection(name, size, distance, supportsMetadata ? metadata : null);
      collections.set(name, c);
      return c;
    },
    violations() {
      return requests.flatMap((r) =>
        [...r.violations, ...r.responseViolations.map((v) => `response ${v}`)].map(
          (v) => `${r.method} ${r.path}: ${v}`,
        ),
      );
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
