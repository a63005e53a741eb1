/**
 * Memory benchmark (not a test): the embedded MemoryStore (createSqliteStore: better-sqlite3 + sqlite-vec vec0,
 * exact KNN) in a fresh temp state file with the store's own settings (WAL, default synchronous), filled with
 * realistic PR records embedded by HashedNgramEmbeddings(512), as PrMemory.remember does.
 *
 *   npm run bench:memory            # ≈ 4 minutes on 2 cores; writes bench/results-memory.json and bench/memory.md
 *
 * At 1k, 10k and 100k stored PRs:
 * - insert rate while filling up to that size: one store.upsert per record (its own BEGIN IMMEDIATE
 *   transaction, as the agent does), with the time to embed and the time to store measured apart;
 * - top-5 similar() latency p50/p95/max, unfiltered and filtered by component_scope (BENCH_QUERIES, default
 *   200, query texts distinct from every stored text; vectors embedded beforehand, so only the store is timed);
 * - byTrace() latency;
 * - state file size (file and WAL as left by the run, then after PRAGMA wal_checkpoint(TRUNCATE) from a
 *   second connection), and bytes per 1k PRs;
 * - RSS, and peak RSS of the process.
 *
 * BENCH_REPORT_ONLY=1 rewrites bench/memory.md from bench/results-memory.json without measuring.
 *
 * Environment: BENCH_SIZES=1000,10000,100000 (ascending), BENCH_QUERIES=200, BENCH_FILL_BUDGET_S=200 (when a
 * phase's one-by-one fill is projected to take longer, it is filled in transactions of 1000 upserts instead
 * and labelled "batched"), BENCH_KEEP=1 keeps the temp state file.
 */
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import * as sqliteVec from "sqlite-vec";
import { HashedNgramEmbeddings } from "../src/memory/embeddings.js";
import { createSqliteStore } from "../src/memory/sqlite-store.js";
import type { MemoryStore, PrRecord } from "../src/memory/store.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

const SIZES = (process.env.BENCH_SIZES ?? "1000,10000,100000").split(",").map((s) => Number(s.trim()));
const QUERIES = Number(process.env.BENCH_QUERIES ?? 200);
const EXPERIMENT_QUERIES = Number(process.env.BENCH_EXPERIMENT_QUERIES ?? 100);
const WARMUP_QUERIES = 5;
const FILL_BUDGET_S = Number(process.env.BENCH_FILL_BUDGET_S ?? 200);
const BATCH = 1000;
const DIMENSIONS = 512;
const K = 5;
/** Top-5 similar() p95 targets by stored PRs. */
export const TARGETS = [
  { size: 10_000, p95_ms: 5 },
  { size: 100_000, p95_ms: 50 },
];
if (SIZES.some((s, i) => !Number.isInteger(s) || s <= 0 || (i > 0 && s <= SIZES[i - 1]!))) {
  throw new Error(`BENCH_SIZES must be ascending positive integers, got ${process.env.BENCH_SIZES}`);
}

// ---------------------------------------------------------------------------------------------------------
// Data: a seeded generator of PR records from a small vocabulary.

/** mulberry32: a small seeded PRNG, so every run stores the same records. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SCOPES = [
  "orders",
  "payments",
  "checkout",
  "inventory",
  "catalog",
  "search",
  "auth",
  "users",
  "notifications",
  "billing",
  "shipping",
  "pricing",
  "reporting",
  "gateway",
  "scheduler",
  "storage",
  "analytics",
  "admin-ui",
  "mobile-api",
  "infra",
];
const VERBS = [
  "add",
  "remove",
  "fix",
  "refactor",
  "rename",
  "extract",
  "inline",
  "cache",
  "validate",
  "retry",
  "log",
  "trace",
  "batch",
  "paginate",
  "throttle",
  "debounce",
  "serialize",
  "deserialize",
  "migrate",
  "upgrade",
  "downgrade",
  "pin",
  "replace",
  "split",
  "merge",
  "deduplicate",
  "index",
  "encrypt",
  "decrypt",
  "sign",
  "verify",
  "compress",
  "stream",
  "buffer",
  "schedule",
  "cancel",
  "expose",
  "hide",
  "deprecate",
  "document",
  "test",
  "mock",
  "stub",
  "harden",
  "sanitize",
  "normalize",
  "parse",
  "format",
  "localize",
  "route",
  "proxy",
  "queue",
  "publish",
  "subscribe",
  "aggregate",
  "partition",
  "shard",
  "reconcile",
  "audit",
  "simplify",
];
const NOUNS = [
  "handler",
  "controller",
  "service",
  "repository",
  "client",
  "adapter",
  "gateway",
  "endpoint",
  "route",
  "middleware",
  "queue",
  "topic",
  "consumer",
  "producer",
  "worker",
  "job",
  "scheduler",
  "cron",
  "cache",
  "index",
  "table",
  "column",
  "migration",
  "schema",
  "query",
  "transaction",
  "lock",
  "session",
  "token",
  "cookie",
  "header",
  "payload",
  "request",
  "response",
  "timeout",
  "retry",
  "backoff",
  "circuit",
  "breaker",
  "limit",
  "quota",
  "metric",
  "counter",
  "histogram",
  "trace",
  "span",
  "log",
  "alert",
  "dashboard",
  "report",
  "export",
  "import",
  "upload",
  "download",
  "file",
  "bucket",
  "blob",
  "image",
  "thumbnail",
  "invoice",
  "receipt",
  "refund",
  "charge",
  "discount",
  "coupon",
  "cart",
  "basket",
  "order",
  "line",
  "item",
  "product",
  "variant",
  "price",
  "tax",
  "currency",
  "address",
  "shipment",
  "parcel",
  "carrier",
  "warehouse",
  "stock",
  "reservation",
  "customer",
  "account",
  "profile",
  "role",
  "permission",
  "policy",
  "password",
  "email",
  "notification",
  "template",
  "webhook",
  "event",
  "message",
  "command",
  "aggregate",
  "projection",
  "snapshot",
  "config",
  "setting",
  "flag",
  "feature",
  "experiment",
  "locale",
  "translation",
  "timezone",
  "date",
  "parser",
  "formatter",
  "validator",
  "serializer",
  "mapper",
  "factory",
  "builder",
  "registry",
  "provider",
  "container",
  "pipeline",
  "build",
  "deploy",
  "release",
  "chart",
  "manifest",
  "secret",
  "certificate",
  "dependency",
  "package",
  "lockfile",
  "linter",
  "test",
  "fixture",
  "mock",
  "benchmark",
  "readme",
  "changelog",
  "error",
  "exception",
  "fallback",
  "default",
  "threshold",
  "window",
];
const TYPES = ["feat", "fix", "refactor", "perf", "chore", "docs", "test"];
const REPOS = [
  "acme/OrderService",
  "acme/Storefront",
  "acme/Platform",
  "acme/MobileBackend",
  "Payments",
  "Catalog",
  "Identity",
  "Logistics",
];
const BLUEPRINTS = ["feature", "bugfix", "refactor", "dependency-update", "hotfix", "docs"];
const PURPOSES = [
  "so that {n} {n}s stop failing under load",
  "because the {n} {n} was duplicated across callers",
  "to cut the latency of the {n} {n}",
  "so that support can find a {n} by its {n}",
  "to prepare the {n} for the new {n} {n}",
  "because the old {n} leaked {n}s on shutdown",
  "to make the {n} {n} easier to test",
  "so the {n} respects the {n} {n}",
];

/** Zipf-like weights (s = 0.8): a few scopes get most PRs, as in a real code base. */
const SCOPE_CDF = (() => {
  const w = SCOPES.map((_, i) => 1 / (i + 1) ** 0.8);
  const total = w.reduce((a, b) => a + b, 0);
  let acc = 0;
  return w.map((x) => (acc += x / total));
})();

