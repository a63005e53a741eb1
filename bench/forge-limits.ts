/**
 * Forge load benchmark (not a test): the agent under conditions the fast emulators alone never show, through a
 * strict proxy in front of them (test/emulators/strict-proxy.ts: latency on every request, discovery included,
 * and a server that serves only so many requests at a time, as a git-backed forge serialising its reads).
 *
 *   npm run bench:forge-limits    # ≈ 3–4 min; writes bench/results-forge-limits.json and bench/forge-limits.md
 *
 * 1. Concurrency: 100 CommitCompleted events at once on 100 branches, one agent per forge, 50 ms per request
 *    and a server capacity of 2: the queue of ~600–1000 requests takes 15–25 s to drain, so with
 *    forge_timeout_ms 5 s (scaled down with the capacity from the 30 s default, to keep the run short) a
 *    client that lets every request wait on the server times out. Errors, reasons, wall time, p50/p95 per
 *    PR, the most requests the server saw in flight at once.
 * 2. GitHub throttle: `github.throttle: true` (the default), 50 ms per request: PRs one after another, each
 *    through a new agent in the same process (as serve or a worker runs them), and two agents side by side:
 *    seconds per PR, and the same with the throttle off.
 * 3. Azure DevOps location discovery: two CLI-like processes in turn, each one agent and one PR with the same
 *    state directory, 50 ms per request: discovery requests and the first PR's wall time in each.
 *
 * The emulators run in a child process (bench/emulator-host.ts); the proxy and the agent in this one.
 * BENCH_OUT=<name> writes bench/results-<name>.json instead (for a run of another checkout of the code).
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { startStrictProxy, type StrictProxy } from "../test/emulators/strict-proxy.js";
import { EmulatorHost, percentile, round } from "./forge-harness.js";
import { REPOS, TOKENS, type Branch, type ForgeKind } from "./shared.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const LATENCY_MS = 50;
const CONCURRENT = Number(process.env.BENCH_EVENTS ?? 100);
const CAPACITY = 2;
const TIMEOUT_MS = 5000;

type Env = Record<string, string>;

function envFor(forge: ForgeKind, url: string, project?: string): Env {
  return forge === "azure-devops"
    ? { AZURE_DEVOPS_TOKEN: TOKENS[forge], AZURE_DEVOPS_ORG_URL: url, AZURE_DEVOPS_PROJECT: project! }
    : { GITHUB_TOKEN: TOKENS[forge], GITHUB_API_URL: url };
}

async function makeAgent(forge: ForgeKind, env: Env, policy: Record<string, unknown>, cwd?: string) {
  const [{ createAgent }, { SAMPLE_TRACES }, { PolicySchema }, { createInMemoryTraceRegistry }] = await Promise.all([
    import("../src/agent/create-agent.js"),
    import("../src/demo/sample-repo.js"),
    import("../src/domain/policy.js"),
    import("../src/policy/trace-registry.js"),
  ]);
  return createAgent({
    policy: PolicySchema.parse({ forge, retry_policy: { base_delay_ms: 10 }, ...policy }),
    env,
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    model: null,
    ...(cwd ? { cwd } : {}),
    memory: null,
  });
}

type Agent = Awaited<ReturnType<typeof makeAgent>>;

async function handle(agent: Agent, forge: ForgeKind, b: Branch) {
  const started = performance.now();
  const result = await agent.handle({
    event: "CommitCompleted",
    trace_id: "trace-ord-8128",
    commit_hash: b.commit,
    repo: REPOS[forge],
    branch: b.branch,
    agent: "code-committer-agent",
    timestamp: "2025-05-07T19:05:33Z",
  });
  return { ms: performance.now() - started, status: result.status, reason: result.reason ?? null };
}

async function withEmulator<T>(
  forge: ForgeKind,
  proxyOpts: { latencyMs: number; capacity?: number },
  run: (ctx: { host: EmulatorHost; proxy: StrictProxy; url: string; project?: string }) => Promise<T>,
): Promise<T> {
  const host = new EmulatorHost();
  const ep = await host.call<{ url: string; project?: string }>({ op: "start", forge, latencyMs: 0 });
  const proxy = await startStrictProxy({ target: ep.url, ...proxyOpts });
  try {
    return await run({ host, proxy, url: proxy.url(ep.url), ...(ep.project ? { project: ep.project } : {}) });
  } finally {
    await proxy.close();
    await host.stop();
  }
}

// ---------------------------------------------------------------------------------------------------------

async function concurrency(forge: ForgeKind) {
  return withEmulator(forge, { latencyMs: LATENCY_MS, capacity: CAPACITY }, async ({ host, proxy, url, project }) => {
    const agent = await makeAgent(forge, envFor(forge, url, project), {
      forge_timeout_ms: TIMEOUT_MS,
      github: { throttle: false },
    });
    const branches = await host.call<Branch[]>({ op: "seed", tag: 1, count: CONCURRENT });
    proxy.resetCounters();
    const started = performance.now();
    const results = await Promise.all(branches.map((b) => handle(agent, forge, b)));
    const wall = performance.now() - started;
    await agent.close();
    const errors = results.filter((r) => r.status !== "created");
    const reasons: Record<string, number> = {};
    for (const e of errors) reasons[e.reason ?? e.status] = (reasons[e.reason ?? e.status] ?? 0) + 1;
    const ms = results.map((r) => r.ms);
    return {
      forge,
      events: CONCURRENT,
      errors: errors.length,
      reasons,
      wall_s: round(wall / 1000, 1),
      p50_ms: round(percentile(ms, 50), 0),
      p95_ms: round(percentile(ms, 95), 0),
      requests: proxy.total,
      server_max_in_flight: proxy.maxInFlight,
    };
  });
}

async function githubThrottle() {
  const forge: ForgeKind = "github";
  return withEmulator(forge, { latencyMs: LATENCY_MS }, async ({ host, url }) => {
    const env = envFor(forge, url);
    const out: Record<string, unknown> = {};
    for (const throttle of [true, false]) {
      const branches = await host.call<Branch[]>({ op: "seed", tag: throttle ? 2 : 3, count: 10 });
      // One after another, a new agent each (serve and workers keep one process for many runs).
      const sequential: number[] = [];
      for (const b of branches.slice(0, 5)) {
        const agent = await makeAgent(forge, env, { github: { throttle } });
        const r = await handle(agent, forge, b);
        await agent.close();
        if (r.status !== "created") throw new Error(`throttle bench: ${r.status} ${r.reason}`);
        sequential.push(r.ms);
      }
      // Two agents side by side, each with its own 2 PRs one after another.
      const [a, b] = [
        await makeAgent(forge, env, { github: { throttle } }),
        await makeAgent(forge, env, { github: { throttle } }),
      ];
      const started = performance.now();
      await Promise.all(
        [a, b].map(async (agent, i) => {
          for (const br of branches.slice(5 + i * 2, 7 + i * 2)) await handle(agent, forge, br);
        }),
      );
      const pair = performance.now() - started;
      await a.close();
      await b.close();
      out[throttle ? "throttle_on" : "throttle_off"] = {
        sequential_ms: sequential.map((m) => round(m, 0)),
        first_pr_s: round(sequential[0]! / 1000, 2),
        later_prs_mean_s: round(sequential.slice(1).reduce((x, y) => x + y, 0) / (sequential.length - 1) / 1000, 2),
        two_agents_4_prs_s: round(pair / 1000, 2),
        two_agents_per_pr_s: round(pair / 4 / 1000, 2),
      };
    }
    return out;
  });
}

/** One CLI-like process: one agent, one PR, in `cwd` (its state directory); prints the PR's wall time. */
async function childRun(): Promise<void> {
  const [forge, url, project, cwd, branch, commit] = process.argv.slice(3) as [
    ForgeKind,
    string,
    string,
    string,
    string,
    string,
  ];
  const agent = await makeAgent(forge, envFor(forge, url, project), { state_file: path.join(cwd, "state.db") }, cwd);
  const r = await handle(agent, forge, { branch, commit });
  await agent.close();
  process.stdout.write(`${JSON.stringify(r)}\n`);
}

