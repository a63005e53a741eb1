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
 *    time from the kill to the last of the killed worker's runs starting again on another worker (which
 *    includes waiting for a free slot: the fleet is busy).
 * 3. Death to rerun with a free worker: one run held inside its publish step (its labels request never
 *    answered) on worker A, an idle worker B, A killed with -9: time until B starts the run, BENCH_RERUNS (5)
 *    times. This is the sweeper's cost: its 1 s interval, the 2 s grace on a job lock, B's pick-up.
 *
 * BENCH_SCALE_SCENARIOS=curve,burst,rerun (the default: all) picks scenarios; the others keep their figures
 * from an earlier bench/results/scale.json.
 *
 * The database: PR_CREATOR_TEST_DATABASE_URL when set, else a throwaway cluster from .ci/postgres.sh; each
 * scenario gets a fresh database. dist/ is rebuilt first (the processes run the built CLI).
 */
import { execFile } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import pg from "pg";
import {
  call,
  commitOn,
  spawnServe,
  spawnWorker,
  startFleet,
  stop,
  until,
} from "../test/integration/postgres-fleet.js";
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
const RERUNS = Number(process.env.BENCH_RERUNS ?? 5);
const SCENARIOS = new Set((process.env.BENCH_SCALE_SCENARIOS ?? "curve,burst,rerun").split(","));

/** Scenario 3: ms from killing the worker that holds a run to another, idle worker starting it, per try. */
async function deathToRerun(databaseUrl: string, tries: number): Promise<number[]> {
  const fleet = await startFleet(databaseUrl, { latencyMs: LATENCY_MS });
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  const serve = await spawnServe(fleet);
  const times: number[] = [];
  try {
    for (let i = 0; i < tries; i += 1) {
      const holder = await spawnWorker(fleet, 1);
      fleet.gh.inject("issues.addLabels", { hang: true }, 1);
      const event = commitOn(fleet, `feature/rerun-${i}`, 50_000 + i);
      const runId = ((await call(serve.base, "POST", "/v1/events", { body: event })).body as { run_id: string }).run_id;
      await until(
        async () => fleet.gh.requests.filter((r) => r.route === "issues.addLabels" && r.status === "hang").length,
        (n) => n === i + 1,
        "the run to hang in its publish step",
      );
      const spare = await spawnWorker(fleet, 1);
      const killedAt = Date.now();
      holder.child.kill("SIGKILL");
      await holder.exited;
      const restarted = await until(
        async () =>
          (
            await db.query<{ started_at: string; attempts: number }>(
              "SELECT started_at, attempts FROM pr_creator.runs WHERE run_id = $1",
              [runId],
            )
          ).rows[0]!,
        (r) => r.attempts === 2,
        "the run to start again",
      );
      times.push(Date.parse(restarted.started_at) - killedAt);
      await until(
        async () =>
          (await db.query("SELECT 1 FROM pr_creator.runs WHERE run_id = $1 AND status = 'done'", [runId])).rowCount,
        (n) => n === 1,
        "the run to finish",
      );
      await stop(spare);
    }
  } finally {
    await stop(serve);
    await db.end();
    await fleet.gh.close();
  }
  return times;
}

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
  // The executable is the bundle, as `npm run build` makes it.
  const bundle = path.join(project, "scripts", "bundle.mjs");
  await run(process.execPath, [bundle, "--outdir", path.join(app, "dist", "cli")], { cwd: project });
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
  `${r.events} events: ${r.runsPerSecond} runs/s (${(r.elapsedMs / 1000).toFixed(1)} s), worker CPU ${Math.round(r.workerCpuMs / r.events)} ms/run, lost ${r.lost}, duplicate PRs ${r.duplicatePrs}, creates ${r.creates}, not announced once ${r.prsNotAnnouncedOnce}, overlaps ${r.overlaps}, reordered ${r.reordered}, restarted ${r.restarted}${r.deathToRerunMs.length === 0 ? "" : `, death → rerun ${r.deathToRerunMs.join(", ")} ms`}`;

async function main(): Promise<void> {
  const removeBuild = await build();
  const pgServer = await server();
  const file = path.join(here, "results", "scale.json");
  const earlier = existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>) : {};
  const results: Record<string, unknown> = {
    ...earlier,
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    latency_ms: LATENCY_MS,
    scaling_latency_ms: SCALE_LATENCY_MS,
    branches: BRANCHES,
  };
  try {
    const load = () => os.loadavg().map((l) => Number(l.toFixed(1)));
    // The machine's load when the scaling curve started (other work on shared cores bounds the throughput).
    if (SCENARIOS.has("curve")) results.load_average_at_start = load();
    const curve: Array<{ workers: number; concurrency: number; report: LoadReport }> = [];
    for (const workers of SCENARIOS.has("curve") ? [1, 2, 4] : []) {
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
    const base = curve[0]?.report.runsPerSecond ?? 0;
    if (curve.length > 0)
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

    if (SCENARIOS.has("rerun")) {
      const loadAtStart = load();
      const times = await withDatabase(pgServer.url, "bench_scale_rerun", (url) => deathToRerun(url, RERUNS));
      const sorted = [...times].sort((a, b) => a - b);
      console.log(`death → rerun with an idle worker: ${times.join(", ")} ms`);
      results.death_to_rerun = {
        tries_ms: times,
        median_ms: sorted[Math.floor(sorted.length / 2)],
        max_ms: sorted.at(-1),
        sweep_interval_ms: 1000,
        sweep_grace_s: 2,
        load_average_at_start: loadAtStart,
      };
    }
    if (!SCENARIOS.has("burst")) return;
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
    mkdirSync(path.join(here, "results"), { recursive: true });
    writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
    console.log("wrote bench/results/scale.json");
  }
}

await main();