class Words {
  constructor(readonly rnd: () => number) {}
  pick<T>(list: readonly T[]): T {
    return list[Math.floor(this.rnd() * list.length)]!;
  }
  scope(): string {
    const r = this.rnd();
    return SCOPES[SCOPE_CDF.findIndex((c) => r < c)] ?? SCOPES[SCOPES.length - 1]!;
  }
  fill(template: string): string {
    return template.replace(/\{n\}/g, () => this.pick(NOUNS));
  }
  hex(n: number): string {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(this.rnd() * 16).toString(16);
    return s;
  }
}

interface Draft {
  scope: string;
  title: string;
  text: string;
}

function draftPr(w: Words): Draft {
  const scope = w.scope();
  const verb = w.pick(VERBS);
  const [a, b, c, d] = [w.pick(NOUNS), w.pick(NOUNS), w.pick(NOUNS), w.pick(NOUNS)];
  const title = `${w.pick(TYPES)}(${scope}): ${verb} ${a} ${b} in ${c} ${d}`;
  const highlights = Array.from(
    { length: 2 + Math.floor(w.rnd() * 3) },
    () => `- ${w.pick(VERBS)} the ${w.pick(NOUNS)} ${w.pick(NOUNS)} of the ${w.pick(NOUNS)}`,
  );
  const text = [
    `Summary: ${verb} the ${a} ${b} used by the ${scope} ${c} ${d}, and ${w.pick(VERBS)} its ${w.pick(NOUNS)} ${w.pick(NOUNS)}.`,
    `Purpose: ${w.fill(w.pick(PURPOSES))}.`,
    "Highlights:",
    ...highlights,
  ].join("\n");
  return { scope, title, text };
}

/** Query texts: what the agent embeds for recall — a new PR's wording, not a stored one. */
function draftQuery(w: Words): Draft {
  const scope = w.scope();
  const text = `${w.pick(VERBS)} ${w.pick(NOUNS)} ${w.pick(NOUNS)} for the ${scope} ${w.pick(NOUNS)}; ${w.pick(VERBS)} the ${w.pick(NOUNS)} ${w.fill(w.pick(PURPOSES))}`;
  return { scope, title: "", text };
}

const digest = (s: string) => createHash("sha1").update(s).digest("base64").slice(0, 16);
/** The text PrMemory.remember embeds for a record. */
const embeddedText = (r: Pick<PrRecord, "title" | "text">) => `${r.title}\n${r.text}`;

/**
 * Records in the order the agent would remember them: one trace per PR; 30% of traces were previewed
 * (a dry-run record, pr_id null) before the PR was created (a second record of the same trace).
 */
