/**
 * The measured side of the benchmark, in its own process (forked by bench/forges.ts once per forge × latency ×
 * mode), so RSS and CPU time belong to the agent or the bare script alone. Per configuration: the parent sends
 * `run`; the first time, we warm up (a throwaway agent or bare publisher on separate branches, to load modules
 * and JIT the code); we build a fresh instance and send `warmed`; the parent clears the emulator's log and sends
 * `go`; we run the measured PRs and send `done`.
 *
 * The agent's modules are imported only in agent mode, so a bare process carries no LangChain.
 */
import dc from "node:diagnostics_channel";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { BarePr } from "./bare.js";
import {
  REPOS,
  TOKENS,
  type Branch,
  type Endpoint,
  type PrTiming,
  type RunDone,
  type RunnerMessage,
  type RunRequest,
  type TracedCall,
} from "./shared.js";

/**
 * Every HTTP request this process sends, seen through Node's diagnostics channels: node:http (azure-devops-node-api)
 * and undici (Octokit's fetch). Start = request created, end = response headers (undici) or response finished (http).
 */
const traced: TracedCall[] = [];
let tracing = false;
const open = new WeakMap<object, TracedCall>();
const AZURE_DISCOVERY = /\/_apis\/(?:ResourceAreas|connectionData)\b/i;
function begin(request: object, method: string, path: string): void {
  if (!tracing) return;
  const call: TracedCall = {
    start: performance.now(),
    end: Infinity,
    discovery: method === "OPTIONS" || AZURE_DISCOVERY.test(path),
  };
  traced.push(call);
  open.set(request, call);
}
function finish(request: object): void {
  const call = open.get(request);
  if (call) call.end = performance.now();
}
dc.subscribe("http.client.request.start", (m) => {
  const { request } = m as { request: { method: string; path: string } };
  begin(request, request.method, request.path);
});
dc.subscribe("http.client.response.finish", (m) => finish((m as { request: object }).request));
dc.subscribe("undici:request:create", (m) => {
  const { request } = m as { request: { method: string; path: string } };
  begin(request, request.method, request.path);
});
dc.subscribe("undici:request:headers", (m) => finish((m as { request: object }).request));

/**
 * The agent's module as it ships: from the built library (BENCH_AGENT_DIST, dist/ of `npm run build`) when the
 * harness runs this file as a plain-node bundle, else from the sources (this file run under tsx by hand).
 */
function shipped<T>(built: string, source: () => Promise<T>): Promise<T> {
  const dist = process.env.BENCH_AGENT_DIST;
  return dist ? (import(pathToFileURL(path.join(dist, built)).href) as Promise<T>) : source();
}

interface Subject {
  handle(b: Branch): Promise<{ ok: boolean; failure?: string; pr?: BarePr }>;
  close(): Promise<void>;
}

/**
 * The agent with the benchmark's policy. Without memory, `memory: null`; with it, the policy's default (SQLite
 * in `state_file`), in a fresh working directory so every instance starts with an empty state file.
 */
async function agentSubject(ep: Endpoint, memory: boolean): Promise<Subject> {
  const [{ createAgent }, { SAMPLE_TRACES }, { PolicySchema }, { createInMemoryTraceRegistry }] = await Promise.all([
    shipped<typeof import("../src/agent/create-agent.js")>(
      "agent/create-agent.js",
      () => import("../src/agent/create-agent.js"),
    ),
    shipped<typeof import("../src/demo/sample-repo.js")>(
      "demo/sample-repo.js",
      () => import("../src/demo/sample-repo.js"),
    ),
    shipped<typeof import("../src/domain/policy.js")>("domain/policy.js", () => import("../src/domain/policy.js")),
    shipped<typeof import("../src/policy/trace-registry.js")>(
      "policy/trace-registry.js",
      () => import("../src/policy/trace-registry.js"),
    ),
  ]);
  const env =
    ep.forge === "azure-devops"
      ? { AZURE_DEVOPS_TOKEN: TOKENS[ep.forge], AZURE_DEVOPS_ORG_URL: ep.url, AZURE_DEVOPS_PROJECT: ep.project! }
      : { GITHUB_TOKEN: TOKENS[ep.forge], GITHUB_API_URL: ep.url };
  const cwd = memory ? mkdtempSync(path.join(os.tmpdir(), "pr-creator-bench-")) : undefined;
  const agent = await createAgent({
    policy: PolicySchema.parse({ forge: ep.forge, github: { throttle: false }, retry_policy: { base_delay_ms: 10 } }),
    env,
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    model: null,
    ...(cwd ? { cwd } : { memory: null }),
  });
  const repo = REPOS[ep.forge];
  return {
    async handle(b) {
      const result = await agent.handle({
        event: "CommitCompleted",
        trace_id: "trace-ord-8128",
        commit_hash: b.commit,
        repo,
        branch: b.branch,
        agent: "code-committer-agent",
        timestamp: "2025-05-07T19:05:33Z",
      });
      if (result.status !== "created")
        return { ok: false, failure: `${result.status}: ${result.reason ?? ""} ${result.message ?? ""}`.trim() };
      const pr = result.pr!;
      return {
        ok: true,
        pr: {
          repo,
          source_branch: pr.source_branch,
          target_branch: pr.target_branch,
          title: pr.title,
          description: pr.description,
          is_draft: pr.is_draft,
          labels: pr.labels,
          reviewers: pr.reviewers,
        },
      };
    },
    async close() {
      await agent.close();
      if (cwd) rmSync(cwd, { recursive: true, force: true });
    },
  };
}

