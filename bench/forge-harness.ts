/**
 * The machinery shared by the forge benchmark (bench/forges.ts) and the consolidated one (bench/index.ts): the
 * emulator host and runner child processes, and `measure()`, which runs one configuration (forge × latency ×
 * mode × concurrency) and reads its figures off the runner's timings and request trace and the emulator's log.
 */
import { execFileSync, fork, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { buildSync } from "esbuild";
import type { BarePr } from "./bare.js";
import type {
  Branch,
  Endpoint,
  ForgeKind,
  HostOp,
  LoggedCall,
  Mode,
  PrCheck,
  RunDone,
  RunnerMessage,
  RunRequest,
  TracedCall,
} from "./shared.js";

const here = path.dirname(fileURLToPath(import.meta.url));
/**
 * Unmeasured PRs each runner process makes first: modules load, and V8 tiers the hot code up. The agent's own time
 * per PR keeps falling for its first ~60 PRs in a process (≈ 20 → 11 ms at 0 ms forge latency), so 100 PRs put the
 * measured ones where a long-running `serve` or `worker` spends its life. `COLD_WARMUP_PRS` is the cold-process
 * counterpart the overhead is also reported for.
 */
export const WARMUP_PRS = 100;
export const COLD_WARMUP_PRS = 6;
export const FORGE_NAME: Record<ForgeKind, string> = { "azure-devops": "Azure DevOps", github: "GitHub" };

// ---------------------------------------------------------------------------------------------------------
// Child processes: the emulator host, and one runner per configuration
// ---------------------------------------------------------------------------------------------------------

export class EmulatorHost {
  private readonly child: ChildProcess;
  private seq = 0;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  /** Whether this process made its warm-up PRs yet (with its first configuration). */
  private warmed = false;

  /** `warmupPrs`: the unmeasured PRs this process makes before its first configuration. */
  constructor(readonly warmupPrs: number = WARMUP_PRS) {
    this.child = fork(path.join(here, "emulator-host.ts"), [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (raw: { id: number; result?: unknown; error?: string }) => {
      const w = this.waiting.get(raw.id);
      this.waiting.delete(raw.id);
      if (raw.error !== undefined) w?.reject(new Error(`emulator host: ${raw.error}`));
      else w?.resolve(raw.result);
    });
    this.child.on("exit", (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`emulator host exited (${code})`));
      this.waiting.clear();
    });
  }

  call<T>(msg: HostOp): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, msg });
    });
  }

  async stop(): Promise<void> {
    await this.call({ op: "stop" });
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.disconnect();
    await exited;
  }
}

const bundles = new Map<string, string>();

/**
 * A measured process's script (bench/runner.ts, bench/local-git-runner.ts) bundled for plain node (its own code
 * only: packages and the agent stay outside), so it runs the agent as it ships — the built library in dist/ — and
 * not under tsx, whose loader alone adds ≈ 85 MB of RSS and its own CPU to every figure. Needs `npm run build`
 * first, like the CLI figures.
 */
export function bundledEntry(script: "runner" | "local-git-runner"): string {
  const made = bundles.get(script);
  if (made) return made;
  const dist = path.join(here, "..", "dist");
  if (!existsSync(path.join(dist, "agent", "create-agent.js")))
    throw new Error("bench: dist/ is missing; run `npm run build` first (the agent is measured as it ships)");
  // Inside the project, so the bundle's imports of packages find node_modules.
  const outfile = path.join(here, "..", "node_modules", ".cache", "pr-creator-bench", `${script}.mjs`);
  buildSync({
    entryPoints: [path.join(here, `${script}.ts`)],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    external: ["../src/*"],
    outfile,
    logLevel: "error",
  });
  bundles.set(script, outfile);
  return outfile;
}

/** Where the measured processes load the agent from (the runner scripts read BENCH_AGENT_DIST). */
export const AGENT_DIST = path.join(here, "..", "dist");

/** bench/runner.ts in a child process: one per forge × latency × mode, running its configurations in turn. */
export class Runner {
  private readonly child: ChildProcess;
  private pending:
    { onWarmed: () => Promise<void>; resolve: (done: RunDone) => void; reject: (error: Error) => void } | undefined;

  /** Whether this process made its warm-up PRs yet (with its first configuration). */
  private warmed = false;

