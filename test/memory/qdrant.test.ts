/**
 * The Qdrant adapter: the memory contract against the loopback emulator (and against a real Qdrant when
 * QDRANT_URL is set), what the unmodified 1.18 client puts on the wire, and how failures surface.
 */
import { QdrantClient } from "@qdrant/js-client-rest";
import { v5 as uuidv5 } from "uuid";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import {
  createQdrantStore,
  QDRANT_POINT_NAMESPACE,
  QdrantStoreError,
  qdrantPointId,
} from "../../src/memory/qdrant-store.js";
import { MemoryMismatchError, recordKey, type MemoryStore, type PrRecord } from "../../src/memory/store.js";
import { startQdrantEmulator, type QdrantEmulator, type QdrantRequestLog } from "../emulators/qdrant.js";
import { qdrantSpec, validateSchema } from "../emulators/qdrant-openapi.js";
import { describeMemoryContract, record, TEST_EMBEDDER } from "./contract.js";

const API_KEY = "emulator-api-key-0f3c9a";
const INSECURE_KEY_WARNING = "Api key is used with unsecure connection.";

let emu: QdrantEmulator;
const warnings: string[] = [];
let collections = 0;
const newName = (prefix = "prs") => `${prefix}_${++collections}`;

beforeAll(async () => {
  emu = await startQdrantEmulator({ apiKey: API_KEY });
  // The client warns on every construction with an api key over http; keep that one out of the output.
  const warn = console.warn.bind(console);
  vi.spyOn(console, "warn").mockImplementation((...args: unknown[]) => {
    if (args[0] === INSECURE_KEY_WARNING) warnings.push(String(args[0]));
    else warn(...args);
  });
});

afterAll(async () => {
  vi.restoreAllMocks();
  await emu.close();
});

const open = (collection: string, extra: { apiKey?: string; timeoutMs?: number; url?: string } = {}) =>
  createQdrantStore({
    url: extra.url ?? emu.url,
    apiKey: extra.apiKey ?? API_KEY,
    collection,
    ...(extra.timeoutMs ? { timeoutMs: extra.timeoutMs } : {}),
  });

const unit = (v: number[]) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

let contractCollection = "";
describeMemoryContract("qdrant (emulator)", {
  fresh: async () => open((contractCollection = newName("contract"))),
  reopen: async () => open(contractCollection),
});

/** The requests made while `fn` ran. */
async function recorded(fn: () => Promise<unknown>): Promise<QdrantRequestLog[]> {
  const from = emu.requests.length;
  await fn();
  return emu.requests.slice(from);
}

const hostPort = () => new URL(emu.url).host;

