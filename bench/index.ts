/**
 * The consolidated benchmark (not a test: nothing fails on a slow number): every figure of issue 8 against its
 * target, in one run.
 *
 *   npm run build && npm run bench      # ≈ 2–3 min on 2 cores; writes bench/results/index.json and index.md, then bench/README.md
 *   npm run bench -- --quick            # fewer PRs, spawns and queries (≈ 1 min; tails noisier)
 *   npm run bench -- --memory-100k      # also recall at 100k stored PRs (≈ +2 min)
 *
 * Per forge (Azure DevOps, GitHub emulators, in their own process via bench/emulator-host.ts), with the agent
 * (memory off, no model) and the bare client script (bench/bare.ts) each in its own runner process
 * (bench/runner.ts), machinery shared with bench:forges (bench/forge-harness.ts):
 * - 0 ms forge latency, c = 1: agent overhead per PR (wall time minus time with a forge request in flight);
 * - 50 ms forge latency, c = 1, 10, 100: end-to-end p50/p95, throughput, errors, duplicate PRs, peak RSS,
 *   forge calls per PR, and the ratios to the bare script; at 50 ms, c = 1, also to the bare script reading
 *   the change (its commit, then its files' texts) as the agent does.
 * Then the CLI's cold start (bench/cli-start.ts, needs dist/) and memory recall (bench/memory.ts runPhases).
 */
import os from "node:os";
import path from "node:path";
import { writeFile } from "node:fs/promises";
import type { BarePr } from "./bare.js";
import { measureCliStart } from "./cli-start.js";
import { measureLocalGit } from "./local-git.js";
import {
  COLD_WARMUP_PRS,
  EmulatorHost,
  measure,
  mb,
  round,
  Runner,
  sourceVersion,
  WARMUP_PRS,
  type ConfigResult,
} from "./forge-harness.js";
import { runPhases, TARGETS as MEMORY_TARGETS } from "./memory.js";
import { RESULTS_DIR, writeBenchReadme } from "./readme.js";
import type { Endpoint, ForgeKind, Mode } from "./shared.js";
import {
  CONCURRENCIES,
  cliFigures,
  E2E_LATENCY_MS,
  FORGES,
  forgeFigures,
  indexSection,
  markdown,
  memoryFigures,
  targets,
  type Results,
} from "./summary.js";

const args = process.argv.slice(2);
const unknown = args.filter((a) => a !== "--quick" && a !== "--memory-100k");
if (unknown.length > 0) throw new Error(`unknown option ${unknown.join(" ")} (known: --quick, --memory-100k)`);
const QUICK = args.includes("--quick");
const OVERHEAD_PRS = QUICK ? 20 : 200;
/** c = 100 always runs 100 events, so the "100 concurrent events" figure holds in a quick run too. */
const PRS_AT: Record<number, number> = { 1: QUICK ? 5 : 20, 10: QUICK ? 20 : 100, 100: 100 };
const CLI_RUNS = QUICK ? 3 : 10;
const MEMORY_SIZES = [1000, 10_000, ...(args.includes("--memory-100k") ? [100_000] : [])];
const MEMORY_QUERIES = QUICK ? 50 : 200;
/** Requests the forge serves at a time in the latency runs, as a server serialising its git-backed reads. */
const SERVER_CAPACITY = 2;

/** One emulator at `latencyMs`; per mode (agent first: its first PR is the bare script's template) one runner over `plan`. */
async function forgeRuns(
  forge: ForgeKind,
  latencyMs: number,
  plan: Array<{ concurrency: number; prs: number }>,
  template: { pr?: BarePr },
  options: { modes?: readonly Mode[]; warmupPrs?: number } = {},
): Promise<ConfigResult[]> {
  const out: ConfigResult[] = [];
  const host = new EmulatorHost();
  try {
    // With latency, the forge behaves like a real one: every request delayed, discovery too, 2 served at a time.
    const started = await host.call<{ url: string; project?: string }>({
      op: "start",
      forge,
      latencyMs,
      ...(latencyMs > 0 ? { capacity: SERVER_CAPACITY } : {}),
    });
    const ep: Endpoint = { forge, url: started.url, ...(started.project ? { project: started.project } : {}) };
    for (const mode of options.modes ?? (["agent", "bare", "bare+reads"] satisfies Mode[])) {
      // The bare client that also reads the change has one row: end-to-end with latency, c = 1.
      const modePlan = mode === "bare+reads" ? plan.filter((p) => latencyMs > 0 && p.concurrency === 1) : plan;
      if (modePlan.length === 0) continue;
      const runner = new Runner(options.warmupPrs ?? WARMUP_PRS);
      try {
        for (const { concurrency, prs } of modePlan) {
          const { result: r, template: made } = await measure(
            host,
            runner,
            ep,
            latencyMs,
            mode,
            concurrency,
            prs,
            mode === "agent" ? undefined : template.pr,
          );
          template.pr ??= made;
          out.push(r);
          const local = r.per_pr ? `  local p50/p95 ${r.per_pr.local_p50_ms}/${r.per_pr.local_p95_ms} ms` : "";
          console.log(
            `${forge.padEnd(12)} ${String(latencyMs).padStart(2)} ms c=${String(concurrency).padEnd(3)} ${mode.padEnd(10)} ${String(r.prs_per_second).padStart(6)} PR/s  p50/p95 ${r.p50_ms}/${r.p95_ms} ms${local}  calls/PR ${r.calls_per_pr}  rss ${r.rss_peak_mb} MB  ok ${r.ok}/${r.prs}  dup ${r.check.duplicates}${r.failures.length ? `  ${r.failures[0]}` : ""}`,
          );
        }
      } finally {
        await runner.stop();
      }
    }
  } finally {
    await host.stop();
  }
  return out;
}

