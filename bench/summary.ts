/**
 * The consolidated bench's figures (bench/index.ts): targets with met / missed, bench/results.json's shape,
 * and its section of bench/README.md (bench/results/index.md).
 */
import type { CliStart } from "./cli-start.js";
import { FORGE_NAME, percentile, round, WARMUP_PRS, type ConfigResult } from "./forge-harness.js";
import type { LocalGitFigures } from "./local-git.js";
import type { Phase } from "./memory.js";
import type { ForgeKind, Mode } from "./shared.js";

export const FORGES: ForgeKind[] = ["azure-devops", "github"];
/** Injected forge latency of the end-to-end, ratio and throughput figures. */
export const E2E_LATENCY_MS = 50;
export const CONCURRENCIES = [1, 10, 100];

export interface Target {
  id: string;
  figure: string;
  forge: ForgeKind | null;
  value: number;
  unit: string;
  target: string;
  met: boolean;
}

export interface Machine {
  cpus: number;
  cpu_model: string;
  memory_gb: number;
  node: string;
  os: string;
  load_1m_at_start: number;
  load_1m_at_end: number;
}

export interface Results {
  date: string;
  source: string;
  command: string;
  quick: boolean;
  total_seconds: number;
  machine: Machine;
  targets: Target[];
  forges: Record<ForgeKind, ForgeFigures>;
  /** Dry runs on a local clone (bench/local-git.ts), in a warmed-up and in a fresh process. */
  local_git: { warm: LocalGitFigures; cold: LocalGitFigures };
  cli: {
    runs: number;
    version: Quantiles;
    help: Quantiles;
    dry_run: Quantiles;
    dry_run_status: Record<string, number>;
  };
  memory: {
    queries: number;
    sizes: Array<{ stored_prs: number; unfiltered: Quantiles; by_scope: Quantiles; rss_mb: number }>;
  };
  notes: string[];
  configs: ConfigResult[];
}

interface Quantiles {
  p50_ms: number;
  p95_ms: number;
}

interface ForgeFigures {
  /** Latency 0, c = 1; `agent_cold` in a process that made only a few PRs before (JIT not yet warm). */
  overhead: {
    prs: number;
    warmup_prs: number;
    agent: Overhead;
    bare: Overhead;
    agent_cold?: Overhead & { warmup_prs: number };
  };
  /**
   * Latency E2E_LATENCY_MS, c = 1. `bare_reads` is the bare client for the same PR: it reads what the description
   * is built from, with the minimal calls (bench/bare.ts `reads`); `bare` is handed the description and reads nothing.
   */
  end_to_end: {
    agent: Quantiles;
    bare: Quantiles;
    p50_agent_over_bare: number;
    p95_agent_over_bare: number;
    bare_reads?: Quantiles;
    p50_agent_over_bare_reads?: number;
    p95_agent_over_bare_reads?: number;
    /** Per PR, median over the c = 1 PRs: forge calls and sequential round trips (discovery excluded). */
    trips?: { agent: Trips; bare: Trips; bare_reads?: Trips };
  };
  /** Latency E2E_LATENCY_MS. */
  throughput: Array<{ concurrency: number; agent: Load; bare: Load; throughput_agent_over_bare: number }>;
  calls_per_pr: { agent: number; bare: number; agent_over_bare: number };
}

interface Trips {
  calls: number;
  waves: number;
}

interface Overhead {
  local: Quantiles;
  wall: Quantiles;
  cpu_ms_per_pr: number;
}

interface Load {
  prs: number;
  prs_per_second: number;
  p50_ms: number;
  p95_ms: number;
  /** Runs that did not end "created", plus measured branches with no PR in the emulator. */
  errors: number;
  duplicates: number;
  /** PRs in the emulator with every expected reviewer and label. */
  complete: number;
  peak_rss_mb: number;
  cpu_ms_per_pr: number;
}

/** The configuration measured in a warmed-up process, or (`cold`) in one that made only a few PRs before. */
function pick(
  configs: ConfigResult[],
  forge: ForgeKind,
  latency: number,
  concurrency: number,
  mode: Mode,
  cold = false,
): ConfigResult {
  const r = configs.find(
    (x) =>
      x.forge === forge &&
      x.latency_ms === latency &&
      x.concurrency === concurrency &&
      x.mode === mode &&
      x.process_warmup_prs < WARMUP_PRS === cold,
  );
  if (!r) throw new Error(`no result for ${forge} ${latency} ms c=${concurrency} ${mode}`);
  return r;
}