describe("qdrant adapter: what the 1.18 client sends", () => {
  it("init creates the collection with the embedder in its metadata and one keyword index per filtered field", async () => {
    const name = newName();
    const store = open(name);
    const log = await recorded(() => store.init(TEST_EMBEDDER));
    expect(log.map((r) => `${r.method} ${r.path}${r.query.wait ? `?wait=${r.query.wait}` : ""}`)).toEqual([
      `GET /collections/${name}/exists`,
      `PUT /collections/${name}`,
      `GET /collections/${name}`,
      `PUT /collections/${name}/index?wait=true`,
      `PUT /collections/${name}/index?wait=true`,
      `PUT /collections/${name}/index?wait=true`,
      `PUT /collections/${name}/index?wait=true`,
    ]);
    expect(log[1]?.body).toEqual({
      vectors: { size: 4, distance: "Cosine" },
      metadata: { pr_creator: { embedder: { name: "test-embedder", version: "1", dimensions: 4 }, layout: 1 } },
    });
    expect(log.slice(3).map((r) => r.body)).toEqual(
      ["trace_id", "repo", "component_scope", "blueprint_id"].map((field_name) => ({
        field_name,
        field_schema: "keyword",
      })),
    );
    // Every request carries the key and the client's user agent; no compatibility probe (GET /) was sent.
    expect(log.every((r) => r.apiKey === API_KEY && r.userAgent === "qdrant-js/1.18.0")).toBe(true);
    expect(emu.requests.some((r) => r.path === "/")).toBe(false);

    // A second init on the existing collection only reads it.
    const again = await recorded(() => open(name).init(TEST_EMBEDDER));
    expect(again.map((r) => `${r.method} ${r.path}`)).toEqual([
      `GET /collections/${name}/exists`,
      `GET /collections/${name}`,
    ]);
    await store.close();
  });

  it("upsert retrieves the stored created_at, then writes one point with a UUIDv5 id and a flat payload", async () => {
    const store = open(newName());
    await store.init(TEST_EMBEDDER);
    const r = record();
    const id = uuidv5(recordKey(r), QDRANT_POINT_NAMESPACE);
    expect(qdrantPointId(recordKey(r))).toBe(id);
    const log = await recorded(() => store.upsert(r, unit([1, 0, 0, 0])));
    expect(
      log.map(
        (x) =>
          `${x.method} ${x.path.replace(/^\/collections\/[^/]+/, "")}${x.query.wait ? `?wait=${x.query.wait}` : ""}`,
      ),
    ).toEqual(["POST /points", "PUT /points?wait=true"]);
    expect(log[0]?.body).toEqual({ ids: [id], with_payload: ["created_at"], with_vector: false });
    expect(log[1]?.body).toEqual({
      points: [{ id, vector: unit([1, 0, 0, 0]), payload: { ...r, record_key: "OrderService#1" } }],
    });
    await store.close();
  });

  it("similar uses /points/query with must filters and a must_not has_id, never the deprecated /points/search", async () => {
    const store = open(newName());
    await store.init(TEST_EMBEDDER);
    await store.upsert(record(), unit([1, 0, 0, 0]));
    const log = await recorded(() =>
      store.similar({
        vector: unit([1, 0, 0, 0]),
        k: 3,
        repo: "OrderService",
        component_scope: "Order",
        blueprint_id: "usecase-create-order",
        exclude_key: "OrderService#2",
      }),
    );
    expect(log).toHaveLength(1);
    expect(log[0]?.path).toMatch(/\/points\/query$/);
    expect(log[0]?.body).toEqual({
      query: unit([1, 0, 0, 0]),
      filter: {
        must: [
          { key: "repo", match: { value: "OrderService" } },
          { key: "component_scope", match: { value: "Order" } },
          { key: "blueprint_id", match: { value: "usecase-create-order" } },
        ],
        must_not: [{ has_id: [qdrantPointId("OrderService#2")] }],
      },
      limit: 3,
      with_payload: true,
    });
    // Without filters no filter is sent at all.
    const plain = await recorded(() => store.similar({ vector: unit([0, 1, 0, 0]), k: 1 }));
    expect(plain[0]?.body).toEqual({ query: unit([0, 1, 0, 0]), limit: 1, with_payload: true });
    expect(await store.similar({ vector: unit([1, 0, 0, 0]), k: 0 })).toEqual([]);
    await store.close();
  });

  it("byTrace and history scroll page by page through next_page_offset", async () => {
    const name = newName();
    const store = open(name);
    await store.init(TEST_EMBEDDER);
    // Seed 600 records straight into the emulator: three pages of 256.
    const c = emu.collections.get(name)!;
    const records: PrRecord[] = [];
    for (let i = 0; i < 600; i++) {
      const at = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
      const r = record({
        pr_id: String(i),
        trace_id: i % 2 ? "trace-odd-1" : "trace-even-1",
        created_at: at,
        updated_at: at,
      });
      records.push(r);
      const id = qdrantPointId(recordKey(r));
      c.points.set(`u:${id}`, {
        id,
        vector: unit([1, i, 0, 0]),
        payload: { ...r, record_key: recordKey(r) },
        version: 1,
      });
    }
    const log = await recorded(async () => {
      const newest = await store.history({ limit: 2 });
      expect(newest.map((r) => r.pr_id)).toEqual(["599", "598"]);
    });
    expect(log.map((r) => r.body)).toEqual([
      { limit: 256, with_payload: true, with_vector: false },
      { limit: 256, offset: expect.any(String), with_payload: true, with_vector: false },
      { limit: 256, offset: expect.any(String), with_payload: true, with_vector: false },
    ]);
    const since = await store.history({ since: new Date(records[590]!.updated_at) });
    expect(since.map((r) => r.pr_id)).toEqual(["599", "598", "597", "596", "595", "594", "593", "592", "591", "590"]);

    const traceLog = await recorded(async () => {
      const chain = await store.byTrace("trace-odd-1");
      expect(chain).toHaveLength(300);
      expect(chain[0]?.pr_id).toBe("1");
      expect(chain.at(-1)?.pr_id).toBe("599");
    });
    expect(traceLog).toHaveLength(2);
    expect(traceLog[0]?.body).toEqual({
      filter: { must: [{ key: "trace_id", match: { value: "trace-odd-1" } }] },
      limit: 256,
      with_payload: true,
      with_vector: false,
    });
    await store.close();
  });
});