function* records(
  seed: number,
  avoid: ReadonlySet<string>,
  traces: string[],
  collisions: { n: number },
): Generator<PrRecord> {
  const w = new Words(prng(seed));
  const base = Date.parse("2023-01-01T00:00:00Z");
  let n = 0;
  for (let t = 0; ; t++) {
    let draft = draftPr(w);
    while (avoid.has(digest(embeddedText(draft)))) {
      collisions.n++;
      draft = draftPr(w);
    }
    const trace_id = `trace-${t.toString(36).padStart(6, "0")}-${w.hex(8)}`;
    const repo = w.pick(REPOS);
    const source_branch = `feature/${draft.scope}-${t}`;
    const common = {
      repo,
      trace_id,
      blueprint_id: w.pick(BLUEPRINTS),
      component_scope: draft.scope,
      commit_hash: w.hex(40),
      source_branch,
      target_branch: "main",
      title: draft.title,
      text: draft.text,
    };
    const at = () => new Date(base + n++ * 60_000).toISOString();
    if (w.rnd() < 0.3) {
      const ts = at();
      yield {
        ...common,
        pr_id: null,
        url: null,
        forge: "dry-run",
        status: "previewed",
        created_at: ts,
        updated_at: ts,
      };
    }
    const ts = at();
    const pr_id = String(t + 1);
    const github = repo.includes("/");
    yield {
      ...common,
      pr_id,
      url: github
        ? `https://github.com/${repo}/pull/${pr_id}`
        : `https://dev.azure.com/acme/Shop/_git/${repo}/pullrequest/${pr_id}`,
      forge: github ? "github" : "azure-devops",
      status: "created",
      created_at: ts,
      updated_at: ts,
    };
    traces.push(trace_id);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Measurement helpers.

export interface Stats {
  n: number;
  mean_ms: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
}

const round = (x: number, digits = 3) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentiles. */
function stats(samples: number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const at = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] ?? NaN;
  return {
    n: s.length,
    mean_ms: round(s.reduce((a, b) => a + b, 0) / s.length),
    p50_ms: round(at(50)),
    p95_ms: round(at(95)),
    max_ms: round(at(100)),
  };
}

const mb = (bytes: number) => round(bytes / 1024 ** 2, 1);
const peakRss = () => process.resourceUsage().maxRSS * 1024;
const size = (file: string) => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

// ---------------------------------------------------------------------------------------------------------
// Phases.

interface Fill {
  mode: "one-by-one" | "batched";
  /** Records upserted in this phase (from the previous size up to this one). */
  records: number;
  embed_s: number;
  store_s: number;
  embed_per_s: number;
  store_per_s: number;
  /** Embedding and storing one after another, as PrMemory.remember does. */
  total_per_s: number;
  /** One store.upsert (one transaction each when one-by-one; within a 1000-upsert transaction when batched). */
  upsert: Stats;
}

export interface Phase {
  size: number;
  fill: Fill;
  similar_unfiltered: Stats & { results_per_query_min: number; top1_score_mean: number };
  similar_by_scope: Stats & { results_per_query_min: number; top1_score_mean: number; out_of_scope_results: number };
  /**
   * The same queries on the store's own connection (`reader: "inline"`): the calling thread's cost, which the
   * event loop pays when the search is not in the reader thread; and the reference for recall.
   */
  exact?: { unfiltered: Stats; by_scope: Stats };
  /** Share of the store's top k within the inline top-k distance (ties count): 1 while both are exact. */
  recall_at_k?: { unfiltered: number; by_scope: number };
  by_trace: Stats & { records_per_trace_mean: number };
  file: {
    db_bytes: number;
    wal_bytes: number;
    checkpoint: { busy: number; log: number; checkpointed: number };
    db_bytes_after_checkpoint: number;
    wal_bytes_after_checkpoint: number;
    bytes_per_1k_prs: number;
  };
  rss_mb: number;
  /** Before this phase's experiments. */
  peak_rss_mb: number;
  experiments?: Experiment[];
}

const embedder = new HashedNgramEmbeddings(DIMENSIONS);

export interface PhaseRun {
  phases: Phase[];
  query_embed: Stats;
  query_text_collisions_avoided: number;
  distinct_stored_texts: number;
  sqlite: ReturnType<typeof versions>;
}

/**
 * Fills a fresh store in a temp state file up to each of `sizes` in turn and measures each phase (`queries`
 * query texts); `experiments` adds the index variants. Also called by the consolidated bench (bench/index.ts).
 */
export async function runPhases(opts: { sizes: number[]; queries: number; experiments: boolean }): Promise<PhaseRun> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-bench-memory-"));
  const file = path.join(dir, "state.db");
  const scratch = path.join(dir, "experiments.db");

  // Queries first, so that no stored text can equal one of them.
  const qw = new Words(prng(0xc0ffee));
  const queries = Array.from({ length: opts.queries }, () => draftQuery(qw));
  const queryDigests = new Set(queries.map((q) => digest(q.text)));
  const queryVectors = await Promise.all(queries.map((q) => embedder.embedQuery(q.text)));
  const qEmbed: number[] = [];
  for (const q of queries) {
    const t0 = performance.now();
    await embedder.embedQuery(q.text);
    qEmbed.push(performance.now() - t0);
  }

  const traces: string[] = [];
  const collisions = { n: 0 };
  const source = records(0x5eed, queryDigests, traces, collisions);
  const storedDigests = new Set<string>();

  let store: MemoryStore = createSqliteStore(file);
  await store.init(embedder.identity);
  let stored = 0;
  let lastRate: number | undefined;
  const phases: Phase[] = [];
  const rnd = prng(42);

  for (const target of opts.sizes) {
    // ---- fill
    const count = target - stored;
    const projected = lastRate === undefined ? 0 : count / lastRate;
    const mode: Fill["mode"] = projected > FILL_BUDGET_S ? "batched" : "one-by-one";
    let batchDb: Database.Database | undefined;
    if (mode === "batched") {
      // A connection with the same settings as the store's own, so upserts can share a transaction.
      await store.close();
      batchDb = new Database(file);
      batchDb.pragma("busy_timeout = 5000");
      batchDb.pragma("journal_mode = WAL");
      store = createSqliteStore(file, { db: batchDb });
      await store.init(embedder.identity);
    }
    console.log(
      `fill ${stored} → ${target} (${mode}${mode === "batched" ? `, one-by-one projected ${Math.round(projected)} s` : ""})`,
    );
    let embedMs = 0;
    let storeMs = 0;
    const upserts: number[] = [];
    for (let i = 0; i < count; i++) {
      const record = source.next().value as PrRecord;
      const text = embeddedText(record);
      storedDigests.add(digest(text));
      if (batchDb !== undefined && i % BATCH === 0) batchDb.exec("BEGIN IMMEDIATE");
      const t0 = performance.now();
      const vector = await embedder.embedQuery(text);
      const t1 = performance.now();
      await store.upsert(record, vector);
      if (batchDb !== undefined && (i % BATCH === BATCH - 1 || i === count - 1)) batchDb.exec("COMMIT");
      const t2 = performance.now();
      embedMs += t1 - t0;
      storeMs += t2 - t1;
      upserts.push(t2 - t1);
    }
    stored = target;
    if (batchDb !== undefined) {
      await store.close();
      batchDb.close();
      store = createSqliteStore(file);
      await store.init(embedder.identity);
    }
    const fill: Fill = {
      mode,
      records: count,
      embed_s: round(embedMs / 1000),
      store_s: round(storeMs / 1000),
      embed_per_s: Math.round(count / (embedMs / 1000)),
      store_per_s: Math.round(count / (storeMs / 1000)),
      total_per_s: Math.round(count / ((embedMs + storeMs) / 1000)),
      upsert: stats(upserts),
    };
    if (mode === "one-by-one") lastRate = fill.total_per_s;
    console.log(`  ${fill.total_per_s} records/s (embed ${fill.embed_per_s}/s, store ${fill.store_per_s}/s)`);

    // ---- similar: the store as configured, then exact search on this thread (the reference, and "before")
    const measure = async (filtered: boolean, on: MemoryStore = store) => {
      const times: number[] = [];
      const distances: number[][] = [];
      let minResults = Infinity;
      let top1 = 0;
      let outOfScope = 0;
      const kth: number[] = [];
      for (let i = -WARMUP_QUERIES; i < queries.length; i++) {
        const qi = ((i % queries.length) + queries.length) % queries.length;
        const vector = queryVectors[qi]!;
        const scope = queries[qi]!.scope;
        const t0 = performance.now();
        const hits = await on.similar(filtered ? { vector, k: K, component_scope: scope } : { vector, k: K });
        const dt = performance.now() - t0;
        if (i < 0) continue;
        times.push(dt);
        distances.push(hits.map((h) => 1 - h.score));
        minResults = Math.min(minResults, hits.length);
        top1 += hits[0]?.score ?? 0;
        kth.push(1 - (hits[hits.length - 1]?.score ?? -1));
        outOfScope += hits.filter((h) => h.record.component_scope !== scope).length;
      }
      return {
        result: { ...stats(times), results_per_query_min: minResults, top1_score_mean: round(top1 / queries.length) },
        outOfScope,
        kth,
        distances,
      };
    };
    const unfiltered = await measure(false);
    const byScope = await measure(true);
    const exactStore = createSqliteStore(file, { reader: "inline" });
    await exactStore.init(embedder.identity);
    const exactUnf = await measure(false, exactStore);
    const exactScope = await measure(true, exactStore);
    await exactStore.close();
    const recallOf = (got: number[][], exact: number[]) => {
      let hit = 0;
      let all = 0;
      got.forEach((ds, i) => {
        hit += ds.filter((d) => d <= exact[i]! + 1e-6).length;
        all += K;
      });
      return round(hit / all, 3);
    };
    const recallAtK = {
      unfiltered: recallOf(unfiltered.distances, exactUnf.kth),
      by_scope: recallOf(byScope.distances, exactScope.kth),
    };
    console.log(
      `  similar top-${K} p50/p95/max: unfiltered ${lat(unfiltered.result)} ms, by scope ${lat(byScope.result)} ms; ` +
        `recall@${K} ${recallAtK.unfiltered} / ${recallAtK.by_scope}; exact inline ${lat(exactUnf.result)} / ${lat(exactScope.result)} ms`,
    );

    // ---- byTrace
    const traceTimes: number[] = [];
    let traceRecords = 0;
    const sample = Array.from({ length: opts.queries }, () => traces[Math.floor(rnd() * traces.length)]!);
    for (let i = -WARMUP_QUERIES; i < sample.length; i++) {
      const id = sample[((i % sample.length) + sample.length) % sample.length]!;
      const t0 = performance.now();
      const chain = await store.byTrace(id);
      const dt = performance.now() - t0;
      if (i < 0) continue;
      if (chain.length === 0) throw new Error(`byTrace(${id}) found nothing`);
      traceTimes.push(dt);
      traceRecords += chain.length;
    }

    // ---- file size
    const dbBytes = size(file);
    const walBytes = size(`${file}-wal`);
    const second = new Database(file);
    sqliteVec.load(second);
    const [cp] = second.pragma("wal_checkpoint(TRUNCATE)") as Array<{
      busy: number;
      log: number;
      checkpointed: number;
    }>;
    second.close();
    const dbAfter = size(file);
    const walAfter = size(`${file}-wal`);

    const phase: Phase = {
      size: target,
      fill,
      similar_unfiltered: unfiltered.result,
      similar_by_scope: { ...byScope.result, out_of_scope_results: byScope.outOfScope },
      exact: { unfiltered: exactUnf.result, by_scope: exactScope.result },
      recall_at_k: recallAtK,
      by_trace: { ...stats(traceTimes), records_per_trace_mean: round(traceRecords / traceTimes.length, 2) },
      file: {
        db_bytes: dbBytes,
        wal_bytes: walBytes,
        checkpoint: cp ?? { busy: -1, log: -1, checkpointed: -1 },
        db_bytes_after_checkpoint: dbAfter,
        wal_bytes_after_checkpoint: walAfter,
        bytes_per_1k_prs: Math.round((dbAfter + walAfter) / (target / 1000)),
      },
      rss_mb: mb(process.memoryUsage().rss),
      peak_rss_mb: mb(peakRss()),
    };
    console.log(
      `  byTrace p50/p95 ${phase.by_trace.p50_ms}/${phase.by_trace.p95_ms} ms; file ${mb(dbAfter)} MB after checkpoint (WAL was ${mb(walBytes)} MB); RSS ${phase.rss_mb} MB`,
    );
    if (opts.experiments) {
      const experiments = await runExperiments(file, scratch, queries, queryVectors, exactUnf.kth, exactScope.kth);
      phase.experiments = experiments;
      for (const e of experiments) {
        console.log(
          `  [${e.name}] unfiltered ${e.unfiltered ? lat(e.unfiltered) : "–"} ms, by scope ${lat(e.by_scope)} ms${e.recall_at_k === null ? "" : `, recall@${K} ${e.recall_at_k}`}`,
        );
      }
    }
    phases.push(phase);
  }
  await store.close();
  const sqlite = versions(file);
  if (process.env.BENCH_KEEP === "1") console.log(`kept ${file}`);
  else rmSync(dir, { recursive: true, force: true });
  return {
    phases,
    query_embed: stats(qEmbed),
    query_text_collisions_avoided: collisions.n,
    distinct_stored_texts: storedDigests.size,
    sqlite,
  };
}