const load = (r: ConfigResult): Load => ({
  prs: r.prs,
  prs_per_second: r.prs_per_second,
  p50_ms: r.p50_ms,
  p95_ms: r.p95_ms,
  errors: r.prs - r.ok + r.check.missing,
  duplicates: r.check.duplicates,
  complete: r.check.complete,
  peak_rss_mb: r.rss_peak_mb,
  cpu_ms_per_pr: r.cpu_ms_per_pr,
});

export function forgeFigures(configs: ConfigResult[], forge: ForgeKind): ForgeFigures {
  const overhead = (mode: "agent" | "bare", cold = false): Overhead => {
    const r = pick(configs, forge, 0, 1, mode, cold);
    return {
      local: { p50_ms: r.per_pr!.local_p50_ms, p95_ms: r.per_pr!.local_p95_ms },
      wall: { p50_ms: r.p50_ms, p95_ms: r.p95_ms },
      cpu_ms_per_pr: r.cpu_ms_per_pr,
    };
  };
  const a1 = pick(configs, forge, E2E_LATENCY_MS, 1, "agent");
  const b1 = pick(configs, forge, E2E_LATENCY_MS, 1, "bare");
  const r1 = configs.find(
    (x) => x.forge === forge && x.latency_ms === E2E_LATENCY_MS && x.concurrency === 1 && x.mode === "bare+reads",
  );
  const trips = (r: ConfigResult): Trips => ({ calls: r.per_pr!.calls_median, waves: r.per_pr!.waves_median });
  // Calls per PR from c = 10: 100 PRs share the first PR's one-off look-ups, as in a long-running agent.
  const a10 = pick(configs, forge, E2E_LATENCY_MS, 10, "agent");
  const b10 = pick(configs, forge, E2E_LATENCY_MS, 10, "bare");
  return {
    overhead: {
      prs: pick(configs, forge, 0, 1, "agent").prs,
      warmup_prs: pick(configs, forge, 0, 1, "agent").process_warmup_prs,
      agent: overhead("agent"),
      bare: overhead("bare"),
      ...(configs.some((x) => x.forge === forge && x.latency_ms === 0 && x.process_warmup_prs < WARMUP_PRS)
        ? {
            agent_cold: {
              ...overhead("agent", true),
              warmup_prs: pick(configs, forge, 0, 1, "agent", true).process_warmup_prs,
            },
          }
        : {}),
    },
    end_to_end: {
      agent: { p50_ms: a1.p50_ms, p95_ms: a1.p95_ms },
      bare: { p50_ms: b1.p50_ms, p95_ms: b1.p95_ms },
      p50_agent_over_bare: round(a1.p50_ms / b1.p50_ms, 2),
      p95_agent_over_bare: round(a1.p95_ms / b1.p95_ms, 2),
      ...(r1
        ? {
            bare_reads: { p50_ms: r1.p50_ms, p95_ms: r1.p95_ms },
            p50_agent_over_bare_reads: round(a1.p50_ms / r1.p50_ms, 2),
            p95_agent_over_bare_reads: round(a1.p95_ms / r1.p95_ms, 2),
          }
        : {}),
      trips: { agent: trips(a1), bare: trips(b1), ...(r1 ? { bare_reads: trips(r1) } : {}) },
    },
    throughput: CONCURRENCIES.map((concurrency) => {
      const a = pick(configs, forge, E2E_LATENCY_MS, concurrency, "agent");
      const b = pick(configs, forge, E2E_LATENCY_MS, concurrency, "bare");
      return {
        concurrency,
        agent: load(a),
        bare: load(b),
        throughput_agent_over_bare: round(a.prs_per_second / b.prs_per_second, 2),
      };
    }),
    calls_per_pr: {
      agent: a10.calls_per_pr,
      bare: b10.calls_per_pr,
      agent_over_bare: round(a10.calls_per_pr / b10.calls_per_pr, 2),
    },
  };
}

export const quantiles = (ms: number[]): Quantiles => ({
  p50_ms: round(percentile(ms, 50)),
  p95_ms: round(percentile(ms, 95)),
});