describe("qdrant adapter: failures", () => {
  let store: MemoryStore;
  let name: string;
  beforeAll(async () => {
    name = newName("faults");
    store = open(name, { timeoutMs: 300 });
    await store.init(TEST_EMBEDDER);
    await store.upsert(record(), unit([1, 0, 0, 0]));
  });
  afterAll(() => store.close());

  const failure = async (p: Promise<unknown>): Promise<QdrantStoreError> => {
    const error = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(QdrantStoreError);
    const e = error as QdrantStoreError;
    expect(e.message).toContain(hostPort());
    expect(e.message).toContain(`"${name}"`);
    expect(e.message).not.toContain(API_KEY);
    expect(JSON.stringify({ ...e, cause: undefined })).not.toContain(API_KEY);
    return e;
  };

  it("a 503 from query names the operation, the collection, the URL and the status", async () => {
    emu.inject("query", { status: 503 });
    const e = await failure(store.similar({ vector: unit([1, 0, 0, 0]), k: 1 }));
    expect(e.message).toMatch(
      /could not find similar records .* answered 503 Service Unavailable: Service internal error: injected fault \(503\)/,
    );
    expect(e.status).toBe(503);
    expect(e.operation).toBe("find similar records");
  });

  it("a 500 from scroll carries Qdrant's own error text", async () => {
    emu.inject("scroll", {
      status: 500,
      body: { status: { error: "Service internal error: disk full" }, time: 0.001 },
    });
    const e = await failure(store.byTrace("trace-ord-8128"));
    expect(e.message).toMatch(
      /could not list the records of trace trace-ord-8128 .* answered 500 Internal Server Error: Service internal error: disk full/,
    );
  });

  it("a connection reset on upsert names the write and the URL", async () => {
    emu.inject("upsert", { reset: true });
    const e = await failure(store.upsert(record({ status: "updated" }), unit([1, 0, 0, 0])));
    expect(e.message).toMatch(/could not write the record OrderService#1 .*: fetch failed/);
    expect(e.status).toBeUndefined();
    // The record is unchanged, and the store still works once Qdrant does.
    expect((await store.byTrace("trace-ord-8128")).map((r) => r.status)).toEqual(["created"]);
  });

  it("a reset on retrieve fails the upsert before anything is written", async () => {
    emu.inject("retrieve", { reset: true });
    const e = await failure(store.upsert(record({ status: "updated" }), unit([1, 0, 0, 0])));
    expect(e.message).toContain("could not read the stored record OrderService#1");
    expect(emu.requests.at(-1)?.route).toBe("retrieve");
  });

  it("an answer slower than timeoutMs is a timeout naming the limit", async () => {
    emu.inject("scroll", { delayMs: 1000 });
    const e = await failure(store.history());
    expect(e.message).toMatch(/could not list the history .*: no answer within 300 ms/);
  });

  it("a failing collection create, and a fault on any route ('*'), name what init was doing", async () => {
    const fresh = newName("faults");
    emu.inject("createCollection", { status: 500 });
    await expect(open(fresh).init(TEST_EMBEDDER)).rejects.toThrow(
      new RegExp(`could not create the collection in collection "${fresh}" at ${emu.url}: Qdrant answered 500`),
    );
    emu.inject("*", { status: 502, body: { status: { error: "Bad gateway" }, time: 0 } }, 2);
    await expect(open(fresh).init(TEST_EMBEDDER)).rejects.toThrow(
      /could not check whether the collection exists .* answered 502 Bad Gateway: Bad gateway/,
    );
    await expect(store.byTrace("trace-ord-8128")).rejects.toThrow(
      /could not list the records of trace .* answered 502/,
    );
    // Faults are used up: both work again, and the collection is created on the retry.
    await open(fresh).init(TEST_EMBEDDER);
    expect(emu.collections.has(fresh)).toBe(true);
  });

  it("a wrong API key is a 403 that does not repeat the key", async () => {
    const wrong = "wrong-key-7d1e";
    const error = await open(name, { apiKey: wrong })
      .init(TEST_EMBEDDER)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QdrantStoreError);
    expect((error as Error).message).toMatch(
      /could not check whether the collection exists .* answered 403 Forbidden: Invalid API key or JWT/,
    );
    expect((error as Error).message).not.toContain(wrong);
  });

  it("an unreachable Qdrant says so, with the port the client really uses", async () => {
    const closed = await startQdrantEmulator();
    const url = closed.url;
    await closed.close();
    const error = await createQdrantStore({ url, collection: "x" })
      .init(TEST_EMBEDDER)
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(
      new RegExp(
        `could not check whether the collection exists in collection "x" at ${url}: fetch failed: ECONNREFUSED: .*is Qdrant running there\\?`,
      ),
    );
    // Without a port in the URL the 1.18 client goes to 6333, and the message says so (.invalid never resolves).
    const noPort = createQdrantStore({ url: "https://qdrant.invalid", collection: "x", timeoutMs: 2000 });
    expect(((await noPort.init(TEST_EMBEDDER).catch((e: unknown) => e)) as Error).message).toContain(
      "at https://qdrant.invalid:6333:",
    );
  });

  it("a vector Qdrant refuses (the collection changed under the store) surfaces Qdrant's 400", async () => {
    const other = newName("faults");
    const s = open(other);
    await s.init(TEST_EMBEDDER);
    emu.collections.get(other)!.size = 8; // as if recreated by someone else with 8 dimensions
    const error = await s.upsert(record(), unit([1, 0, 0, 0])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(QdrantStoreError);
    expect((error as Error).message).toMatch(
      /answered 400 Bad Request: Wrong input: Vector dimension error: expected dim: 8, got 4/,
    );
    await s.close();
  });

  it("a closed or uninitialised store refuses to work", async () => {
    const s = open(newName());
    await expect(s.byTrace("t")).rejects.toThrow(/not initialised: call init/);
    await s.close();
    await expect(s.init(TEST_EMBEDDER)).rejects.toThrow(/is closed/);
  });
});

describe("qdrant adapter: collections it must not use", () => {
  it("refuses a collection created with another vector size, naming both sizes", async () => {
    const name = newName("foreign");
    emu.createCollection(name, { size: 8 });
    const error = await open(name)
      .init(TEST_EMBEDDER)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryMismatchError);
    expect((error as Error).message).toMatch(
      /holds 8-dimensional vectors, but this run uses embedder "test-embedder" version 1 \(4 dimensions\)/,
    );
  });

  it("refuses a collection of the same size made for another embedder, naming both", async () => {
    const name = newName("foreign");
    emu.createCollection(name, {
      size: 4,
      metadata: { pr_creator: { embedder: { name: "hash-v1", version: "3", dimensions: 4 }, layout: 1 } },
    });
    const error = await open(name)
      .init(TEST_EMBEDDER)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemoryMismatchError);
    expect((error as Error).message).toContain('embedder "hash-v1" version 3 (4 dimensions)');
    expect((error as Error).message).toContain('"test-embedder" version 1 (4 dimensions)');
  });

  it("refuses a collection that is not Cosine", async () => {
    const name = newName("foreign");
    emu.createCollection(name, { size: 4, distance: "Euclid" });
    await expect(open(name).init(TEST_EMBEDDER)).rejects.toThrow(MemoryMismatchError);
  });

  it("refuses a non-empty collection that records no embedder", async () => {
    const name = newName("foreign");
    const c = emu.createCollection(name, { size: 4 });
    c.points.set("n:1", { id: 1, vector: [1, 0, 0, 0], payload: { hello: "world" }, version: 1 });
    await expect(open(name).init(TEST_EMBEDDER)).rejects.toThrow(/holds 1 points but records no embedder/);
  });

  it("claims an empty collection made by hand: records the embedder with PATCH, then indexes it", async () => {
    const name = newName("foreign");
    emu.createCollection(name, { size: 4 });
    const log = await recorded(() => open(name).init(TEST_EMBEDDER));
    const patch = log.find((r) => r.method === "PATCH");
    expect(patch?.body).toEqual({
      metadata: { pr_creator: { embedder: { name: "test-embedder", version: "1", dimensions: 4 }, layout: 1 } },
    });
    expect(emu.collections.get(name)?.indexes.size).toBe(4);
    await open(name).init(TEST_EMBEDDER);
  });

  it("another process creating the collection first (409) is not an error", async () => {
    const name = newName();
    await open(name).init(TEST_EMBEDDER);
    // This store is told the collection does not exist yet, so it tries to create it and gets Qdrant's 409.
    emu.inject("exists", { status: 200, body: { result: { exists: false }, status: "ok", time: 0 } });
    const log = await recorded(() => open(name).init(TEST_EMBEDDER));
    expect(log.map((r) => r.status)).toEqual([200, 409, 200]);
  });

  it("a server too old for collection metadata (< 1.16) is refused with a clear reason", async () => {
    const old = await startQdrantEmulator({ version: "1.15.4" });
    try {
      const error = await createQdrantStore({ url: old.url, collection: "prs" })
        .init(TEST_EMBEDDER)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(QdrantStoreError);
      expect((error as Error).message).toMatch(
        /did not keep the metadata of collection "prs"; .* needs Qdrant 1.16 or later/,
      );
      expect(old.violations()).toEqual([]);
    } finally {
      await old.close();
    }
  });
});

