/**
 * Forge benchmark (not a test): the agent against the Azure DevOps and GitHub emulators, next to a "bare"
 * script that makes the same PR with the same client library and the minimal calls (bench/bare.ts).
 *
 *   npm run bench:forges            # ≈ 1–3 minutes; writes bench/results/forges.json and the tables in bench/results/forges.md (then bench/README.md)
 *
 * For each forge × injected latency (0, 50 ms) × concurrency (1, 10, 100) × {agent, bare}: PRs per second,
 * p50/p95 wall time per PR (handle() call → result), forge HTTP calls per PR from the emulator's request log
 * (Azure discovery counted apart), sequential round trips of one PR (c=1: p50 ÷ latency, and the number of
 * request "waves" in the log), and peak RSS of this process. The emulators run in a child process
 * (bench/emulator-host.ts) so their CPU and memory stay out of the numbers.
 *
 * One agent (or bare publisher) per configuration, as a long-running process would keep it: the first PR of
 * each configuration pays location discovery (Azure) and reviewer resolution; later PRs hit the caches.
 */
import { readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { BarePr } from "./bare.js";
import {
  EmulatorHost,
  FORGE_NAME,
  measure,
  mb,
  round,
  Runner,
  sourceVersion,
  WARMUP_PRS,
  type ConfigResult,
} from "./forge-harness.js";
import { RESULTS_DIR, writeBenchReadme } from "./readme.js";
import type { Endpoint, ForgeKind, Mode } from "./shared.js";

const FORGES: ForgeKind[] = ["azure-devops", "github"];
const LATENCIES = [0, 50];
/** BENCH_QUICK=1 shrinks the PR counts for a smoke run of the benchmark itself (numbers not comparable). */
const QUICK = process.env.BENCH_QUICK === "1";
const PLAN = [
  { concurrency: 1, prs: QUICK ? 5 : 20 },
  { concurrency: 10, prs: QUICK ? 20 : 100 },
  { concurrency: 100, prs: QUICK ? 20 : 100 },
];
/** Runner order matters: the agent's first run gives the bare script the exact PR to make. */
const MODES: Mode[] = ["agent", "agent+mem", "bare"];
/** The agent with memory runs at the 50 ms latency only (where the ratio target is), to keep the whole run near 2–3 min. */
const MEMORY_LATENCY = 50;
const modesAt = (latency: number): Mode[] => MODES.filter((m) => m !== "agent+mem" || latency === MEMORY_LATENCY);

/**
 * Sequential forge round trips on the critical path of one PR, read off the code as of issue 17's forge calls
 * (src/forges/*.ts, forge-publisher.ts, agent/nodes/gather.ts) and bench/bare.ts; re-read them when those
 * change. "steady": reviewer directory / logins cached. The measured "traced" column is the check.
 */
const BY_CODE: Record<ForgeKind, Record<"agent" | "bare", { steady: number; first: number; path: string }>> = {
  "azure-devops": {
    agent: {
      steady: 3,
      first: 4,
      path: "[getCommit(changeCount) ‖ getRefs ‖ getPullRequests] → getItem per changed file side, all at once → createPullRequest (reviewers + labels inline; the reconcile after it sends nothing). First PR: readIdentities per reviewer (after the Core API's discovery) before the create, one trip longer.",
    },
    bare: {
      steady: 2,
      first: 3,
      path: "getPullRequests → createPullRequest. First PR: getTeams → getTeamMembers beside getPullRequests (+1).",
    },
  },
  github: {
    agent: {
      steady: 4,
      first: 5,
      path: "[compare(target…branch) ‖ pulls.list] → one GraphQL query for the file sides no whole-file patch gives → pulls.create → requestReviewers ‖ addLabels. First PR: users.getByUsername ×2 before the create, one trip longer.",
    },
    bare: { steady: 3, first: 3, path: "pulls.list → pulls.create → requestReviewers ‖ addLabels." },
  },
};

// ---------------------------------------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------------------------------------

function find(
  results: ConfigResult[],
  forge: ForgeKind,
  latency: number,
  concurrency: number,
  mode: Mode,
): ConfigResult {
  const r = results.find(
    (x) => x.forge === forge && x.latency_ms === latency && x.concurrency === concurrency && x.mode === mode,
  );
  if (!r) throw new Error(`no result for ${forge} ${latency} ${concurrency} ${mode}`);
  return r;
}

function ratios(results: ConfigResult[]) {
  return FORGES.flatMap((forge) =>
    LATENCIES.flatMap((latency) =>
      PLAN.map(({ concurrency }) => {
        const a = find(results, forge, latency, concurrency, "agent");
        const b = find(results, forge, latency, concurrency, "bare");
        const m = latency === MEMORY_LATENCY ? find(results, forge, latency, concurrency, "agent+mem") : undefined;
        return {
          forge,
          latency_ms: latency,
          concurrency,
          p50_agent_over_bare: round(a.p50_ms / b.p50_ms, 2),
          throughput_agent_over_bare: round(a.prs_per_second / b.prs_per_second, 2),
          ...(m
            ? {
                p50_agent_mem_over_bare: round(m.p50_ms / b.p50_ms, 2),
                throughput_agent_mem_over_bare: round(m.prs_per_second / b.prs_per_second, 2),
              }
            : {}),
        };
      }),
    ),
  );
}

function markdown(meta: Record<string, unknown>, results: ConfigResult[]): string {
  const lines: string[] = [];
  const cpus = os.cpus();
  lines.push(
    `Measured ${String(meta.date)} (code: ${String(meta.source)}) on ${cpus.length} × ${cpus[0]?.model ?? "unknown CPU"}, ${round(os.totalmem() / 1024 ** 3, 1)} GB RAM, ` +
      `${os.type()} ${os.release()} (${os.arch()}), Node ${process.version}. Wall time ${round(Number(meta.total_seconds), 0)} s; 1-minute load average at the start of each configuration ${String(meta.load_1m_range)} (${cpus.length} CPUs).`,
    "",
    "### Throughput and latency per PR",
    "",
    "“agent” is the agent with memory off (`memory: null`): forge work only, like for like with bare. Ratios are agent ÷ bare (p50: lower is better, target ≤ 1.2 at 50 ms; throughput: higher is better, the matching target is ≥ 0.83). The agent with its default memory is in the next table.",
    "",
    "| forge | latency | c | PRs | agent PRs/s | bare PRs/s | thr. agent÷bare | agent p50 / p95 ms | bare p50 / p95 ms | p50 agent÷bare | calls/PR agent / bare | CPU ms/PR agent / bare | peak RSS MB agent / bare |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const forge of FORGES) {
    for (const latency of LATENCIES) {
      for (const { concurrency } of PLAN) {
        const a = find(results, forge, latency, concurrency, "agent");
        const b = find(results, forge, latency, concurrency, "bare");
        lines.push(
          `| ${FORGE_NAME[forge]} | ${latency} ms | ${concurrency} | ${a.prs} | ${a.prs_per_second} | ${b.prs_per_second} | ${round(a.prs_per_second / b.prs_per_second, 2)} | ${a.p50_ms} / ${a.p95_ms} | ${b.p50_ms} / ${b.p95_ms} | **${round(a.p50_ms / b.p50_ms, 2)}** | ${a.calls_per_pr} / ${b.calls_per_pr} | ${a.cpu_ms_per_pr} / ${b.cpu_ms_per_pr} | ${a.rss_peak_mb} / ${b.rss_peak_mb} |`,
        );
      }
    }
  }
  lines.push(
    "",
    "### The agent with its default memory (SQLite state file, hashed embeddings)",
    "",
    "The same policy without `memory: null`: memory as shipped (`memory.store: sqlite`, a fresh state file per configuration), at 50 ms only. Every benchmark PR has the same text on another branch, so the agent flags it `possible-duplicate` once an earlier one is recorded (one more label, no extra forge call; PRs in flight together do not see each other).",
    "",
    "| forge | latency | c | PRs/s | thr. ÷ bare | p50 / p95 ms | p50 ÷ bare | p50 ÷ agent without memory | CPU ms/PR | peak RSS MB | flagged possible-duplicate |",
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const forge of FORGES) {
    for (const latency of [MEMORY_LATENCY]) {
      for (const { concurrency } of PLAN) {
        const m = find(results, forge, latency, concurrency, "agent+mem");
        const a = find(results, forge, latency, concurrency, "agent");
        const b = find(results, forge, latency, concurrency, "bare");
        lines.push(
          `| ${FORGE_NAME[forge]} | ${latency} ms | ${concurrency} | ${m.prs_per_second} | ${round(m.prs_per_second / b.prs_per_second, 2)} | ${m.p50_ms} / ${m.p95_ms} | **${round(m.p50_ms / b.p50_ms, 2)}** | ${round(m.p50_ms / a.p50_ms, 2)} | ${m.cpu_ms_per_pr} | ${m.rss_peak_mb} | ${m.check.labels["possible-duplicate"] ?? 0} of ${m.prs} |`,
        );
      }
    }
  }
  const failed = results.filter((r) => r.ok !== r.prs || r.check.complete !== r.prs);
  lines.push(
    "",
    failed.length === 0
      ? `Every run made every PR, and the emulator holds each with all ${String(meta.expected_reviewers)} reviewers and the ${String(meta.expected_labels)} labels the agent chose (agent, agent with memory and bare alike).`
      : `**Incomplete runs:** ${failed.map((r) => `${r.forge} ${r.latency_ms} ms c=${r.concurrency} ${r.mode}: ${r.ok}/${r.prs} ok, ${r.check.complete} complete (${r.failures.join("; ")})`).join("; ")}`,
    "",
    "### Sequential round trips on the critical path of one PR (c = 1)",
    "",
    "“p50 ÷ 50 ms” is the latency-50 p50 wall time divided by the injected latency (CPU time and connection set-up inflate it); “traced” counts sequential round trips in the client's own request trace (a request that starts after an answer of the current wave opens the next wave; discovery excluded); “code” is read off the source. First PR = cold caches (Azure discovery and reviewer directory, GitHub login look-ups); Azure's first PR also makes the discovery calls in the last column, sequentially but undelayed by the emulator.",
    "",
    "| forge | mode | p50 ÷ 50 ms | traced (median) | code (steady) | first PR ÷ 50 ms | traced (first PR) | code (first PR) | calls per PR (median / first) | discovery calls, first PR |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
  );
  for (const forge of FORGES) {
    for (const mode of MODES) {
      const r = find(results, forge, 50, 1, mode);
      const code = BY_CODE[forge][mode === "bare" ? "bare" : "agent"];
      lines.push(
        `| ${FORGE_NAME[forge]} | ${mode} | ${r.per_pr?.trips_from_p50} | ${r.per_pr?.waves_median} | ${code.steady} | ${r.per_pr?.trips_from_first} | ${r.per_pr?.waves_first} | ${code.first} | ${r.per_pr?.calls_median} / ${r.per_pr?.calls_first} | ${r.per_pr?.discovery_first} |`,
      );
    }
  }
  lines.push("", "Critical paths (from the code):", "");
  for (const forge of FORGES)
    for (const mode of ["agent", "bare"] as const)
      lines.push(`- ${FORGE_NAME[forge]}, ${mode}: ${BY_CODE[forge][mode].path}`);
  lines.push(
    "",
    "### Forge calls by route (latency 50 ms, c = 10, 100 PRs; discovery apart)",
    "",
    "| forge | mode | calls/PR | discovery calls (whole run) | by route (total over 100 PRs) |",
    "|---|---|---:|---:|---|",
  );
  for (const forge of FORGES) {
    for (const mode of MODES) {
      const r = find(results, forge, 50, 10, mode);
      const routes = Object.entries(r.calls_by_route)
        .sort((x, y) => y[1] - x[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(", ");
      lines.push(`| ${FORGE_NAME[forge]} | ${mode} | ${r.calls_per_pr} | ${r.discovery_calls} | ${routes} |`);
    }
  }
  lines.push(
    "",
    "### Azure DevOps location discovery per configuration (latency 0 ms)",
    "",
    "azure-devops-node-api caches an area's locations only once its OPTIONS request has answered, so every call that starts before then sends its own OPTIONS. Not delayed by the emulator and not in calls/PR; on the real service each is a request.",
    "",
    `| mode | ${PLAN.map((p) => `c = ${p.concurrency}`).join(" | ")} |`,
    `|---|${PLAN.map(() => "---").join("|")}|`,
  );
  for (const mode of modesAt(0)) {
    const cells = PLAN.map(({ concurrency }) => {
      const r = find(results, "azure-devops", 0, concurrency, mode);
      return Object.entries(r.discovery_by_path)
        .map(([k, v]) => `${k} ×${v}`)
        .join(", ");
    });
    lines.push(`| ${mode} | ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

const SECTION_HEAD = `## Forges (\`npm run bench:forges\`)

How fast the agent turns CommitCompleted events into PRs on the Azure DevOps and GitHub emulators
(\`test/emulators\`), next to a "bare" script (\`bench/bare.ts\`) that makes the same PR with the same client
library and the minimal calls. Not a test: nothing fails on a slow number.

\`\`\`sh
npm ci
npm run bench:forges                  # ≈ 2–2.5 min on 2 idle cores; writes bench/results/forges.json and the tables below
BENCH_QUICK=1 npm run bench:forges    # smoke run of the benchmark itself (few PRs; numbers not comparable)
\`\`\`

What runs: for each forge × injected latency (0 and 50 ms before every non-discovery answer) × concurrency
(1, 10, 100) × {agent, agent with memory, bare}, distinct feature branches (20 PRs at c = 1, 100 at c = 10 and 100).
The agent is \`createAgent({ policy: PolicySchema.parse({ forge, github: { throttle: false }, retry_policy:
{ base_delay_ms: 10 } }), model: null, traceRegistry: SAMPLE_TRACES, env })\` with commits read through the forge
API, one instance per configuration. Processes: \`bench/forges.ts\` orchestrates, \`bench/emulator-host.ts\` hosts
the emulator, \`bench/runner.ts\` runs the agent or the bare script (one process per forge × latency × mode, so
CPU time and RSS are its own). Time per PR is from the \`handle()\` call to its result; calls per PR come from the
emulator's request log, round trips from the client's own request trace (Node diagnostics channels).
`;

/** Replaces the tables in bench/results/forges.md (this bench's section of bench/README.md), then rebuilds the README. */
async function writeReadme(table: string): Promise<void> {
  const file = path.join(RESULTS_DIR, "forges.md");
  const begin = "<!-- results:begin (generated by npm run bench:forges) -->";
  const end = "<!-- results:end -->";
  const block = `${begin}\n${table}\n${end}`;
  const current = await readFile(file, "utf8").catch(() => null);
  const next =
    current && current.includes(begin) && current.includes(end)
      ? current.slice(0, current.indexOf(begin)) + block + current.slice(current.indexOf(end) + end.length)
      : `${SECTION_HEAD}\n### Results\n\n${block}\n`;
  await writeFile(file, next);
  await writeBenchReadme();
}

// ---------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const t0 = performance.now();
  const results: ConfigResult[] = [];
  const templates: Partial<Record<ForgeKind, BarePr>> = {};
  for (const forge of FORGES) {
    for (const latency of LATENCIES) {
      const host = new EmulatorHost();
      try {
        const started = await host.call<{ url: string; project?: string }>({ op: "start", forge, latencyMs: latency });
        const ep: Endpoint = { forge, url: started.url, ...(started.project ? { project: started.project } : {}) };
        // Agent first: its first run gives the bare script the exact PR to make.
        for (const mode of modesAt(latency)) {
          const runner = new Runner();
          try {
            for (const { concurrency, prs } of PLAN) {
              const { result: r, template } = await measure(
                host,
                runner,
                ep,
                latency,
                mode,
                concurrency,
                prs,
                mode === "bare" ? templates[forge] : undefined,
              );
              templates[forge] ??= template;
              results.push(r);
              console.log(
                `${forge.padEnd(12)} ${String(latency).padStart(2)} ms c=${String(concurrency).padEnd(3)} ${mode.padEnd(5)} ${String(r.prs_per_second).padStart(6)} PR/s  p50 ${String(r.p50_ms).padStart(7)} ms  p95 ${String(r.p95_ms).padStart(7)} ms  cpu/PR ${String(r.cpu_ms_per_pr).padStart(5)} ms  calls/PR ${String(r.calls_per_pr).padStart(5)}  discovery ${String(r.discovery_calls).padStart(3)}  rss ${r.rss_start_mb}→${r.rss_peak_mb} MB  load ${r.load_1m}  ok ${r.ok}/${r.prs}${r.failures.length ? `  ${r.failures[0]}` : ""}`,
              );
            }
          } finally {
            await runner.stop();
          }
        }
      } finally {
        await host.stop();
      }
    }
  }
  const cpus = os.cpus();
  const meta = {
    date: new Date().toISOString(),
    source: sourceVersion(),
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: { count: cpus.length, model: cpus[0]?.model ?? "unknown", speed_mhz: cpus[0]?.speed ?? 0 },
    total_memory_mb: mb(os.totalmem()),
    gc_exposed: typeof (globalThis as { gc?: unknown }).gc === "function",
    plan: PLAN,
    latencies_ms: LATENCIES,
    warmup_prs_per_runner_process: WARMUP_PRS,
    expected_reviewers: templates["azure-devops"]?.reviewers.length,
    expected_labels: templates["azure-devops"]?.labels.join(", "),
    policy: { github: { throttle: false }, retry_policy: { base_delay_ms: 10 } },
    sequential_round_trips_by_code: BY_CODE,
    notes: [
      "The agent and the bare script run in their own processes (bench/runner.ts bundled for plain node, the agent loaded from dist/ as it ships, one per forge × latency × mode, configurations c = 1, 10, 100 in that order); the emulator runs in another (bench/emulator-host.ts). RSS and CPU are the measured process's only; RSS is sampled every 10 ms during each configuration and rarely shrinks, so a later configuration's peak includes what earlier ones left.",
      `Each runner process first makes ${WARMUP_PRS} unmeasured PRs with a throwaway instance (module loading, JIT); every configuration then uses a fresh instance, whose first PR pays Azure location discovery and reviewer resolution.`,
      "Azure discovery calls (OPTIONS Location, GET ResourceAreas, OPTIONS <area>) are never delayed by the emulator and are not counted in calls per PR.",
    ],
    total_seconds: round((performance.now() - t0) / 1000, 1),
    load_1m_range: `${Math.min(...results.map((r) => r.load_1m))}–${Math.max(...results.map((r) => r.load_1m))}`,
  };
  const out = { meta, ratios: ratios(results), results };
  await writeFile(path.join(RESULTS_DIR, "forges.json"), `${JSON.stringify(out, null, 2)}\n`);
  await writeReadme(markdown(meta, results));
  console.log(`\nwrote bench/results/forges.json, forges.md and bench/README.md in ${meta.total_seconds} s`);
}

await main();