/**
 * The bare publisher makes the PR the agent made for `template.source_branch`, moved to the new branch; with
 * `reads`, it reads the branch's commit and its files' texts first.
 */
async function bareSubject(ep: Endpoint, template: BarePr, reads: boolean): Promise<Subject> {
  const { createBareAzure, createBareGitHub } = await import("./bare.js");
  const bare =
    ep.forge === "azure-devops"
      ? createBareAzure({ orgUrl: ep.url, project: ep.project!, token: TOKENS[ep.forge], reads })
      : createBareGitHub({ url: ep.url, token: TOKENS[ep.forge], reads });
  return {
    async handle(b) {
      try {
        await bare.publish({
          ...template,
          source_branch: b.branch,
          description: template.description.replaceAll(template.source_branch, b.branch),
          commit: b.commit,
        });
        return { ok: true };
      } catch (error) {
        return { ok: false, failure: error instanceof Error ? error.message : String(error) };
      }
    },
    close: async () => {},
  };
}

/** Runs `work` over `items` with at most `concurrency` in flight. */
async function pool<T>(
  items: T[],
  concurrency: number,
  work: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await work(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

const send = (msg: RunnerMessage) => new Promise<void>((resolve) => process.send!(msg, () => resolve()));
const gc = () => (globalThis as { gc?: () => void }).gc?.();

let warmedUp = false;

async function run(req: RunRequest, go: Promise<void>): Promise<RunDone> {
  const make = () =>
    req.mode === "bare" || req.mode === "bare+reads"
      ? bareSubject(req.endpoint, req.template!, req.mode === "bare+reads")
      : agentSubject(req.endpoint, req.mode === "agent+mem");

  // Warm-up, once per process: a throwaway instance, so the measured one starts with cold caches.
  if (!warmedUp && req.warmup.length > 0) {
    const warm = await make();
    // A few at a time, as a server's first minutes: enough invocations for V8 to tier the hot code up.
    await pool(req.warmup, Math.min(req.warmup.length, 10), async (b) => {
      const r = await warm.handle(b);
      if (!r.ok) throw new Error(`warm-up failed: ${r.failure}`);
    });
    await warm.close();
    warmedUp = true;
  }
  let template: BarePr | undefined;
  const subject = await make();
  gc();
  await send({ type: "warmed" });
  await go;

  const rssStart = process.memoryUsage.rss();
  let rssPeak = rssStart;
  let heapPeak = 0;
  // Cheap and sparse enough not to show in the CPU time: RSS every 10 ms, the heap every 50 ms.
  let ticks = 0;
  const sample = () => {
    rssPeak = Math.max(rssPeak, process.memoryUsage.rss());
    if (ticks++ % 5 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
  };
  const sampler = setInterval(sample, 10);
  traced.length = 0;
  tracing = true;
  const timings: PrTiming[] = new Array<PrTiming>(req.branches.length);
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await pool(req.branches, req.concurrency, async (b, i) => {
    const startEpoch = Date.now();
    const t0 = performance.now();
    const r = await subject.handle(b);
    const t1 = performance.now();
    timings[i] = {
      ms: t1 - t0,
      start: t0,
      end: t1,
      startEpoch,
      endEpoch: Date.now(),
      ok: r.ok,
      ...(r.failure ? { failure: r.failure } : {}),
    };
    if (r.pr && !template) template = r.pr;
  });
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpu0);
  tracing = false;
  clearInterval(sampler);
  sample();
  await subject.close();
  return {
    type: "done",
    timings,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    rssStart,
    rssPeak,
    heapPeak,
    calls: traced,
    ...(template ? { template } : {}),
  };
}

if (process.send) {
  let release: () => void = () => {};
  process.on("message", (msg: RunRequest | { type: "go" }) => {
    if (msg.type === "go") return release();
    const go = new Promise<void>((resolve) => (release = resolve));
    run(msg, go).then(
      (done) => send(done),
      (error: unknown) =>
        send({ type: "error", error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  process.on("disconnect", () => process.exit(0));
}
