/**
 * A fleet of the built CLI against one PostgreSQL database and the GitHub emulator: `serve` replicas and
 * `worker` processes started in one folder (one config, one traces file, one events file), events for
 * feature branches, and waits that poll a condition with a bound (so a bug fails instead of hanging).
 * Shared by the postgres-*.test.ts files and bench/scale.ts.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { stringify } from "yaml";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { seedOrderServiceOnGitHub } from "./worlds.js";

// bench/scale.ts runs a private build, safe from rebuilds of dist/ while it runs.
const MAIN = process.env.PR_CREATOR_FLEET_CLI ?? fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));
export const TOKEN = "ghp_fleetTestToken";
export const REPO = "acme/OrderService";
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
export const sha = (n: number) => n.toString(16).padStart(40, "a");

export interface Fleet {
  gh: GitHubEmulator;
  dir: string;
  env: Record<string, string>;
}

/** The emulator (every answer `latencyMs` late) with the sample repository, and a folder with the config. */
export async function startFleet(databaseUrl: string, opts: { latencyMs?: number; config?: string } = {}) {
  const gh = await startGitHubEmulator({ token: TOKEN, latencyMs: opts.latencyMs ?? 0 });
  seedOrderServiceOnGitHub(gh, REPO, sha, { devMessage: "feat(order): add OrderId" });
  const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-fleet-"));
  await writeFile(path.join(dir, "traces.yaml"), stringify({ traces: SAMPLE_TRACES }));
  await writeFile(
    path.join(dir, "pr-creator.yaml"),
    opts.config ??
      [
        "forge: github",
        "github: { throttle: false }",
        "retry_policy: { base_delay_ms: 10 }",
        "merge: { auto_merge_levels: [] }",
        "memory: { store: none }",
        "state_file: state.db",
        "trace_registry: traces.yaml",
        "events: { jsonl_file: events.jsonl }",
        "server: { max_queued: 100000, drain_timeout_ms: 60000 }",
        "",
      ].join("\n"),
  );
  const env = {
    PATH: process.env.PATH ?? "",
    CI: "true",
    NO_COLOR: "1",
    PR_CREATOR_LOG_LEVEL: "silent",
    GITHUB_TOKEN: TOKEN,
    GITHUB_API_URL: gh.url,
    PR_CREATOR_DATABASE_URL: databaseUrl,
  };
  return { gh, dir, env } satisfies Fleet;
}

/** A new commit on `branch` (created when missing) and its CommitCompleted event; `folder` outside src/Order leaves the trace's scope. */
export function commitOn(fleet: Fleet, branch: string, n: number, folder = "src/Order"): CommitCompleted {
  const repo = fleet.gh.state.repos.get(REPO.toLowerCase())!;
  const parent = repo.branches.get(branch) ?? sha(2);
  repo.commits.set(sha(n), {
    message: `feat(order): step ${n} of CreateOrderHandler [trace:ord-8128]`,
    author,
    parents: [parent],
    files: [
      { filename: `${folder}/Step${n}.cs`, status: "added", additions: 12, deletions: 0 },
      { filename: `tests/Order/Step${n}Tests.cs`, status: "added", additions: 14, deletions: 0 },
    ],
  });
  repo.branches.set(branch, sha(n));
  return {
    event: "CommitCompleted",
    trace_id: "trace-ord-8128",
    commit_hash: sha(n),
    repo: REPO,
    branch,
    agent: "code-committer-agent",
    timestamp: "2025-05-07T19:05:33Z",
  };
}

export interface Proc {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function start(fleet: Fleet, args: string[], ready: RegExp): Promise<Proc & { match: RegExpExecArray }> {
  const child = spawn(process.execPath, [MAIN, ...args, "--config", "pr-creator.yaml"], {
    cwd: fleet.dir,
    env: fleet.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      const match = ready.exec(stderr);
      if (match) resolve({ child, stderr: () => stderr, exited, match });
    });
    void exited.then((code) => reject(new Error(`${args[0]} exited (${code}) before it was ready:\n${stderr}`)));
  });
}

export async function spawnServe(fleet: Fleet): Promise<Proc & { base: string }> {
  const proc = await start(fleet, ["serve", "--port", "0"], /listening on (http:\/\/[^\s;]+)/);
  return { ...proc, base: proc.match[1]! };
}

export async function spawnWorker(fleet: Fleet, concurrency = 4): Promise<Proc & { poolId: string }> {
  const proc = await start(fleet, ["worker", "--concurrency", String(concurrency)], /worker: (pool-\w+) taking runs/);
  return { ...proc, poolId: proc.match[1]! };
}

export async function call(
  base: string,
  method: string,
  route: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: { ...(opts.body === undefined ? {} : { "content-type": "application/json" }), ...opts.headers },
    ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text ? (JSON.parse(text) as unknown) : null };
}

export interface RunView {
  run_id: string;
  thread_id: string;
  status: string;
  attempts: number;
  started_at: string | null;
  finished_at: string | null;
  result: { status: string; pr: { id: number | string | null } | null; events: { event: string }[] } | null;
  error: { reason: string; message: string } | null;
}

/** Polls `read` until `done` holds, at most `boundMs` (a bound for a broken build, not a timing assertion). */
export async function until<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, boundMs = 60_000) {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export const getRun = async (base: string, runId: string) =>
  (await call(base, "GET", `/v1/runs/${runId}`)).body as RunView;

export const settled = (base: string, runId: string, boundMs?: number) =>
  until(
    () => getRun(base, runId),
    (r) => r.status === "done" || r.status === "failed" || r.status === "awaiting_approval",
    `run ${runId} to settle`,
    boundMs,
  );

/** The lifecycle events every process appended to the shared events file. */
export async function eventsOf(fleet: Fleet): Promise<LifecycleEvent[]> {
  const text = await readFile(path.join(fleet.dir, "events.jsonl"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as LifecycleEvent);
}

/** Stops a process with SIGTERM and waits for it. */
export async function stop(proc: Proc): Promise<number | null> {
  if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill("SIGTERM");
  return proc.exited;
}