  /** `warmupPrs`: the unmeasured PRs this process makes before its first configuration. */
  constructor(readonly warmupPrs: number = WARMUP_PRS) {
    this.child = fork(bundledEntry("runner"), [], {
      // BENCH_RUNNER_FLAGS: extra node flags for the measured processes (e.g. --cpu-prof, --trace-gc) to see
      // where the agent's own time goes.
      execArgv: ["--expose-gc", ...(process.env.BENCH_RUNNER_FLAGS?.split(/\s+/).filter(Boolean) ?? [])],
      env: { ...process.env, BENCH_AGENT_DIST: AGENT_DIST },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.child.on("message", (msg: RunnerMessage) => {
      const p = this.pending;
      if (!p) return;
      if (msg.type === "warmed") {
        p.onWarmed().then(
          () => this.child.send({ type: "go" }),
          (error: unknown) => p.reject(error instanceof Error ? error : new Error(String(error))),
        );
        return;
      }
      this.pending = undefined;
      if (msg.type === "done") p.resolve(msg);
      else p.reject(new Error(`runner: ${msg.error}`));
    });
    this.child.on("exit", (code) => {
      this.pending?.reject(new Error(`runner exited (${code})`));
      this.pending = undefined;
    });
  }

  /** One configuration; `onWarmed` runs between the warm-up / fresh instance and the measured PRs. */
  /** True once, for the first configuration: it brings the warm-up PRs. */
  takeWarmup(): boolean {
    if (this.warmed || this.warmupPrs === 0) return false;
    this.warmed = true;
    return true;
  }

  run(request: RunRequest, onWarmed: () => Promise<void>): Promise<RunDone> {
    return new Promise<RunDone>((resolve, reject) => {
      this.pending = { onWarmed, resolve, reject };
      this.child.send(request);
    });
  }

  async stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.disconnect();
    await exited;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Measuring
// ---------------------------------------------------------------------------------------------------------

export interface ConfigResult {
  forge: ForgeKind;
  latency_ms: number;
  concurrency: number;
  mode: Mode;
  prs: number;
  ok: number;
  failures: string[];
  wall_ms: number;
  prs_per_second: number;
  p50_ms: number;
  p95_ms: number;
  max_ms: number;
  first_pr_ms: number;
  /** The runner's user + system CPU time ÷ PRs (client side only; the emulator runs elsewhere). */
  cpu_ms_per_pr: number;
  /** The unmeasured PRs the runner process made before its first configuration (JIT warm-up). */
  process_warmup_prs: number;
  /** os.loadavg()[0] when the configuration started (other work on the machine skews CPU-bound numbers). */
  load_1m: number;
  /** Non-discovery forge HTTP calls ÷ PRs (the first PR's reviewer resolution included). */
  calls_per_pr: number;
  calls_total: number;
  discovery_calls: number;
  discovery_by_path: Record<string, number>;
  calls_by_route: Record<string, number>;
  /** Requests the client process sent (diagnostics channels), discovery excluded; should equal calls_total. */
  client_calls_total: number;
  /** c = 1 only: per-PR numbers from the client's own request trace (exact attribution, sub-ms times). */
  per_pr?: {
    calls_median: number;
    calls_first: number;
    discovery_first: number;
    /** Sequential round trips (see waves()), discovery excluded. */
    waves_median: number;
    waves_first: number;
    /** p50 ÷ latency, and the first PR's time ÷ latency; latency > 0 only. */
    trips_from_p50?: number;
    trips_from_first?: number;
    /**
     * Local time per PR: wall time minus the time at least one forge request (discovery included) was in
     * flight, i.e. the time the PR spent in this process rather than waiting on the forge. p50 / p95 ms.
     */
    local_p50_ms: number;
    local_p95_ms: number;
  };
  /** RSS of the configuration's own process when the measured phase began (after warm-up and a GC) and at its peak. */
  rss_start_mb: number;
  rss_peak_mb: number;
  heap_peak_mb: number;
  check: PrCheck;
}

export const mb = (bytes: number) => Math.round((bytes / 1024 / 1024) * 10) / 10;
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

const median = (values: number[]) => percentile(values, 50);

/**
 * Sequential round trips among `calls`: walking them in start order, a call that starts after some call of the
 * current wave has answered depended on that answer, so it opens the next wave; calls started before any
 * answer came back ran in parallel with the wave.
 */
function waves(calls: TracedCall[]): number {
  let count = 0;
  let firstAnswer = -Infinity;
  for (const c of [...calls].sort((a, b) => a.start - b.start)) {
    if (count === 0 || c.start >= firstAnswer) {
      count += 1;
      firstAnswer = c.end;
    } else {
      firstAnswer = Math.min(firstAnswer, c.end);
    }
  }
  return count;
}

/** Time within [from, to] covered by at least one of `calls` (an unanswered call counts up to `to`). */
function inFlight(calls: TracedCall[], from: number, to: number): number {
  let covered = 0;
  let reach = from;
  for (const c of [...calls].sort((a, b) => a.start - b.start)) {
    const start = Math.max(c.start, reach);
    const end = Math.min(c.end, to);
    if (end > start) {
      covered += end - start;
      reach = end;
    }
  }
  return covered;
}

let tag = 0;

export async function measure(
  host: EmulatorHost,
  runner: Runner,
  ep: Endpoint,
  latencyMs: number,
  mode: Mode,
  concurrency: number,
  prs: number,
  template: BarePr | undefined,
): Promise<{ result: ConfigResult; template?: BarePr }> {
  const load = os.loadavg()[0] ?? 0;
  await host.call({ op: "reset" });
  const warmup = runner.takeWarmup()
    ? await host.call<Branch[]>({ op: "seed", tag: ++tag, count: runner.warmupPrs })
    : [];
  const branches = await host.call<Branch[]>({ op: "seed", tag: ++tag, count: prs });
  const done = await runner.run(
    { type: "run", endpoint: ep, mode, concurrency, warmup, branches, ...(template ? { template } : {}) },
    () => host.call({ op: "clearLog" }),
  );
  const log = await host.call<LoggedCall[]>({ op: "log" });
  const expected = template ?? done.template;
  const check = await host.call<PrCheck>({
    op: "check",
    reviewers: expected?.reviewers.length ?? -1,
    labels: expected?.labels ?? ["(no template)"],
    branches: branches.map((b) => b.branch),
  });
  const api = log.filter((c) => c.route !== "discovery");
  const byRoute: Record<string, number> = {};
  for (const c of api) byRoute[c.route] = (byRoute[c.route] ?? 0) + 1;
  const discoveryByPath: Record<string, number> = {};
  for (const c of log.filter((x) => x.route === "discovery")) {
    const k = `${c.method} ${(c.path ?? "").replace(/^\/[^/]+/, "")}`;
    discoveryByPath[k] = (discoveryByPath[k] ?? 0) + 1;
  }
  const timings = done.timings;
  const ms = timings.map((t) => t.ms);

  let perPr: ConfigResult["per_pr"];
  if (concurrency === 1) {
    // One PR at a time: every request the runner saw between a PR's handle() call and its result is that PR's.
    const of = timings.map((t) => done.calls.filter((c) => c.start >= t.start && c.start <= t.end));
    const api = of.map((cs) => cs.filter((c) => !c.discovery));
    const w = api.map(waves);
    const local = timings.map((t, i) => t.ms - inFlight(of[i]!, t.start, t.end));
    perPr = {
      calls_median: median(api.map((cs) => cs.length)),
      calls_first: api[0]!.length,
      discovery_first: of[0]!.length - api[0]!.length,
      waves_median: median(w),
      waves_first: w[0]!,
      local_p50_ms: round(percentile(local, 50)),
      local_p95_ms: round(percentile(local, 95)),
      ...(latencyMs > 0
        ? { trips_from_p50: round(median(ms) / latencyMs, 2), trips_from_first: round(ms[0]! / latencyMs, 2) }
        : {}),
    };
  }

  const result: ConfigResult = {
    forge: ep.forge,
    latency_ms: latencyMs,
    concurrency,
    mode,
    prs,
    ok: timings.filter((t) => t.ok).length,
    failures: [...new Set(timings.filter((t) => !t.ok).map((t) => t.failure ?? "?"))].slice(0, 5),
    wall_ms: round(done.wallMs),
    prs_per_second: round((prs / done.wallMs) * 1000, 1),
    p50_ms: round(percentile(ms, 50)),
    p95_ms: round(percentile(ms, 95)),
    max_ms: round(Math.max(...ms)),
    first_pr_ms: round(ms[0]!),
    cpu_ms_per_pr: round(done.cpuMs / prs, 1),
    process_warmup_prs: runner.warmupPrs,
    load_1m: round(load, 2),
    calls_per_pr: round(api.length / prs, 2),
    calls_total: api.length,
    client_calls_total: done.calls.filter((c) => !c.discovery).length,
    discovery_calls: log.length - api.length,
    discovery_by_path: discoveryByPath,
    calls_by_route: byRoute,
    ...(perPr ? { per_pr: perPr } : {}),
    rss_start_mb: mb(done.rssStart),
    rss_peak_mb: mb(done.rssPeak),
    heap_peak_mb: mb(done.heapPeak),
    check,
  };
  return { result, ...(done.template ? { template: done.template } : {}) };
}

/** Which code was measured: BENCH_SOURCE when set, else the commit and whether src/ has uncommitted changes (read-only git). */
export function sourceVersion(): string {
  if (process.env.BENCH_SOURCE) return process.env.BENCH_SOURCE;
  try {
    const git = (...args: string[]) =>
      execFileSync("git", args, {
        cwd: path.join(here, ".."),
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }).trim();
    return `${git("rev-parse", "--short", "HEAD")}${git("status", "--porcelain", "--", "src") ? " + uncommitted changes in src/" : ""}`;
  } catch {
    return "unknown";
  }
}