export function memoryFigures(phases: Phase[], queries: number): Results["memory"] {
  return {
    queries,
    sizes: phases.map((p) => ({
      stored_prs: p.size,
      unfiltered: { p50_ms: round(p.similar_unfiltered.p50_ms, 2), p95_ms: round(p.similar_unfiltered.p95_ms, 2) },
      by_scope: { p50_ms: round(p.similar_by_scope.p50_ms, 2), p95_ms: round(p.similar_by_scope.p95_ms, 2) },
      rss_mb: p.rss_mb,
    })),
  };
}

export function cliFigures(cli: CliStart): Results["cli"] {
  return {
    runs: cli.runs,
    version: quantiles(cli.version_ms),
    help: quantiles(cli.help_ms),
    dry_run: quantiles(cli.dry_run_ms),
    dry_run_status: cli.dry_run_status,
  };
}

/**
 * The ratio and round trips are judged against the bare client that makes the same PR: since the description is
 * built from the change's text (issue 12), that PR cannot be made without reading the change. The bare client
 * handed a finished description is reported beside it.
 */
function sameRatio(f: ForgeFigures): number {
  const ratio = f.end_to_end.p50_agent_over_bare_reads;
  if (ratio === undefined) throw new Error("bench: no run of the bare client reading the change (bare+reads)");
  return ratio;
}
function sameTrips(f: ForgeFigures): { agent: Trips; bare: Trips } {
  const trips = f.end_to_end.trips;
  if (!trips?.bare_reads) throw new Error("bench: no run of the bare client reading the change (bare+reads)");
  return { agent: trips.agent, bare: trips.bare_reads };
}