describe("qdrant emulator: it checks requests against the spec", () => {
  const spec = qdrantSpec();
  const post = async (path: string, body: unknown, method = "POST") => {
    const res = await fetch(`${emu.url}${path}`, {
      method,
      headers: { "api-key": API_KEY, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as { status: { error: string } } };
  };

  it("answers 400 naming the violation for invalid requests", async () => {
    const name = newName();
    await open(name).init(TEST_EMBEDDER);
    const from = emu.requests.length;
    const zeroLimit = await post(`/collections/${name}/points/scroll`, { limit: 0 });
    expect(zeroLimit.status).toBe(400);
    expect(zeroLimit.body.status.error).toContain("body.limit: 0 is below the minimum 1");
    const badId = await post(`/collections/${name}/points`, { ids: ["OrderService#1"] });
    expect(badId.body.status.error).toContain("body.ids[0]: matches no branch of anyOf");
    const typo = await post(`/collections/${name}/points/query`, { query: [1, 0, 0, 0], with_payloads: true });
    expect(typo.body.status.error).toContain('body: unknown property "with_payloads"');
    const badFilter = await post(`/collections/${name}/points/scroll`, {
      filter: { must: [{ key: "repo", match: { value: "x" } }], should_not: [] },
    });
    expect(badFilter.body.status.error).toContain('property "should_not" is not allowed (additionalProperties: false)');
    const shortVector = await post(
      `/collections/${name}/points?wait=true`,
      { points: [{ id: qdrantPointId("x"), vector: [1, 0, 0] }] },
      "PUT",
    );
    expect(shortVector).toEqual({
      status: 400,
      body: {
        status: { error: "Wrong input: Vector dimension error: expected dim: 4, got 3" },
        time: expect.any(Number),
      },
    });
    const missing = await post(`/collections/nope/points/scroll`, {});
    expect(missing).toEqual({
      status: 404,
      body: { status: { error: "Not found: Collection `nope` doesn't exist!" }, time: expect.any(Number) },
    });
    const search = await fetch(`${emu.url}/collections/${name}/points/search`, {
      method: "POST",
      headers: { "api-key": API_KEY },
      body: "{}",
    });
    expect(search.status).toBe(404);
    const noKey = await fetch(`${emu.url}/collections`, { headers: {} });
    expect(noKey.status).toBe(403);
    const mine = emu.requests.slice(from);
    expect(mine.filter((r) => r.violations.length > 0).map((r) => r.status)).toEqual([400, 400, 400, 400, 404]);
    // These deliberate violations are taken out of the log the final check reads.
    emu.requests.splice(from);
  });

  it("the validator knows the spec's shapes", () => {
    expect(validateSchema(spec, { exists: true }, "CollectionExistence")).toEqual([]);
    expect(validateSchema(spec, { exists: "yes" }, "CollectionExistence")).toEqual([
      "$.exists: expected boolean, got string",
    ]);
    expect(
      validateSchema(
        spec,
        { must: [{ has_id: [1, "550e8400-e29b-41d4-a716-446655440000"] }], min_should: null },
        "Filter",
      ),
    ).toEqual([]);
    expect(validateSchema(spec, { points: [{ id: 1, version: 0, score: 0.5 }] }, "QueryResponse")).toEqual([]);
    expect(validateSchema(spec, { points: [{ id: 1, score: 0.5 }] }, "QueryResponse")).toEqual([
      '$.points[0]: missing required property "version"',
    ]);
    expect(validateSchema(spec, "ok", "OptimizersStatus")).toEqual([]);
    expect(validateSchema(spec, { error: "x", more: 1 }, "OptimizersStatus")[0]).toContain(
      "matches no branch of oneOf",
    );
    expect(validateSchema(spec, { key: "a", match: { value: 1.5 } }, "FieldCondition")[0]).toContain(
      "$.match.value: matches no branch of anyOf [string, integer, boolean] (string: expected string, got number; integer: 1.5 is not an integer",
    );
    expect(
      validateSchema(spec, { field_name: "x", field_schema: "keyword" }, "CreateFieldIndex", { strict: true }),
    ).toEqual([]);
    expect(validateSchema(spec, { vectors: { size: 0, distance: "Cosine" } }, "CreateCollection")).toEqual([
      "$.vectors.size: 0 is below the minimum 1",
    ]);
  });
});

describe("qdrant adapter: the wire, over this whole file", () => {
  it("no request the adapter sent violated the spec, no response of the emulator did, and /points/search was never used", () => {
    expect(emu.requests.length).toBeGreaterThan(100);
    expect(emu.violations()).toEqual([]);
    expect(emu.requests.filter((r) => /\/points\/(search|recommend|discover)/.test(r.path))).toEqual([]);
    expect(warnings.length).toBeGreaterThan(0); // the client's insecure-key warning, kept out of the output
  });
});

// ---- a real Qdrant, when there is one -------------------------------------------------------------------

const REAL_URL = process.env.QDRANT_URL;
describe.skipIf(!REAL_URL)("real Qdrant (QDRANT_URL)", () => {
  const apiKey = process.env.QDRANT_API_KEY || undefined;
  const made: string[] = [];
  let last = "";
  const openReal = (collection: string) =>
    createQdrantStore({ url: REAL_URL ?? "", collection, ...(apiKey ? { apiKey } : {}) });

  afterAll(async () => {
    const admin = new QdrantClient({ url: REAL_URL ?? "", ...(apiKey ? { apiKey } : {}), checkCompatibility: false });
    for (const name of made) await admin.deleteCollection(name).catch(() => undefined);
  });

  describeMemoryContract(`qdrant (${REAL_URL ?? "QDRANT_URL"})`, {
    fresh: async () => {
      last = `pr_creator_test_${process.pid}_${Date.now()}_${made.length}`;
      made.push(last);
      return openReal(last);
    },
    reopen: async () => openReal(last),
  });
});
