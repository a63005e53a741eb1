/**
 * Scale-out benchmark (not a test): the built CLI's `serve` (two replicas) and `worker` processes on one
 * PostgreSQL database, against the GitHub emulator at 50 ms per request, deterministic drafter.
 *
 *   npm run bench:scale    # ≈ 15 min on 2 busy cores; writes bench/results/scale.json
 *
 * 1. Scaling curve: BENCH_SCALE_EVENTS (200) events over 50 branches with 1, 2 and 4 worker processes of
 *    BENCH_SCALE_CONCURRENCY (4) runs each, BENCH_SCALE_LATENCY_MS (50) per forge request: runs per second from
 *    the first POST to the last run settled, and the workers' CPU per run (what bounds throughput on busy cores).
 * 2. Issue 14's burst: BENCH_BURST_EVENTS (1,000) events over 50 branches, 4 workers of 13 runs each (52 slots
 *    for 50 PRs), one worker killed with -9 once half the runs are done: lost runs, duplicate PRs, PRs not
 *    announced exactly once, overlapping and reordered runs of one PR (all must be 0), throughput, and the
 *    time from the kill to the last of the killed worker's runs starting again on another worker.
 *
 * The database: PR_CREATOR_TEST_DATABASE_URL when set, else a throwaway cluster from .ci/postgres.sh; each
 * scenario gets a fresh database. dist/ is rebuilt first (the processes run the built CLI).
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { runLoad, type LoadReport } from "../test/integration/postgres-load.js";

const run = promisify(execFile);
const here = path.dirname(fileURLToPath(import.meta.url));
const project = path.resolve(here, "..");
const LATENCY_MS = 50;
const BRANCHES = 50;
const SCALE_EVENTS = Number(process.env.BENCH_SCALE_EVENTS ?? 200);
const SCALE_CONCURRENCY = Number(process.env.BENCH_SCALE_CONCURRENCY ?? 4);
const SCALE_LATENCY_MS = Number(process.env.BENCH_SCALE_LATENCY_MS ?? LATENCY_MS);
const BURST_EVENTS = Number(process.env.BENCH_BURST_EVENTS ?? 1000);

/**
 * Builds the CLI into a folder of its own (package.json, node_modules and src/ linked from the checkout), so a
 * rebuild of dist/ while the benchmark runs cannot break its processes; the fleet runs that build.
 */
async function build(): Promise<() => void> {
  const app = mkdtempSync(path.join(os.tmpdir(), "pr-creator-bench-app-"));
  for (const name of ["package.json", "node_modules", "src"])
    symlinkSync(path.join(project, name), path.join(app, name));
  const tsc = path.join(project, "node_modules", "typescript", "bin", "tsc");
  // Type errors alone still emit (as in the test setup); anything else stops the benchmark.
  await run(process.execPath, [tsc, "-p", "tsconfig.build.json", "--outDir", path.join(app, "dist")], {
    cwd: project,
  }).catch((error: unknown) => {
    const { stdout = "" } = error as { stdout?: string };
    if (!stdout.split("\n").every((l) => l.trim() === "" || /error TS\d+/.test(l) || /^\s/.test(l))) throw error;
  });
  process.env.PR_CREATOR_FLEET_CLI = path.join(app, "dist", "cli", "main.js");
  return () => rmSync(app, { recursive: true, force: true });
}

async function server(): Promise<{ url: string; stop: () => Promise<void> }> {
  const given = process.env.PR_CREATOR_TEST_DATABASE_URL;
  if (given) return { url: given, stop: async () => undefined };
  const dir = mkdtempSync(path.join(os.tmpdir(), "pr-creator-bench-pg-"));
  chmodSync(dir, 0o755);
  const script = path.join(project, ".ci", "postgres.sh");
  const { stdout } = await run("bash", [script, "start", path.join(dir, "pg")], { timeout: 120_000 });
  return {
    url: stdout.trim(),
    stop: async () => {
      await run("bash", [script, "stop", path.join(dir, "pg")]).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function withDatabase<T>(serverUrl: string, name: string, work: (url: string) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  try {
    return await work(url.toString());
  } finally {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }
}

const show = (r: LoadReport) =>
  `${r.events} events: ${r.runsPerSecond} runs/s (${(r.elapsedMs / 1000).toFixed(1)} s), worker CPU ${Math.round(r.workerCpuMs / r.events)} ms/run, lost ${r.lost}, duplicate PRs ${r.duplicatePrs}, creates ${r.creates}, not announced once ${r.prsNotAnnouncedOnce}, overlaps ${r.overlaps}, reordered ${r.reordered}, restarted ${r.restarted}${r.deathToRerunMs === null ? "" : `, death → rerun ${r.deathToRerunMs} ms`}`;

async function main(): Promise<void> {
  const removeBuild = await build();
  const pgServer = await server();
  const results: Record<string, unknown> = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    latency_ms: LATENCY_MS,
    scaling_latency_ms: SCALE_LATENCY_MS,
    load_average_at_start: os.loadavg().map((l) => Number(l.toFixed(1))),
    branches: BRANCHES,
  };
  try {
    const curve: Array<{ workers: number; concurrency: number; report: LoadReport }> = [];
    for (const workers of [1, 2, 4]) {
      const report = await withDatabase(pgServer.url, `bench_scale_${workers}`, (url) =>
        runLoad({
          databaseUrl: url,
          events: SCALE_EVENTS,
          branches: BRANCHES,
          workers,
          concurrency: SCALE_CONCURRENCY,
          latencyMs: SCALE_LATENCY_MS,
          boundMs: 900_000,
        }),
      );
      console.log(`${workers} worker${workers === 1 ? "" : "s"} × ${SCALE_CONCURRENCY}: ${show(report)}`);
      curve.push({ workers, concurrency: SCALE_CONCURRENCY, report });
    }
    const base = curve[0]!.report.runsPerSecond;
    results.scaling = curve.map((c) => ({
      workers: c.workers,
      concurrency: c.concurrency,
      runs_per_second: c.report.runsPerSecond,
      speedup: Number((c.report.runsPerSecond / base).toFixed(2)),
      elapsed_ms: c.report.elapsedMs,
      // CPU the workers spent per run: on a machine whose cores are busy, this is what bounds throughput.
      worker_cpu_ms_per_run: Math.round(c.report.workerCpuMs / c.report.events),
      serve_cpu_ms_per_run: Math.round(c.report.serveCpuMs / c.report.events),
      lost: c.report.lost,
      duplicate_prs: c.report.duplicatePrs,
      overlaps: c.report.overlaps,
    }));

    const burst = await withDatabase(pgServer.url, "bench_scale_burst", (url) =>
      runLoad({
        databaseUrl: url,
        events: BURST_EVENTS,
        branches: BRANCHES,
        workers: 4,
        concurrency: 13,
        latencyMs: LATENCY_MS,
        killAt: 0.5,
        submitConcurrency: 32,
        boundMs: 1_800_000,
      }),
    );
    console.log(`burst, 4 workers × 13, one killed -9 midway: ${show(burst)}`);
    results.burst = { workers: 4, concurrency: 13, killed_at: 0.5, ...burst };
  } finally {
    await pgServer.stop();
    removeBuild();
  }
  mkdirSync(path.join(here, "results"), { recursive: true });
  writeFileSync(path.join(here, "results", "scale.json"), `${JSON.stringify(results, null, 2)}\n`);
  console.log("wrote bench/results/scale.json");
}

await main();