/** The issue's targets (and bench:memory's 10k recall target), one row per forge where the figure is per forge. */
export function targets(
  forges: Results["forges"],
  cli: Results["cli"],
  memory: Results["memory"],
  memoryTargets: Array<{ size: number; p95_ms: number }>,
  localGit: Results["local_git"],
): Target[] {
  const out: Target[] = [
    {
      id: "local_overhead_p95",
      figure: "agent overhead per PR, dry run on local git, p95",
      forge: null,
      value: localGit.warm.overhead.p95_ms,
      unit: "ms",
      target: "≤ 20 ms",
      met: localGit.warm.overhead.p95_ms <= 20,
    },
    {
      id: "local_git_commands",
      figure: "git processes per PR, dry run on local git (median)",
      forge: null,
      value: localGit.warm.git_per_pr.median,
      unit: "",
      target: "≤ 2",
      met: localGit.warm.git_per_pr.median <= 2,
    },
  ];
  for (const forge of FORGES) {
    const f = forges[forge];
    const c100 = f.throughput.find((t) => t.concurrency === 100)!.agent;
    out.push(
      {
        id: "overhead_p95",
        figure: "agent overhead per PR, p95 (0 ms forge, c = 1)",
        forge,
        value: f.overhead.agent.local.p95_ms,
        unit: "ms",
        target: "≤ 20 ms",
        met: f.overhead.agent.local.p95_ms <= 20,
      },
      {
        id: "e2e_p95",
        figure: `end-to-end p95 (${E2E_LATENCY_MS} ms forge, c = 1)`,
        forge,
        value: f.end_to_end.agent.p95_ms,
        unit: "ms",
        target: "≤ 300 ms",
        met: f.end_to_end.agent.p95_ms <= 300,
      },
      {
        id: "c100_errors",
        figure: "errors at c = 100 (100 events)",
        forge,
        value: c100.errors,
        unit: "",
        target: "0",
        met: c100.errors === 0,
      },
      {
        id: "c100_duplicates",
        figure: "duplicate PRs at c = 100",
        forge,
        value: c100.duplicates,
        unit: "",
        target: "0",
        met: c100.duplicates === 0,
      },
      {
        id: "ratio_bare",
        figure: `p50 agent ÷ bare for the same PR (${E2E_LATENCY_MS} ms forge, c = 1)`,
        forge,
        value: sameRatio(f),
        unit: "×",
        target: "≤ 1.2",
        met: sameRatio(f) <= 1.2,
      },
      {
        id: "round_trips",
        figure: "sequential round trips per PR, agent vs bare for the same PR (c = 1 median)",
        forge,
        value: sameTrips(f).agent.waves,
        unit: "",
        target: `≤ bare's ${sameTrips(f).bare.waves}`,
        met: sameTrips(f).agent.waves <= sameTrips(f).bare.waves,
      },
      {
        id: "rss_c100",
        figure: "peak RSS at c = 100",
        forge,
        value: c100.peak_rss_mb,
        unit: "MB",
        target: "≤ 250 MB",
        met: c100.peak_rss_mb <= 250,
      },
    );
  }
  out.push({
    id: "cli_version",
    figure: "CLI --version, median",
    forge: null,
    value: cli.version.p50_ms,
    unit: "ms",
    target: "≤ 300 ms",
    met: cli.version.p50_ms <= 300,
  });
  out.push(
    {
      id: "cli_help",
      figure: "CLI --help, median (cold start)",
      forge: null,
      value: cli.help.p50_ms,
      unit: "ms",
      target: "≤ 300 ms",
      met: cli.help.p50_ms <= 300,
    },
    {
      id: "cli_dry_run",
      figure: "CLI dry-run `run` without a model, median (cold start)",
      forge: null,
      value: cli.dry_run.p50_ms,
      unit: "ms",
      target: "≤ 600 ms",
      met: cli.dry_run.p50_ms <= 600,
    },
  );
  for (const t of memoryTargets) {
    const s = memory.sizes.find((x) => x.stored_prs === t.size);
    if (!s) continue;
    out.push({
      id: `recall_${t.size}`,
      figure: `memory top-5 recall p95, by scope, ${t.size / 1000}k PRs (bench:memory target)`,
      forge: null,
      value: s.by_scope.p95_ms,
      unit: "ms",
      target: `≤ ${t.p95_ms} ms`,
      met: s.by_scope.p95_ms <= t.p95_ms,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// bench/README.md

const verdict = (ts: Target[]) => {
  if (ts.every((t) => t.met)) return "met";
  if (ts.every((t) => !t.met)) return "**missed**";
  return ts.map((t) => `${t.forge ? FORGE_NAME[t.forge] : ""} ${t.met ? "met" : "**missed**"}`.trim()).join(", ");
};
const pq = (q: Quantiles) => `${q.p50_ms} / ${q.p95_ms}`;

export function markdown(r: Results): string {
  const m = r.machine;
  const [az, gh] = [r.forges["azure-devops"], r.forges.github];
  const row = (figure: string, cell: (f: ForgeFigures) => string | number, target = "–", id?: string) =>
    `| ${figure} | ${cell(az)} | ${cell(gh)} | ${target} | ${id ? verdict(r.targets.filter((t) => t.id === id)) : ""} |`;
  const at = (f: ForgeFigures, c: number) => f.throughput.find((t) => t.concurrency === c)!;
  const lines = [
    `Measured ${r.date} (code: ${r.source}) with \`${r.command}\` on ${m.cpus} × ${m.cpu_model}, ${m.memory_gb} GB RAM, ${m.os}, Node ${m.node}. ` +
      `Wall time ${r.total_seconds} s; 1-minute load average ${m.load_1m_at_start} at the start, ${m.load_1m_at_end} at the end (${m.cpus} CPUs).` +
      (r.quick ? " **Quick run: fewer PRs, spawns and queries; tails are noisier.**" : ""),
    "",
    "| figure | Azure DevOps | GitHub | target | |",
    "|---|---:|---:|---:|---|",
    row(
      `agent overhead per PR, p50 / p95 ms (0 ms forge, c = 1, ${az.overhead.prs} PRs, process warmed by ${az.overhead.warmup_prs})`,
      (f) => pq(f.overhead.agent.local),
      "p95 ≤ 20 ms",
      "overhead_p95",
    ),
    ...(az.overhead.agent_cold
      ? [
          row(
            `&nbsp;&nbsp;the same in a fresh process (warmed by ${az.overhead.agent_cold.warmup_prs}: JIT still cold), p50 / p95 ms`,
            (f) => (f.overhead.agent_cold ? pq(f.overhead.agent_cold.local) : "–"),
          ),
        ]
      : []),
    row("&nbsp;&nbsp;bare client's own, p50 / p95 ms", (f) => pq(f.overhead.bare.local)),
    row("&nbsp;&nbsp;agent wall time per PR, p50 / p95 ms (0 ms forge)", (f) => pq(f.overhead.agent.wall)),
    row(
      "&nbsp;&nbsp;CPU ms per PR, agent / bare (0 ms forge, c = 1)",
      (f) => `${f.overhead.agent.cpu_ms_per_pr} / ${f.overhead.bare.cpu_ms_per_pr}`,
    ),
    row(
      `end-to-end per PR, p50 / p95 ms (${E2E_LATENCY_MS} ms forge, c = 1)`,
      (f) => pq(f.end_to_end.agent),
      "p95 ≤ 300 ms",
      "e2e_p95",
    ),
    row("&nbsp;&nbsp;bare client for the same PR (reads the change, then publishes), p50 / p95 ms", (f) =>
      f.end_to_end.bare_reads ? pq(f.end_to_end.bare_reads) : "–",
    ),
    row("p50 agent ÷ bare for the same PR (same runs)", (f) => sameRatio(f), "≤ 1.2", "ratio_bare"),
    row("&nbsp;&nbsp;p95 agent ÷ bare for the same PR", (f) => f.end_to_end.p95_agent_over_bare_reads ?? "–"),
    row(
      "sequential round trips (calls) per PR, c = 1 median: agent; bare for the same PR",
      (f) =>
        `${sameTrips(f).agent.waves} (${sameTrips(f).agent.calls}); ${sameTrips(f).bare.waves} (${sameTrips(f).bare.calls})`,
      "agent ≤ bare",
      "round_trips",
    ),
    row("&nbsp;&nbsp;bare client handed the finished description (reads nothing), p50 / p95 ms", (f) =>
      pq(f.end_to_end.bare),
    ),
    row(
      "&nbsp;&nbsp;p50 agent ÷ that client; its round trips (calls)",
      (f) =>
        `${f.end_to_end.p50_agent_over_bare}; ${f.end_to_end.trips ? `${f.end_to_end.trips.bare.waves} (${f.end_to_end.trips.bare.calls})` : "–"}`,
    ),
    row(`throughput PRs/s, agent (bare) at c = ${CONCURRENCIES.join(" / ")}`, (f) =>
      f.throughput.map((t) => `${t.agent.prs_per_second} (${t.bare.prs_per_second})`).join(" / "),
    ),
    row("&nbsp;&nbsp;agent p95 ms at c = 10 / 100", (f) => `${at(f, 10).agent.p95_ms} / ${at(f, 100).agent.p95_ms}`),
    row(
      "&nbsp;&nbsp;errors, all concurrencies (c = 100)",
      (f) => `${f.throughput.reduce((n, t) => n + t.agent.errors, 0)} (${at(f, 100).agent.errors})`,
      "0 at c = 100",
      "c100_errors",
    ),
    row(
      "&nbsp;&nbsp;duplicate PRs, all concurrencies (c = 100)",
      (f) => `${f.throughput.reduce((n, t) => n + t.agent.duplicates, 0)} (${at(f, 100).agent.duplicates})`,
      "0 at c = 100",
      "c100_duplicates",
    ),
    row(
      "&nbsp;&nbsp;PRs with all reviewers and labels, c = 100",
      (f) => `${at(f, 100).agent.complete} of ${at(f, 100).agent.prs}`,
    ),
    row(
      "peak RSS MB at c = 100, agent (bare)",
      (f) => `${at(f, 100).agent.peak_rss_mb} (${at(f, 100).bare.peak_rss_mb})`,
      "≤ 250 MB",
      "rss_c100",
    ),
    row(
      "forge calls per PR, agent / bare (ratio)",
      (f) => `${f.calls_per_pr.agent} / ${f.calls_per_pr.bare} (${f.calls_per_pr.agent_over_bare})`,
    ),
    "",
    "| figure | value | target | |",
    "|---|---:|---:|---|",
    `| agent overhead per PR, dry run on local git, p50 / p95 ms (c = 1, ${r.local_git.warm.prs} PRs, process warmed by ${r.local_git.warm.warmup_prs}) | ${pq(r.local_git.warm.overhead)} | p95 ≤ 20 ms | ${verdict(r.targets.filter((t) => t.id === "local_overhead_p95"))} |`,
    `| &nbsp;&nbsp;the same in a fresh process (warmed by ${r.local_git.cold.warmup_prs}: JIT still cold), p50 / p95 ms | ${pq(r.local_git.cold.overhead)} | – | |`,
    `| &nbsp;&nbsp;git processes per PR, median (most); processes forked from the agent's own process per PR, median | ${r.local_git.warm.git_per_pr.median} (${r.local_git.warm.git_per_pr.max}); ${r.local_git.warm.spawned_per_pr} | ≤ 2 | ${verdict(r.targets.filter((t) => t.id === "local_git_commands"))} |`,
    `| CLI \`--version\`, median / p95 ms (${r.cli.runs} spawns) | ${pq(r.cli.version)} | median ≤ 300 ms | ${verdict(r.targets.filter((t) => t.id === "cli_version"))} |`,
    ...(r.cli.help
      ? [
          `| CLI \`--help\`, median / p95 ms | ${pq(r.cli.help)} | median ≤ 300 ms | ${verdict(r.targets.filter((t) => t.id === "cli_help"))} |`,
        ]
      : []),
    `| CLI dry-run \`run\` of the demo event without a model, median / p95 ms (${Object.entries(r.cli.dry_run_status)
      .map(([s, n]) => `${n} ${s}`)
      .join(
        ", ",
      )}) | ${pq(r.cli.dry_run)} | median ≤ 600 ms | ${verdict(r.targets.filter((t) => t.id === "cli_dry_run"))} |`,
    ...r.memory.sizes.map((s) => {
      const t = r.targets.filter((x) => x.id === `recall_${s.stored_prs}`);
      return `| memory top-5 recall at ${s.stored_prs / 1000}k PRs, p50 / p95 ms: unfiltered; by scope | ${pq(s.unfiltered)}; ${pq(s.by_scope)} | ${t[0]?.target ?? "–"} | ${t.length ? verdict(t) : ""} |`;
    }),
  ];
  const missed = r.targets.filter((t) => !t.met);
  lines.push(
    "",
    missed.length === 0
      ? "Every target met."
      : `Missed: ${missed.map((t) => `${t.figure}${t.forge ? ` (${FORGE_NAME[t.forge]})` : ""} ${t.value}${t.unit === "×" ? "×" : t.unit ? ` ${t.unit}` : ""} vs ${t.target}`).join("; ")}.`,
  );
  return lines.join("\n");
}

/** What the section says about how the figures are measured (its results follow). */
const INDEX_INTRO = `## All targets (\`npm run bench\`)

Every figure of issues 8 and 17 against its target, in one run (\`bench/index.ts\`). Not a test: nothing fails
on a slow number. Writes \`bench/results/index.json\` (the machine and its load, the date, every figure, each
target with met / missed, and the raw per-configuration results, each with the load when it ran) and this section.

\`\`\`sh
npm run build && npm run bench       # ≈ 6 min on 2 cores (dist/ is needed for the CLI figures)
npm run bench -- --quick             # ≈ 3 min: 20/5/20 PRs instead of 200/20/100, 3 CLI spawns, 50 recall queries; tails noisier
npm run bench -- --memory-100k       # also recall at 100k stored PRs (≈ +2 min)
npm run bench 2>/dev/null            # the agent's run log (one JSON line per PR on stderr) stays on, as in production
BENCH_RUNNER_FLAGS="--cpu-prof --cpu-prof-dir=/tmp/prof" npm run bench -- --quick   # node flags for the measured processes (profiles, GC traces)
\`\`\`

What is measured (the machinery is \`bench:forges\`': emulators in \`bench/emulator-host.ts\`, the agent or the
bare script in \`bench/runner.ts\`, each its own process; see the Forges section). The runner is bundled for
plain node and loads the agent from \`dist/\` (\`npm run build\`), as the package ships it: run under tsx, the
loader alone added ≈ 85 MB to the agent's RSS and its own CPU to every figure.

- **Agent.** \`createAgent\` with the benchmark policy, \`model: null\` (deterministic drafter), \`memory: null\`,
  commits read through the forge API; one instance per configuration, in a runner process that first made 100
  unmeasured PRs with a throwaway instance (modules loaded, hot code tiered up by V8: the agent's own time per PR
  falls from ≈ 20 to ≈ 11 ms over its first ~60 PRs, so a handful of warm-up PRs measures a process's first
  minute, not a \`serve\` or \`worker\` at work). Each PR's commit adds the demo's \`CreateOrderHandler.cs\` and
  its tests, real C# text (on GitHub with the one-hunk patches GitHub sends for added files), so the digest reads
  and parses them as it would on a real forge.
- **Bare for the same PR** (\`bench/bare.ts\`, \`reads\`): the same PR — same title, description, draft flag,
  reviewers and labels — with the same client library and the minimal calls, reading what the description is
  built from: the commit with its changed files beside the open-PR look-up, then at once every changed file's
  text its patch does not hold whole, then the create. The description states facts read from the change's text
  (issue 12), so no client can make this PR without those reads; the ratio and round-trip targets are judged
  against it. **Bare handed the description** (plain \`bare\`) is given the agent's finished title and
  description and reads nothing: a lower bound for any publisher, reported beside it. On Azure DevOps it needs 2
  sequential round trips where any client describing the change needs 3 (the texts can only be asked for once
  the changed files are known), so the agent cannot come within 1.2× of it there.
- **Agent overhead per PR**: at 0 ms injected forge latency and c = 1, over 200 PRs (a p95 over 100 moved by
  ±3 ms between runs here), the PR's wall time (\`handle()\` call to result) minus the time at least one forge HTTP request was in flight (seen through Node's
  diagnostics channels in the agent's process). It is the time the PR spends in the agent's own process:
  graph, validation, drafting, and the forge clients' own CPU. The emulator answers from another process, so
  its work is inside the in-flight time, not the overhead. The same figure for bare is its client's own time.
  Also reported for a fresh process that made only 6 PRs before (what a one-off run or a new replica pays).
- **Local git** (\`bench/local-git.ts\`): what issue 17 first measured — a preview (\`dryRun\`) of commits read from
  a local clone, one PR after another in one long-running process (the agent from \`dist/\`), after 100 and after 6
  warm-up PRs. No forge: the whole wall time per PR is the agent's own, git included. The clone is the demo's plus
  one branch per PR off \`dev\`, each a commit adding the demo's handler and tests with a line of its own (no blob
  shared, so every digest parses its files). git processes per PR are counted in a separate pass of 10 PRs by a
  \`git\` script first on PATH (the long-lived \`cat-file --batch\` and \`diff-tree --stdin\` count once, with the
  first PR); processes forked from the agent's own process by wrapping \`child_process.spawn\`.
- **The forge, like a real one** (latency runs): a strict proxy (\`test/emulators/strict-proxy.ts\`) in front of
  the emulator delays every request by 50 ms, discovery included, and serves 2 at a time, as a forge serialising
  its git-backed reads; agent and bare go through the same proxy.
- **End-to-end**: per-PR wall time at 50 ms forge latency, c = 1.
  **Ratio to bare**: agent p50 ÷ bare p50 in those runs. **Round trips**: per PR, waves of requests in start order (a
  request sent after an answer of the current wave came back opens the next wave), median over the c = 1 PRs.
- **Throughput, errors, duplicates**: 50 ms latency, c = 1, 10, 100 (20, 100 and 100 PRs; at c = 100 all 100
  events are in flight at once), every event on its own branch, so every one must make its own PR. Errors:
  runs not ending \`created\` plus branches with no PR in the emulator; duplicates: PRs beyond the first per
  source branch in the emulator.
- **Peak RSS**: of the agent's process only (sampled every 10 ms; the emulator runs in its own process). The
  process runs c = 1, 10 and 100 in turn, and RSS rarely shrinks, so the c = 100 peak includes what the earlier
  configurations left.
- **Forge calls per PR**: non-discovery requests in the emulator's log ÷ PRs (50 ms, c = 10).
- **CLI cold start**: \`node dist/cli/main.js --version\`, \`--help\`, and a model-less dry-run \`run\` of the demo's first event
  (\`buildSampleRepo\`: \`run event.json --repo-path <sample> --traces traces.yaml --dry-run --json\`, fresh
  working directory, so a new state file), 10 spawns each after one unmeasured spawn, spawn to exit, with
  PATH/HOME/TMPDIR/LANG only in the environment (no model or forge keys).
- **Memory recall**: \`bench/memory.ts\`'s store and data at 1k and 10k stored PRs, top-5 \`similar()\` over 200
  queries, unfiltered and filtered by scope (the agent's first query); its 10k target (p95 ≤ 5 ms) is
  \`bench:memory\`'s.
`;

/** bench/results/index.md: how the figures are measured, then the results table of `r`. */
export function indexSection(r: Results): string {
  return `${INDEX_INTRO}\n### Results\n\n${markdown(r)}\n`;
}