async function azureDiscovery() {
  const forge: ForgeKind = "azure-devops";
  return withEmulator(forge, { latencyMs: LATENCY_MS }, async ({ host, proxy, url, project }) => {
    const cwd = mkdtempSync(path.join(os.tmpdir(), "pr-creator-bench-cli-"));
    const branches = await host.call<Branch[]>({ op: "seed", tag: 4, count: 2 });
    const runs = [];
    try {
      for (const b of branches) {
        proxy.resetCounters();
        const out = await new Promise<string>((resolve, reject) => {
          const child = spawn(
            process.execPath,
            [
              "--import",
              "tsx",
              fileURLToPath(import.meta.url),
              "--child",
              forge,
              url,
              project!,
              cwd,
              b.branch,
              b.commit,
            ],
            { stdio: ["ignore", "pipe", "ignore"] },
          );
          let text = "";
          child.stdout.on("data", (c: Buffer) => (text += c.toString()));
          child.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(`child exited ${code}`))));
        });
        const r = JSON.parse(out.trim().split("\n").pop()!) as { ms: number; status: string };
        const discovery = proxy.log.filter((x) => x.method === "OPTIONS" || /ResourceAreas/i.test(x.path));
        runs.push({
          status: r.status,
          pr_ms: round(r.ms, 0),
          discovery_requests: discovery.length,
          discovery: discovery.map(
            (x) => `${x.method} ${new URL(x.path, "http://x").pathname.replace(/^\/[^/]+/, "")}`,
          ),
          requests: proxy.total,
        });
      }
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
    return runs;
  });
}

async function main(): Promise<void> {
  const started = Date.now();
  const load = os.loadavg()[0] ?? 0;
  const results = {
    meta: {
      date: new Date().toISOString(),
      code: (() => {
        try {
          return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: here }).toString().trim();
        } catch {
          return "unknown";
        }
      })(),
      cpus: os.cpus().length,
      load_1m_at_start: round(load, 2),
      load_1m_at_end: 0,
      total_s: 0,
      settings: { latency_ms: LATENCY_MS, events: CONCURRENT, server_capacity: CAPACITY, forge_timeout_ms: TIMEOUT_MS },
    },
    concurrency: [] as unknown[],
    github_throttle: {} as unknown,
    azure_discovery: [] as unknown[],
  };
  for (const forge of ["azure-devops", "github"] as ForgeKind[]) {
    const r = await concurrency(forge);
    console.log("concurrency", JSON.stringify(r));
    results.concurrency.push(r);
  }
  results.github_throttle = await githubThrottle();
  console.log("github throttle", JSON.stringify(results.github_throttle));
  results.azure_discovery = await azureDiscovery();
  console.log("azure discovery", JSON.stringify(results.azure_discovery));
  results.meta.load_1m_at_end = round(os.loadavg()[0] ?? 0, 2);
  results.meta.total_s = round((Date.now() - started) / 1000, 1);
  const name = process.env.BENCH_OUT ?? "forge-limits";
  writeFileSync(path.join(here, `results-${name}.json`), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`wrote bench/results-${name}.json in ${results.meta.total_s} s`);
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2] === "--child") await childRun();
else if (isMain) await main();