async function main(): Promise<void> {
  const started = Date.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const run = await runPhases({ sizes: SIZES, queries: QUERIES, experiments: true });
  const phases = run.phases;

  // Scope shares of what was stored (Zipf-like): the filtered scan's share of the index.
  const scopeShare = SCOPES.map((_, i) => (SCOPE_CDF[i]! - (SCOPE_CDF[i - 1] ?? 0)) * 100);

  const meta = {
    date: new Date(started).toISOString(),
    command: `npm run bench:memory${process.env.BENCH_SIZES ? ` (BENCH_SIZES=${process.env.BENCH_SIZES})` : ""}`,
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: { count: os.cpus().length, model: os.cpus()[0]?.model ?? "unknown", speed_mhz: os.cpus()[0]?.speed ?? 0 },
    total_memory_mb: mb(os.totalmem()),
    load_1m_at_start: round(loadAtStart, 2),
    load_1m_at_end: round(os.loadavg()[0] ?? 0, 2),
    sqlite: run.sqlite,
    better_sqlite3: (require("better-sqlite3/package.json") as { version: string }).version,
    total_seconds: 0,
  };
  const config = {
    store: "createSqliteStore(<temp file>) — journal_mode=WAL, synchronous default (FULL), busy_timeout=5000",
    embedder: `HashedNgramEmbeddings(${DIMENSIONS})`,
    k: K,
    queries_per_measurement: QUERIES,
    warmup_queries: WARMUP_QUERIES,
    scopes: SCOPES.length,
    scope_distribution: "Zipf-like, s = 0.8",
    scope_share_percent: { largest: round(scopeShare[0]!, 1), smallest: round(scopeShare[scopeShare.length - 1]!, 1) },
    vocabulary: { verbs: VERBS.length, nouns: NOUNS.length },
    repos: REPOS.length,
    previewed_share: 0.3,
    stored_text_chars_mean: 0,
    query_text_collisions_avoided: run.query_text_collisions_avoided,
    distinct_stored_texts: run.distinct_stored_texts,
  };
  const sampleW = new Words(prng(0x5eed));
  const samples = Array.from({ length: 1000 }, () => embeddedText(draftPr(sampleW)).length);
  config.stored_text_chars_mean = Math.round(samples.reduce((a, b) => a + b, 0) / samples.length);

  const targets = TARGETS.map((t) => {
    const p = phases.find((ph) => ph.size === t.size);
    return {
      size: t.size,
      target_p95_ms: t.p95_ms,
      unfiltered_p95_ms: p?.similar_unfiltered.p95_ms ?? null,
      unfiltered_met: p === undefined ? null : p.similar_unfiltered.p95_ms <= t.p95_ms,
      by_scope_p95_ms: p?.similar_by_scope.p95_ms ?? null,
      by_scope_met: p === undefined ? null : p.similar_by_scope.p95_ms <= t.p95_ms,
    };
  });
  meta.total_seconds = round((Date.now() - started) / 1000, 1);
  const out = {
    meta,
    config,
    query_embed: run.query_embed,
    phases,
    targets,
    peak_rss_mb: mb(peakRss()),
  };
  writeFileSync(path.join(here, "results-memory.json"), `${JSON.stringify(out, null, 2)}\n`);
  writeFileSync(path.join(here, "memory.md"), markdown(out));
  console.log(
    `\nwrote bench/results-memory.json and bench/memory.md in ${meta.total_seconds} s (peak RSS ${out.peak_rss_mb} MB)`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Experiments: what would close the gap, measured on the same vectors (not part of the store).

interface Experiment {
  name: string;
  what: string;
  build_s: number | null;
  /** null: not measured (the change does not affect unfiltered queries). */
  unfiltered: Stats | null;
  by_scope: Stats;
  /** Share of the returned top-k within the exact top-k distance (ties count); null: exact by construction, or not comparable. */
  recall_at_k: number | null;
}

/**
 * Variants run on the first EXPERIMENT_QUERIES queries, after the store's own measurement:
 * - the same store on a connection with mmap_size = 1 GiB (a connection setting, no schema change);
 * - vec0 with component_scope as a partition key (a filtered query scans that scope's chunks only);
 * - int8[512] vectors (vec_quantize_int8 'unit'), with recall against the exact float search;
 * - float[256] (the stored vectors cut to 256 dimensions and renormalised): latency only — a 256-dimension
 *   embedder makes different vectors, so recall against the 512-dimension neighbours means nothing.
 * The variant tables live in a scratch file (journal off), built from the state file by INSERT … SELECT, and
 * are queried with the same join to memory_prs as the store.
 */
async function runExperiments(
  file: string,
  scratch: string,
  queries: Draft[],
  vectors: number[][],
  kthUnf: number[],
  kthScope: number[],
): Promise<Experiment[]> {
  const n = Math.min(EXPERIMENT_QUERIES, queries.length);
  const out: Experiment[] = [];
  const time = async (run: (i: number) => Promise<unknown> | unknown) => {
    const t: number[] = [];
    for (let i = -WARMUP_QUERIES; i < n; i++) {
      const qi = (i + n) % n;
      const t0 = performance.now();
      await run(qi);
      if (i >= 0) t.push(performance.now() - t0);
    }
    return stats(t);
  };

  // mmap: the store itself, on a connection with the same settings plus mmap_size.
  {
    const db = new Database(file);
    db.pragma("busy_timeout = 5000");
    db.pragma("journal_mode = WAL");
    db.pragma(`mmap_size = ${1024 ** 3}`);
    const store = createSqliteStore(file, { db });
    await store.init(embedder.identity);
    const unfiltered = await time((i) => store.similar({ vector: vectors[i]!, k: K }));
    const byScope = await time((i) => store.similar({ vector: vectors[i]!, k: K, component_scope: queries[i]!.scope }));
    await store.close();
    db.close();
    out.push({
      name: "mmap",
      what: "same store, connection with PRAGMA mmap_size = 1 GiB",
      build_s: null,
      unfiltered,
      by_scope: byScope,
      recall_at_k: null,
    });
  }

  rmSync(scratch, { force: true });
  const db = new Database(scratch);
  try {
    sqliteVec.load(db);
    db.pragma("journal_mode = OFF");
    db.pragma("synchronous = OFF");
    db.prepare("ATTACH DATABASE ? AS m").run(file);
    const build = (sql: string[]) => {
      const t0 = performance.now();
      for (const statement of sql) db.exec(statement);
      return round((performance.now() - t0) / 1000);
    };
    const knn = (table: string, match: string, filtered: boolean) =>
      db.prepare(`
        SELECT p.key, v.rowid AS rowid, v.distance
        FROM (SELECT rowid, distance FROM ${table} WHERE embedding MATCH ${match} AND k = @k${filtered ? " AND component_scope = @scope" : ""}) v
        JOIN m.memory_prs p ON p.vec_rowid = v.rowid
        ORDER BY v.distance, p.key`);
    const trueDistance = db
      .prepare("SELECT vec_distance_cosine(embedding, ?) FROM m.memory_vectors WHERE rowid = ?")
      .pluck();
    const f32 = (i: number) => Float32Array.from(vectors[i]!);

    // Partition key: only filtered queries change; an unfiltered one scans every partition.
    const partitionBuild = build([
      "CREATE VIRTUAL TABLE x_part USING vec0(component_scope text partition key, embedding float[512] distance_metric=cosine)",
      "INSERT INTO x_part (rowid, component_scope, embedding) SELECT rowid, component_scope, embedding FROM m.memory_vectors",
    ]);
    const part = knn("x_part", "@q", true);
    out.push({
      name: "partition",
      what: "vec0 with component_scope as a partition key (float[512], exact)",
      build_s: partitionBuild,
      unfiltered: null,
      by_scope: await time((i) => part.all({ q: f32(i), k: K, scope: queries[i]!.scope })),
      recall_at_k: null,
    });
    db.exec("DROP TABLE x_part");

    // int8: a quarter of the bytes to read; approximate.
    const int8Build = build([
      "CREATE VIRTUAL TABLE x_int8 USING vec0(embedding int8[512] distance_metric=cosine, component_scope text)",
      "INSERT INTO x_int8 (rowid, embedding, component_scope) SELECT rowid, vec_quantize_int8(embedding, 'unit'), component_scope FROM m.memory_vectors",
    ]);
    const i8 = knn("x_int8", "vec_quantize_int8(@q, 'unit')", false);
    const i8s = knn("x_int8", "vec_quantize_int8(@q, 'unit')", true);
    let hits = 0;
    let total = 0;
    const recall = (rows: unknown[], i: number, kth: number[]) => {
      for (const row of rows as Array<{ rowid: number | bigint }>) {
        const d = trueDistance.get(f32(i), BigInt(row.rowid)) as number;
        if (d <= kth[i]! + 1e-6) hits++;
      }
      total += K;
    };
    const int8Unf = await time((i) => i8.all({ q: f32(i), k: K }));
    const int8Scope = await time((i) => i8s.all({ q: f32(i), k: K, scope: queries[i]!.scope }));
    for (let i = 0; i < n; i++) {
      recall(i8.all({ q: f32(i), k: K }), i, kthUnf);
      recall(i8s.all({ q: f32(i), k: K, scope: queries[i]!.scope }), i, kthScope);
    }
    out.push({
      name: "int8",
      what: "int8[512] vectors (vec_quantize_int8 'unit'), cosine",
      build_s: int8Build,
      unfiltered: int8Unf,
      by_scope: int8Scope,
      recall_at_k: round(hits / total),
    });
    db.exec("DROP TABLE x_int8");

    // 256 dimensions: latency only.
    const d256Build = build([
      "CREATE VIRTUAL TABLE x_d256 USING vec0(embedding float[256] distance_metric=cosine, component_scope text)",
      "INSERT INTO x_d256 (rowid, embedding, component_scope) SELECT rowid, vec_normalize(vec_slice(embedding, 0, 256)), component_scope FROM m.memory_vectors",
    ]);
    const d = knn("x_d256", "vec_normalize(@q)", false);
    const ds = knn("x_d256", "vec_normalize(@q)", true);
    const cut = (i: number) => Float32Array.from(vectors[i]!.slice(0, 256));
    out.push({
      name: "dims256",
      what: "float[256] (latency only: stored vectors cut to 256 dimensions)",
      build_s: d256Build,
      unfiltered: await time((i) => d.all({ q: cut(i), k: K })),
      by_scope: await time((i) => ds.all({ q: cut(i), k: K, scope: queries[i]!.scope })),
      recall_at_k: null,
    });
    db.exec("DROP TABLE x_d256");
  } finally {
    db.close();
    rmSync(scratch, { force: true });
  }
  return out;
}

function versions(file: string): {
  sqlite: string;
  sqlite_vec: string;
  page_size: number;
  synchronous: number;
  journal_mode: string;
} {
  const db = new Database(path.join(path.dirname(file), "versions.db"));
  try {
    sqliteVec.load(db);
    const v = db.prepare("SELECT sqlite_version() AS sqlite, vec_version() AS vec").get() as {
      sqlite: string;
      vec: string;
    };
    db.pragma("journal_mode = WAL");
    return {
      sqlite: v.sqlite,
      sqlite_vec: v.vec,
      page_size: db.pragma("page_size", { simple: true }) as number,
      synchronous: db.pragma("synchronous", { simple: true }) as number,
      journal_mode: db.pragma("journal_mode", { simple: true }) as string,
    };
  } finally {
    db.close();
  }
}

// ---------------------------------------------------------------------------------------------------------
// Report.

type Out = {
  meta: {
    date: string;
    command: string;
    node: string;
    platform: string;
    cpus: { count: number; model: string; speed_mhz: number };
    total_memory_mb: number;
    load_1m_at_start: number;
    load_1m_at_end: number;
    sqlite: ReturnType<typeof versions>;
    better_sqlite3: string;
    total_seconds: number;
  };
  config: {
    scope_share_percent: { largest: number; smallest: number };
    stored_text_chars_mean: number;
    vocabulary: { verbs: number; nouns: number };
  };
  query_embed: Stats;
  phases: Phase[];
  targets: Array<{
    size: number;
    target_p95_ms: number;
    unfiltered_p95_ms: number | null;
    unfiltered_met: boolean | null;
    by_scope_p95_ms: number | null;
    by_scope_met: boolean | null;
  }>;
  peak_rss_mb: number;
};

const k = (n: number) => (n >= 1000 ? `${n / 1000}k` : String(n));
const lat = (s: Stats) => `${s.p50_ms} / ${s.p95_ms} / ${s.max_ms}`;
const verdict = (met: boolean | null) => (met === null ? "not measured" : met ? "**met**" : "**not met**");

function experimentsSection(out: Out): string[] {
  const withExp = out.phases.filter((p) => p.experiments !== undefined && p.experiments.length > 0);
  if (withExp.length === 0) return [];
  const lines = [
    "## Variants (measured on the same vectors)",
    "",
    `The first ${Math.min(EXPERIMENT_QUERIES, QUERIES)} queries of each phase against variants; the store's default is the first row. ` +
      "mmap: the store on a connection with `PRAGMA mmap_size = 1 GiB` (searching on that thread). The others are vec0 tables in a scratch file built from the state file's vectors and queried " +
      "with the same join to memory_prs: partition = `component_scope text partition key` (float[512], exact; unfiltered queries unchanged, so not measured); " +
      "int8 = `int8[512]` from `vec_quantize_int8(v, 'unit')` (recall@5 = share of its top 5 within the exact top-5 distance); " +
      "dims256 = the vectors cut to 256 dimensions and renormalised — latency only, since a 256-dimension embedder makes different vectors. p50 / p95 / max ms.",
    "",
    "| stored PRs | variant | unfiltered | by scope | recall@5 | build s |",
    "|---:|---|---:|---:|---:|---:|",
  ];
  for (const p of withExp) {
    lines.push(
      `| ${k(p.size)} | store as is | ${lat(p.similar_unfiltered)} | ${lat(p.similar_by_scope)} | ${p.recall_at_k ? `${p.recall_at_k.unfiltered} / ${p.recall_at_k.by_scope}` : "exact"} | – |`,
    );
    for (const e of p.experiments!) {
      lines.push(
        `| ${k(p.size)} | ${e.name} | ${e.unfiltered ? lat(e.unfiltered) : "–"} | ${lat(e.by_scope)} | ${e.recall_at_k ?? (e.name === "dims256" ? "n/a" : "exact")} | ${e.build_s ?? "–"} |`,
      );
    }
  }
  lines.push("");
  return lines;
}

function analysis(out: Out): string[] {
  const { phases } = out;
  const at = (n: number) => phases.find((p) => p.size === n);
  const exp = (p: Phase | undefined, name: string) => p?.experiments?.find((e) => e.name === name);
  const lines = ["## Analysis", ""];
  const last = phases[phases.length - 1]!;

  // Verdict, and why this index.
  const verdicts = out.targets.map(
    (t) =>
      `at ${k(t.size)} the unfiltered top-5 p95 is ${t.unfiltered_p95_ms} ms against ≤ ${t.target_p95_ms} ms (${verdict(t.unfiltered_met)}) and the scope-filtered p95 ${t.by_scope_p95_ms} ms (${verdict(t.by_scope_met)})`,
  );
  lines.push(`**Targets.** ${verdicts.join("; ")}.`, "");
  const rows = phases
    .filter((p) => p.exact && p.recall_at_k)
    .map(
      (p) =>
        `${k(p.size)}: unfiltered p95 ${p.exact!.unfiltered.p95_ms} → ${p.similar_unfiltered.p95_ms} ms, by scope ${p.exact!.by_scope.p95_ms} → ${p.similar_by_scope.p95_ms} ms, recall@5 ${p.recall_at_k!.unfiltered} / ${p.recall_at_k!.by_scope}`,
    );
  const i8 = (p: Phase | undefined) => exp(p, "int8");
  lines.push(
    "**What the store does.** Exact search is O(n·d): every query computes the cosine distance to every stored vector in its filter (at 100k, 195 MB " +
      "of float32 read and multiplied for an unfiltered query; sqlite-vec's cosine is a scalar loop). A scope filter as a vec0 metadata column skipped " +
      "the distances of other scopes but still read every chunk. The store now keeps the vectors twice: in `memory_vec`, a vec0 table with " +
      "`component_scope text partition key` (chunks of 256), which a query with a scope — the agent's usual one: `PrMemory.recall` asks its scope (and repo) " +
      "first, `nearest` always — reads alone, so its cost follows the scope's size, not the memory's; and unpartitioned in `memory_vectors` for queries " +
      "without a scope (a partitioned table serves those slower: it walks every partition's chunks). Both exact: recall 1. The search runs on a " +
      "read-only connection in a worker thread once the memory holds 2,000 records (the thread starts then, warm), so the event loop is not blocked " +
      `however large the memory grows. Inline → the store, same queries: ${rows.join("; ")}.`,
    "",
    "**Why partitioning, and not an approximate index.** " +
      [at(10_000), at(100_000)]
        .filter((p): p is Phase => p !== undefined)
        .map((p) => {
          const q = i8(p);
          return `At ${k(p.size)}: int8 quantisation ${q ? `${q.unfiltered?.p95_ms ?? "–"} / ${q.by_scope.p95_ms} ms p95 (unfiltered / by scope) at recall@5 ${q.recall_at_k}` : "–"}, a quarter of the bytes but still a scalar cosine over every vector`;
        })
        .join(". ") +
      ". Binary quantisation (`bit[512]`, Hamming distance, the candidates re-ranked by exact cosine; measured while choosing, on a busy machine at load 6–8) reached recall@5 0.72 / 0.79 / 0.92 / 0.97 with 100 / 200 / " +
      "800 / 1,600 candidates at 100k on these vectors (0.87–1 at 10k): the hashed n-gram embedder's signs carry too little of the angle for " +
      "a few candidates, and re-ranking 800+ candidates read from the state file cost more than the partitioned exact scan of a scope. sqlite-vec 0.1.9 " +
      "also spends ≈ 10× longer per KNN on a partitioned bit table, and keeping float vectors in memory_prs rows for re-ranking made exact scans 3–10× " +
      "slower (a page per row) and the file 45% larger. So the store stays exact and makes the agent's query cheap; an unfiltered query over a very " +
      "large memory is what Qdrant's HNSW is for.",
    "",
  );

  // Inserts and size.
  const single = phases.filter((p) => p.fill.mode === "one-by-one");
  const batched = phases.filter((p) => p.fill.mode === "batched");
  lines.push(
    `**Inserts.** One upsert per record, each its own \`BEGIN IMMEDIATE\` transaction and WAL commit (synchronous FULL: an fsync per commit): ${single
      .map((p) => `${p.fill.store_per_s} upserts/s (p95 ${p.fill.upsert.p95_ms} ms) filling to ${k(p.size)}`)
      .join(
        ", ",
      )}; embedding runs at ${Math.min(...phases.map((p) => p.fill.embed_per_s))}–${Math.max(...phases.map((p) => p.fill.embed_per_s))} texts/s, so storing takes about ${round(
      (single[single.length - 1] ?? last).fill.store_s / (single[single.length - 1] ?? last).fill.embed_s,
      1,
    )}× the embedding time. The upsert p50 (${phases.map((p) => p.fill.upsert.p50_ms).join(" / ")} ms) shows this VM's fsync is cheap; a slower disk adds its fsync time to every upsert. ` +
      (batched.length > 0
        ? `Phases filled in transactions of ${BATCH} upserts (labelled batched: ${batched.map((p) => k(p.size)).join(", ")}) are not the agent's per-PR rate. `
        : "Every phase was filled one upsert at a time, as the agent does. ") +
      "At the agent's pace (one PR per run) the insert cost is irrelevant; bulk imports (src/memory/import.ts) would gain from one transaction per batch.",
    "",
    `**Size.** ${phases.map((p) => `${Math.round(p.file.bytes_per_1k_prs / 1024)} KiB per 1k PRs at ${k(p.size)}`).join(", ")} (file + WAL after a TRUNCATE checkpoint). ` +
      "About 4 MiB of that is the float32 vectors, stored twice (1k × 512 × 4 B in the unpartitioned table and again in the scope-partitioned one, which " +
      "allocates whole chunks of 256 per scope: at 1k PRs over 20 scopes most of those chunks are empty, hence the larger figure there), the rest the rows " +
      "(≈ 0.5 KB of prose each), their five indexes and vec0's metadata; before the partitioned table the figure was ≈ 3 MiB per 1k PRs. " +
      `Before the checkpoint the WAL held ${phases.map((p) => mb(p.file.wal_bytes)).join(" / ")} MB on top (SQLite's automatic checkpoint at 1000 pages keeps it from growing further).`,
    "",
    `**byTrace** is an index look-up (memory_prs_trace_id) and stays flat: p95 ${phases.map((p) => `${p.by_trace.p95_ms} ms at ${k(p.size)}`).join(", ")}.`,
    "",
    `**Memory.** RSS after each phase: ${phases.map((p) => `${p.rss_mb} MB at ${k(p.size)}`).join(", ")}; peak ${last.peak_rss_mb} MB before the last phase's experiments, ${out.peak_rss_mb} MB for the whole run including them ` +
      "(the mmap variant maps the whole state file, and mapped pages count in RSS). " +
      `The store keeps no vectors in the JS heap and SQLite's page cache is 2 MiB by default; of the ${round(last.rss_mb - phases[0]!.rss_mb, 0)} MB RSS growth from ${k(phases[0]!.size)} to ${k(last.size)} part is this benchmark's own bookkeeping (a digest and a trace id per stored record), and most of the baseline is Node with the modules loaded.`,
    "",
  );
  return lines;
}

function markdown(out: Out): string {
  const { meta, phases } = out;
  const lines: string[] = [];
  lines.push(
    "# Memory benchmark (`npm run bench:memory`)",
    "",
    "The embedded memory store — `createSqliteStore` (better-sqlite3 + sqlite-vec, exact KNN: a `vec0` table partitioned by scope for a query with a scope, " +
      "an unpartitioned one otherwise, queried from a reader thread once large) on a fresh temp state file with the store's own settings " +
      `(WAL, default synchronous = ${meta.sqlite.synchronous === 2 ? "FULL" : meta.sqlite.synchronous}, busy_timeout 5000) — filled with realistic PR records ` +
      `(titles and summary/purpose/highlights prose from ${SCOPES.length} component scopes, ${out.config.vocabulary.verbs} verbs and ${out.config.vocabulary.nouns} nouns; ` +
      `≈ ${out.config.stored_text_chars_mean} characters embedded per record; scopes Zipf-distributed, the largest holding ${out.config.scope_share_percent.largest}% of PRs, the smallest ${out.config.scope_share_percent.smallest}%; ` +
      `30% of traces previewed before creation, so a trace holds 1–2 records), embedded with \`HashedNgramEmbeddings(${DIMENSIONS})\` exactly as \`PrMemory.remember\` does. See the header of bench/memory.ts.`,
    "",
    "```sh",
    "npm run bench:memory    # writes bench/results-memory.json and this file",
    "```",
    "",
    `Measured ${meta.date} with \`${meta.command}\` on ${meta.cpus.count} × ${meta.cpus.model}${meta.cpus.speed_mhz > 0 ? ` (${meta.cpus.speed_mhz} MHz)` : ""}, ${round(meta.total_memory_mb / 1024, 1)} GB RAM, ` +
      `${meta.platform}, Node ${meta.node}, SQLite ${meta.sqlite.sqlite}, sqlite-vec ${meta.sqlite.sqlite_vec}, better-sqlite3 ${meta.better_sqlite3}; ` +
      `page size ${meta.sqlite.page_size}. Wall time ${meta.total_seconds} s; 1-minute load average ${meta.load_1m_at_start} at the start, ${meta.load_1m_at_end} at the end (${meta.cpus.count} CPUs; other work on the machine inflates the tails).`,
    "",
    "## Inserts",
    "",
    "Each phase fills the store from the previous size up to the next. “embed” is `HashedNgramEmbeddings.embedQuery(title + text)`, “store” is `store.upsert` " +
      "(one `BEGIN IMMEDIATE` transaction and one WAL commit per record when one-by-one); “total” is both in sequence, as the agent does.",
    "",
    "| phase | fill | records | embed rec/s | store rec/s | total rec/s | embed s | store s | upsert p50 / p95 / max ms |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|",
  );
  let prev = 0;
  for (const p of phases) {
    const f = p.fill;
    lines.push(
      `| ${k(prev)} → ${k(p.size)} | ${f.mode} | ${f.records} | ${f.embed_per_s} | ${f.store_per_s} | ${f.total_per_s} | ${f.embed_s} | ${f.store_s} | ${lat(f.upsert)} |`,
    );
    prev = p.size;
  }
  lines.push(
    "",
    "## Queries",
    "",
    `Top-${K} \`similar()\` with a precomputed query vector (query embedding alone: p50 ${out.query_embed.p50_ms} ms, p95 ${out.query_embed.p95_ms} ms), ` +
      `${phases[0]?.similar_unfiltered.n ?? QUERIES} distinct query texts (none equal to a stored text) after ${WARMUP_QUERIES} warm-up queries; ` +
      "“by scope” adds `component_scope = <the query's scope>` (a vec0 metadata filter, as `PrMemory.recall` and `nearest` use first). byTrace: the same number of look-ups of random stored traces. " +
      'Latencies are p50 / p95 / max in ms. “inline” is the same queries with `reader: "inline"`: the same search on the calling thread (what the event loop ' +
      "would be blocked for); recall@5 is the share of the store's top 5 within the inline top-5 distance (ties count; 1 = both exact). ".trim(),
    "",
    "| stored PRs | similar unfiltered | similar by scope | recall@5 unfiltered / by scope | inline: unfiltered | inline: by scope | byTrace |",
    "|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const p of phases) {
    lines.push(
      `| ${k(p.size)} | ${lat(p.similar_unfiltered)} | ${lat(p.similar_by_scope)} | ${p.recall_at_k ? `${p.recall_at_k.unfiltered} / ${p.recall_at_k.by_scope}` : "exact"} | ` +
        `${p.exact ? lat(p.exact.unfiltered) : "–"} | ${p.exact ? lat(p.exact.by_scope) : "–"} | ${lat(p.by_trace)} |`,
    );
  }
  lines.push(
    "",
    "| stored PRs | file + WAL after checkpoint MB | bytes per 1k PRs | WAL before checkpoint MB | RSS MB | peak RSS MB |",
    "|---:|---:|---:|---:|---:|---:|",
  );
  for (const p of phases) {
    lines.push(
      `| ${k(p.size)} | ${mb(p.file.db_bytes_after_checkpoint + p.file.wal_bytes_after_checkpoint)} | ` +
        `${Math.round(p.file.bytes_per_1k_prs / 1024)} KiB | ${mb(p.file.wal_bytes)} | ${p.rss_mb} | ${p.peak_rss_mb} |`,
    );
  }
  const sane = phases.every(
    (p) =>
      p.similar_unfiltered.results_per_query_min === K &&
      p.similar_by_scope.results_per_query_min === K &&
      p.similar_by_scope.out_of_scope_results === 0,
  );
  lines.push(
    "",
    sane
      ? `Every query returned ${K} results, and every filtered result was of the query's scope.`
      : "**Some queries returned fewer than k results or results of another scope — see results-memory.json.**",
    "",
    "## Targets",
    "",
    "| stored PRs | target top-5 p95 | unfiltered p95 | | by scope p95 | |",
    "|---:|---:|---:|---|---:|---|",
  );
  for (const t of out.targets) {
    lines.push(
      `| ${k(t.size)} | ≤ ${t.target_p95_ms} ms | ${t.unfiltered_p95_ms ?? "–"} ms | ${verdict(t.unfiltered_met)} | ${t.by_scope_p95_ms ?? "–"} ms | ${verdict(t.by_scope_met)} |`,
    );
  }
  lines.push(
    "",
    `Peak RSS: ${phases[phases.length - 1]?.peak_rss_mb ?? "–"} MB through the last phase's measurements, ${out.peak_rss_mb} MB for the whole run including the experiments below (the per-phase column is the peak so far, taken before that phase's experiments).`,
    "",
  );
  lines.push(...experimentsSection(out), ...analysis(out));
  return `${lines.join("\n")}\n`;
}

/** Run only as a script (npm run bench:memory), not when bench/index.ts imports runPhases. */
const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.env.BENCH_REPORT_ONLY === "1") {
  const saved = JSON.parse(readFileSync(path.join(here, "results-memory.json"), "utf8")) as Out;
  writeFileSync(path.join(here, "memory.md"), markdown(saved));
  console.log("wrote bench/memory.md from bench/results-memory.json");
} else if (isMain) {
  await main();
}
