/**
 * PostgreSQL memory benchmark (not a test): createPostgresStore scores in this process, so a search's cost is
 * the rows its filters select. Fills one scope of one repository with 1k, then 10k PRs (512-dimension unit
 * vectors, as HashedNgramEmbeddings makes) and times top-5 similar() within that scope, and without a filter:
 * the first search of a store that has not seen the scope (cold: the scope's vectors read whole), then searches
 * with its vectors cached (each refreshed with the rows written since, none here).
 *
 *   node --import tsx bench/memory-postgres.ts     # ≈ 1 minute; writes bench/results-memory-postgres.json
 *
 * The server: BENCH_DATABASE_URL (a database it may fill), else a throwaway cluster from .ci/postgres.sh on
 * 127.0.0.1 (fsync off, as in the tests). BENCH_SIZES=1000,10000, BENCH_QUERIES=50.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createPostgresStore } from "../src/memory/postgres-store.js";
import type { PrRecord } from "../src/memory/store.js";
import { openDatabase } from "../src/postgres/database.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const SIZES = (process.env.BENCH_SIZES ?? "1000,10000").split(",").map((s) => Number(s.trim()));
const QUERIES = Number(process.env.BENCH_QUERIES ?? 50);
const DIMENSIONS = 512;

/** Deterministic pseudo-random numbers (mulberry32). */
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
const random = prng(42);
const vector = () => Array.from({ length: DIMENSIONS }, () => random() - 0.5);

function record(i: number): PrRecord {
  const at = new Date(Date.UTC(2026, 0, 1) + i * 60_000).toISOString();
  return {
    repo: "OrderService",
    pr_id: String(i),
    url: `https://forge/pr/${i}`,
    forge: "github",
    status: "created",
    trace_id: `trace-${i}`,
    blueprint_id: "usecase-create-order",
    component_scope: "Order",
    commit_hash: i.toString(16).padStart(7, "0"),
    source_branch: `feature/pr-${i}`,
    target_branch: "dev",
    title: `feat(order): change number ${i} [trace:${i}]`,
    text: `Summary of change ${i}: the order handler validates carts and records the outcome. `.repeat(4),
    created_at: at,
    updated_at: at,
  };
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

async function server(): Promise<{ url: string; stop: () => void }> {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, stop: () => {} };
  const dir = mkdtempSync(path.join(os.tmpdir(), "bench-pg-"));
  chmodSync(dir, 0o755);
  const script = path.join(here, "..", ".ci", "postgres.sh");
  const url = execFileSync("bash", [script, "start", path.join(dir, "pg")], { encoding: "utf8" }).trim();
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query("CREATE DATABASE bench_memory");
  await admin.end();
  const parsed = new URL(url);
  parsed.pathname = "/bench_memory";
  return {
    url: parsed.toString(),
    stop: () => {
      execFileSync("bash", [script, "stop", path.join(dir, "pg")]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function main(): Promise<void> {
  const loadAtStart = +os.loadavg()[0]!.toFixed(1);
  const { url, stop } = await server();
  const db = await openDatabase(url, { max: 4 });
  const store = createPostgresStore(db);
  await store.init({ name: "hashed-ngram", version: "1", dimensions: DIMENSIONS });
  const results: Array<Record<string, number>> = [];
  let filled = 0;
  try {
    for (const size of SIZES) {
      const started = performance.now();
      for (; filled < size; filled++) await store.upsert(record(filled), vector());
      const fillMs = performance.now() - started;
      const timed = async (scope: boolean) => {
        const times: number[] = [];
        for (let q = 0; q < QUERIES; q++) {
          const v = vector();
          const t = performance.now();
          await store.similar({
            vector: v,
            k: 5,
            ...(scope ? { repo: "OrderService", component_scope: "Order" } : {}),
          });
          times.push(performance.now() - t);
        }
        times.sort((a, b) => a - b);
        return { p50: percentile(times, 0.5), p95: percentile(times, 0.95) };
      };
      // A store that has not searched this scope yet (a new worker) reads the scope's vectors whole.
      const fresh = createPostgresStore(db);
      await fresh.init({ name: "hashed-ngram", version: "1", dimensions: DIMENSIONS });
      const coldStart = performance.now();
      await fresh.similar({ vector: vector(), k: 5, repo: "OrderService", component_scope: "Order" });
      const coldMs = performance.now() - coldStart;
      await fresh.close();
      const scoped = await timed(true);
      const all = await timed(false);
      const row = {
        rows_in_scope: size,
        upsert_per_s: Math.round(((size - (results.at(-1)?.rows_in_scope ?? 0)) / fillMs) * 1000),
        scoped_cold_ms: +coldMs.toFixed(1),
        scoped_p50_ms: +scoped.p50.toFixed(1),
        scoped_p95_ms: +scoped.p95.toFixed(1),
        unfiltered_p50_ms: +all.p50.toFixed(1),
        unfiltered_p95_ms: +all.p95.toFixed(1),
      };
      results.push(row);
      console.log(JSON.stringify(row));
    }
  } finally {
    await store.close();
    await db.close();
    stop();
  }
  writeFileSync(
    path.join(here, "results-memory-postgres.json"),
    `${JSON.stringify(
      {
        measured_at: new Date().toISOString(),
        cores: os.cpus().length,
        load_average_at_start: loadAtStart,
        dimensions: DIMENSIONS,
        queries: QUERIES,
        results,
      },
      null,
      2,
    )}\n`,
  );
}

await main();