async function main(): Promise<void> {
  const t0 = performance.now();
  const loadAtStart = os.loadavg()[0] ?? 0;
  const configs: ConfigResult[] = [];
  for (const forge of FORGES) {
    const template: { pr?: BarePr } = {};
    configs.push(...(await forgeRuns(forge, 0, [{ concurrency: 1, prs: OVERHEAD_PRS }], template)));
    // The same overhead in a process that has made only a handful of PRs: what a one-off run or a fresh replica pays.
    configs.push(
      ...(await forgeRuns(forge, 0, [{ concurrency: 1, prs: OVERHEAD_PRS }], template, {
        modes: ["agent"],
        warmupPrs: COLD_WARMUP_PRS,
      })),
    );
    configs.push(
      ...(await forgeRuns(
        forge,
        E2E_LATENCY_MS,
        CONCURRENCIES.map((c) => ({ concurrency: c, prs: PRS_AT[c]! })),
        template,
      )),
    );
  }

  console.log(`local git: ${OVERHEAD_PRS} dry runs after ${WARMUP_PRS} and after ${COLD_WARMUP_PRS} warm-up PRs`);
  const localGit = {
    warm: await measureLocalGit(OVERHEAD_PRS, WARMUP_PRS),
    cold: await measureLocalGit(OVERHEAD_PRS, COLD_WARMUP_PRS),
  };
  console.log(
    `  p50/p95 ${localGit.warm.overhead.p50_ms}/${localGit.warm.overhead.p95_ms} ms (cold ${localGit.cold.overhead.p50_ms}/${localGit.cold.overhead.p95_ms}); git commands per PR ${localGit.warm.git_per_pr.median}`,
  );

  console.log(`CLI cold start: ${CLI_RUNS} spawns each of --version and a dry run`);
  const cli = cliFigures(await measureCliStart(CLI_RUNS));
  console.log(
    `  --version p50/p95 ${cli.version.p50_ms}/${cli.version.p95_ms} ms; dry run ${cli.dry_run.p50_ms}/${cli.dry_run.p95_ms} ms`,
  );

  console.log(`memory recall at ${MEMORY_SIZES.join(", ")} stored PRs, ${MEMORY_QUERIES} queries`);
  const memory = memoryFigures(
    (await runPhases({ sizes: MEMORY_SIZES, queries: MEMORY_QUERIES, experiments: false })).phases,
    MEMORY_QUERIES,
  );

  const forges = Object.fromEntries(FORGES.map((f) => [f, forgeFigures(configs, f)])) as Results["forges"];
  const cpus = os.cpus();
  const results: Results = {
    date: new Date().toISOString(),
    source: sourceVersion(),
    command: `npm run bench${args.length ? ` -- ${args.join(" ")}` : ""}`,
    quick: QUICK,
    total_seconds: round((performance.now() - t0) / 1000, 1),
    machine: {
      cpus: cpus.length,
      cpu_model: cpus[0]?.model ?? "unknown",
      memory_gb: round(mb(os.totalmem()) / 1024, 1),
      node: process.version,
      os: `${os.type()} ${os.release()} (${os.arch()})`,
      load_1m_at_start: round(loadAtStart, 2),
      load_1m_at_end: round(os.loadavg()[0] ?? 0, 2),
    },
    targets: targets(forges, cli, memory, MEMORY_TARGETS, localGit),
    forges,
    local_git: localGit,
    cli,
    memory,
    notes: [
      "Bare reading the change (bench/bare.ts reads: true, 50 ms, c = 1): bare plus the commit with its changed files (beside the open-PR look-up), then at once every changed file's text its patch does not hold whole, before publishing the same PR.",
      `Agent: createAgent with the bench policy (forge, github.throttle false, retry base delay 10 ms), model: null (deterministic drafter), memory: null, commits read through the forge API; one instance per configuration after a warm-up instance per runner process (${WARMUP_PRS} PRs, at most 10 at a time; the cold overhead row: ${COLD_WARMUP_PRS})`,
      "Agent overhead: per PR at 0 ms injected latency and c = 1, wall time (handle() call to result) minus the time at least one forge HTTP request was in flight (Node diagnostics channels in the runner). The emulator answers from another process, so its work sits inside the in-flight time.",
      `End-to-end, throughput, errors, duplicates and RSS: through a strict proxy (test/emulators/strict-proxy.ts) that delays every request by ${E2E_LATENCY_MS} ms, discovery included, and serves ${SERVER_CAPACITY} at a time; distinct branches, so distinct events and PRs. Errors = runs not ending "created" + branches with no PR in the emulator; duplicates = PRs beyond one per source branch in the emulator.`,
      "Peak RSS: the runner process (agent or bare) only, sampled every 10 ms; the emulator runs in its own process. The runner runs c = 1, 10, 100 in turn, so the c = 100 peak includes what earlier configurations left.",
      "CLI: node dist/cli/main.js spawned with PATH/HOME/TMPDIR/LANG only (no model or forge keys); the dry run is `run event.json --repo-path <sample repo> --traces traces.yaml --dry-run --json` in a fresh working directory each time.",
      "Memory: createSqliteStore with HashedNgramEmbeddings(512), filled one upsert at a time; top-5 similar() with precomputed query vectors (bench/memory.ts).",
    ],
    configs,
  };
  await writeFile(path.join(RESULTS_DIR, "index.json"), `${JSON.stringify(results, null, 2)}\n`);
  await writeFile(path.join(RESULTS_DIR, "index.md"), indexSection(results));
  await writeBenchReadme();
  console.log(
    `\n${markdown(results)}\n\nwrote bench/results/index.json, index.md and bench/README.md in ${results.total_seconds} s`,
  );
}

await main();
