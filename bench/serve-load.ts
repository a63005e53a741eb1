/**
 * Load test of `pr-creator serve` (not a test: nothing fails on a slow number).
 *
 *   npm run bench:serve      # ≈ 1–2 min on 2 cores; writes bench/serve.md
 *
 * One process, loopback only: the Azure DevOps emulator (test/emulators), the HTTP server (createHttpServer
 * with its defaults: 8 run slots, 200 queue places, bearer auth on) and 20 clients. 1,000 ChangeRequested
 * events with distinct change ids (so 1,000 distinct branches and PRs). Each client takes the next event,
 * POSTs it (honouring 429 Retry-After), polls GET /v1/runs/:id every 50 ms until the run settles, and takes
 * the next. Measured: throughput (events settled per second of wall time), submit → done latency (first POST
 * to the poll that saw it settle, so up to one poll interval late), errors (transport errors, answers other
 * than 200/202/429, runs not ending `done` with a created PR), duplicate PRs (branches with more than one PR
 * in the emulator), and peak RSS of the process (emulator and clients included). A 170 s deadline bounds the
 * whole run; events not settled by then count as errors. The agent's run log (a JSON line per run on stderr)
 * stays on, as in production; `2>/dev/null` hides it.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createAgent } from "../src/agent/create-agent.js";
import { errorText } from "../src/domain/errors.js";
import { PolicySchema } from "../src/domain/policy.js";
import { createHttpServer } from "../src/server/http.js";
import { startAzureDevOpsEmulator } from "../test/emulators/azure-devops.js";
import { pvcChangeRequest, seedDataVolumeOnAzure } from "../test/integration/worlds.js";

const here = path.dirname(fileURLToPath(import.meta.url));
const EVENTS = 1000;
const CLIENTS = 20;
const POLL_MS = 50;
const DEADLINE_MS = 170_000;
const REPO = "gitops";
const PAT = "bench-serve-pat";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const event = (i: number) => pvcChangeRequest(`load-${i}`, REPO);

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-bench-serve-"));
  const az = await startAzureDevOpsEmulator({ token: PAT });
  az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.test" });
  az.addIdentity({ displayName: "QAAssistantAgent", uniqueName: "qa@acme.test" });
  seedDataVolumeOnAzure(az, REPO, "0a".repeat(20));

  const token = randomBytes(24).toString("hex");
  const env = {
    AZURE_DEVOPS_TOKEN: PAT,
    AZURE_DEVOPS_ORG_URL: az.orgUrl,
    AZURE_DEVOPS_PROJECT: az.project,
    PR_CREATOR_API_TOKEN: token,
  };
  // Auto-merge off: without CI the emulator would merge each PR at once; the load is PR creation.
  const policy = PolicySchema.parse({
    forge: "azure-devops",
    merge: { auto_merge_levels: [] },
    state_file: path.join(dir, "state.db"),
    server: { port: 0 },
  });
  const http = createHttpServer({
    agent: () => createAgent({ policy, env, model: null, cwd: dir }),
    server: policy.server,
    env,
  });
  const url = await http.listen();
  const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const latencies: number[] = [];
  const problems = new Map<string, number>();
  const problem = (what: string) => problems.set(what, (problems.get(what) ?? 0) + 1);
  // Warnings do not change an outcome; counted by their text with numbers masked, to see what they were.
  const warnings = new Map<string, number>();
  const note = (warning: string) => {
    const key = warning.replace(/\d+/g, "N").slice(0, 300);
    warnings.set(key, (warnings.get(key) ?? 0) + 1);
  };
  let throttled = 0;
  let polls = 0;
  let next = 0;
  const loadAtStart = os.loadavg()[0]!;
  const started = performance.now();
  const deadline = started + DEADLINE_MS;

  async function submit(i: number): Promise<string | null> {
    for (;;) {
      const response = await fetch(`${url}/v1/events`, { method: "POST", headers, body: JSON.stringify(event(i)) });
      const body = (await response.json()) as { run_id?: string };
      if (response.status === 202 || response.status === 200) return body.run_id ?? null;
      if (response.status !== 429) {
        problem(`POST answered ${response.status}`);
        return null;
      }
      throttled += 1;
      await sleep(Number(response.headers.get("retry-after") ?? "1") * 1000);
    }
  }

  async function client(): Promise<void> {
    while (next < EVENTS && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      try {
        const runId = await submit(i);
        if (runId === null) continue;
        for (;;) {
          if (performance.now() > deadline) {
            problem("not settled by the deadline");
            break;
          }
          await sleep(POLL_MS);
          polls += 1;
          const response = await fetch(`${url}/v1/runs/${runId}`, {
            headers: { authorization: headers.authorization },
          });
          const run = (await response.json()) as {
            status: string;
            result: { status: string; reason?: string; warnings: string[] } | null;
          };
          if (response.status !== 200) {
            problem(`GET answered ${response.status}`);
            break;
          }
          if (run.status === "queued" || run.status === "running") continue;
          latencies.push(performance.now() - t0);
          for (const warning of run.result?.warnings ?? []) note(warning);
          if (run.status !== "done" || run.result?.status !== "created")
            problem(
              `run ended ${run.status}/${run.result?.status ?? "no result"}${run.result?.reason ? ` (${run.result.reason})` : ""}`,
            );
          break;
        }
      } catch (error) {
        problem(`transport: ${errorText(error)}`);
      }
    }
  }

  await Promise.all(Array.from({ length: CLIENTS }, client));
  const wallS = (performance.now() - started) / 1000;
  const unsent = Math.max(0, EVENTS - next);
  if (unsent > 0) problems.set("not sent by the deadline", unsent);
  const metricsText = await (
    await fetch(`${url}/metrics`, { headers: { authorization: headers.authorization } })
  ).text();
  const drain = await http.close();
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);

  const perBranch = new Map<string, number>();
  for (const pr of az.state.pullRequests) perBranch.set(pr.sourceRefName, (perBranch.get(pr.sourceRefName) ?? 0) + 1);
  const duplicates = [...perBranch.values()].filter((n) => n > 1).reduce((sum, n) => sum + n - 1, 0);
  const missing = Array.from({ length: EVENTS }, (_, i) => `refs/heads/agent-sre/pvc-size-load-${i}`).filter(
    (b) => !perBranch.has(b),
  ).length;
  const forgeCalls = az.calls();
  const prCount = az.state.pullRequests.length;
  await az.close();
  await rm(dir, { recursive: true, force: true });

  const sorted = [...latencies].sort((a, b) => a - b);
  const errors = [...problems.values()].reduce((a, b) => a + b, 0);
  const settledCount = latencies.length;
  const http429 =
    /prcreator_http_requests_total\{method="POST",route="\/v1\/events",status="429"\} (\d+)/.exec(metricsText)?.[1] ??
    "0";
  const figures = {
    events: EVENTS,
    clients: CLIENTS,
    settled: settledCount,
    wall_s: round(wallS, 1),
    throughput_per_s: round(settledCount / wallS, 2),
    p50_ms: round(quantile(sorted, 0.5), 0),
    p95_ms: round(quantile(sorted, 0.95), 0),
    max_ms: round(sorted[sorted.length - 1] ?? Number.NaN, 0),
    errors,
    problems: Object.fromEntries(problems),
    duplicate_prs: duplicates,
    prs: prCount,
    missing_prs: missing,
    throttled_429: throttled,
    server_429: Number(http429),
    polls,
    forge_calls_per_event: round(forgeCalls / EVENTS, 2),
    peak_rss_mb: round(peakRss / 1024 / 1024, 1),
    drain,
    warnings: Object.fromEntries(warnings),
  };
  console.log(JSON.stringify(figures, null, 2));

  const cpus = os.cpus();
  const commit = (() => {
    try {
      return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: here, encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  const met = (ok: boolean) => (ok ? "met" : "**not met**");
  const md = `# Serve load test (\`npm run bench:serve\`)

\`bench/serve-load.ts\`: ${EVENTS.toLocaleString("en")} ChangeRequested events (distinct change ids, so distinct branches and PRs) pushed through \`pr-creator serve\` (in process, \`createHttpServer\` with its default limits: ${policy.server.max_concurrent_runs} run slots, ${policy.server.max_queued} queue places; bearer auth on) by ${CLIENTS} concurrent clients against the Azure DevOps emulator, all on loopback in one process. Each client POSTs an event (honouring 429 Retry-After), polls \`GET /v1/runs/:id\` every ${POLL_MS} ms until the run settles, then takes the next event. Agent: deterministic drafter, default SQLite memory in a fresh state file, auto-merge off (no CI in the emulator). See the file's header for what each figure means.

Measured ${new Date().toISOString()} (code: ${commit}) on ${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${round(os.totalmem() / 1024 ** 3, 1)} GB RAM, ${os.type()} ${os.release()} (${os.arch()}), Node ${process.version}. 1-minute load average ${round(loadAtStart, 2)} at the start, ${round(os.loadavg()[0]!, 2)} at the end (${cpus.length} CPUs; other work on the machine inflates the tails).

| figure | value | target | |
|---|---:|---:|---|
| events settled | ${settledCount} of ${EVENTS} | all | ${met(settledCount === EVENTS)} |
| wall time | ${figures.wall_s} s | < 180 s | ${met(wallS < 180)} |
| throughput | ${figures.throughput_per_s} events/s | – | |
| submit → done p50 / p95 / max | ${figures.p50_ms} / ${figures.p95_ms} / ${figures.max_ms} ms | – | |
| errors | ${errors} | 0 | ${met(errors === 0)} |
| duplicate PRs | ${duplicates} | 0 | ${met(duplicates === 0)} |
| PRs in the emulator | ${figures.prs} (missing: ${missing}) | ${EVENTS} | ${met(figures.prs === EVENTS && missing === 0)} |
| peak RSS (emulator and clients included) | ${figures.peak_rss_mb} MB | – | |

Also: ${throttled} submissions answered 429 and retried (server count ${http429}); ${polls} polls; ${figures.forge_calls_per_event} forge calls per event; drain at the end: ${JSON.stringify(drain)}.${
    warnings.size > 0
      ? `\n\nWarnings in run results (they do not change the outcome; numbers shown as N): ${[...warnings].map(([text, n]) => `${n} × “${text}”`).join("; ")}. The load's events differ only in their id, so memory's possible-duplicate check flags most PRs: a label on a distinct PR, not a second PR for one branch.`
      : ""
  }${errors > 0 ? `\n\nErrors by kind: ${JSON.stringify(Object.fromEntries(problems))}.` : ""}

With ${CLIENTS} clients and ${policy.server.max_concurrent_runs} run slots, about ${CLIENTS - policy.server.max_concurrent_runs} runs wait in the queue at any time, so submit → done is roughly ${CLIENTS} ÷ throughput: the latency is queueing in front of the agent, whose per-run cost (CPU-bound on this machine, see bench/README.md) sets the throughput.
`;
  await writeFile(path.join(here, "serve.md"), md);
  console.log(`wrote ${path.join(here, "serve.md")}`);
  process.exitCode = errors === 0 && duplicates === 0 ? 0 : 1;
}

await main();
