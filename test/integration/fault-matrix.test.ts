/**
 * The fault matrix: for each forge, each call the agent makes (reads and writes, found by a clean probe run so
 * the matrix follows the code) meets a fault — before the emulator processes it (503, once or on every call)
 * and, for writes, after (the write is made, then the answer is a 500 once, or a reset on every call) — in a run that
 * shares one state file with the scenario's other runs, followed by a clean re-run. Every scenario must show:
 *   - at most one open PR for its branch, and exactly one after the clean re-run;
 *   - exactly one PullRequestCreated per PR across all its runs;
 *   - one terminal outcome per run: a failed run delivers exactly one PullRequestFailed and nothing else; a
 *     created run exactly one PullRequestCreated; an updated run exactly one PullRequestCreated (its first
 *     sight of a PR no run announced) or PullRequestUpdated; an unchanged run at most one PullRequestCreated
 *     (first sight) and no PullRequestUpdated; no other run delivers a PullRequestFailed.
 * Two phases per forge: "create" (a new branch) and "update" (a PR made by a clean run, then a new commit and a
 * policy asking for one more label and reviewer, so the faulted run patches the PR and adds both).
 * FAULT_MATRIX_REPORT=1 prints every scenario with its runs' statuses and reasons.
 */
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { PolicySchema, type Policy } from "../../src/domain/policy.js";
import type { RunResult } from "../../src/domain/run-result.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator, type Fault as AzureFault } from "../emulators/azure-devops.js";
import { startGitHubEmulator, type Fault as GitHubFault, type GitHubEmulator } from "../emulators/github.js";
import { seedOrderServiceOnAzure, seedOrderServiceOnGitHub } from "./worlds.js";

const MAX_ATTEMPTS = 3;
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
const MESSAGE = "feat(order): implement CreateOrderHandler [trace:ord-8128]";
const HANDLER = "src/Application/Handlers/CreateOrderHandler.cs";

type Phase = "create" | "update";
type When = "before" | "after";

/** One fault: where, when, what, and for how many consecutive calls of the route. */
interface FaultCase {
  route: string;
  when: When;
  kind: "503" | "500" | "reset";
  times: number;
}

/** What a forge's harness offers the matrix; both forges implement it over their emulator. */
interface Harness {
  name: string;
  writes: ReadonlySet<string>;
  /** A new branch with a new commit (or a new commit on `branch`); the event for it. */
  commit(branch: string): CommitCompleted;
  env(): Record<string, string>;
  policy(base: Record<string, unknown>): Policy;
  inject(fault: FaultCase): void;
  pendingFaults(): number;
  clearFaults(): void;
  /** Non-discovery routes called since `from` (a position in the request log), in order. */
  routesSince(from: number): string[];
  logSize(): number;
  /** Ids of the open PRs whose source is `branch`. */
  openPrs(branch: string): string[];
  /** Extra policy for the update phase: one more label and one more (existing) reviewer. */
  more: Record<string, unknown>;
}

interface Run {
  result: RunResult;
  delivered: LifecycleEvent[];
}

let counter = 0;

async function runAgent(h: Harness, policy: Policy, event: CommitCompleted): Promise<Run> {
  const delivered: LifecycleEvent[] = [];
  const agent = await createAgent({
    policy,
    env: h.env(),
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  try {
    return { result: await agent.handle(event), delivered };
  } finally {
    await agent.close();
  }
}

const basePolicy = (stateFile: string) => ({
  forge: "unset",
  retry_policy: { base_delay_ms: 1, max_attempts: MAX_ATTEMPTS },
  forge_timeout_ms: 3000,
  state_file: stateFile,
});

const names = (run: Run) => run.delivered.map((e) => e.event);
const count = (run: Run, name: string) => names(run).filter((n) => n === name).length;

/** The outcome checks one run must pass (see the header). Returns a description of what broke, or null. */
function terminalProblem(run: Run): string | null {
  const failed = count(run, "PullRequestFailed");
  const created = count(run, "PullRequestCreated");
  const updated = count(run, "PullRequestUpdated");
  const status = run.result.status;
  const ok =
    status === "failed"
      ? failed === 1 && created + updated === 0
      : failed === 0 &&
        (status === "created"
          ? created === 1 && updated === 0
          : status === "updated"
            ? created + updated === 1
            : status === "unchanged"
              ? created <= 1 && updated === 0
              : false);
  return ok ? null : `status ${status} with events [${names(run).join(", ")}]`;
}

interface Scenario {
  phase: Phase;
  fault: FaultCase;
}

interface Outcome {
  label: string;
  statuses: string[];
  reasons: string[];
  problems: string[];
}

/** Runs one scenario in its own folder (one state file for all its runs) and on its own branch. */
async function runScenario(h: Harness, { phase, fault }: Scenario): Promise<Outcome> {
  const label = `${h.name} ${phase} ${fault.when} ${fault.kind}×${fault.times === Infinity ? "∞" : fault.times} ${fault.route}`;
  const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-fault-matrix-"));
  const base = basePolicy(path.join(dir, "state.db"));
  const branch = `feature/fault-${++counter}`;
  const runs: Run[] = [];
  const problems: string[] = [];
  let event = h.commit(branch);
  let policy = h.policy(base);
  if (phase === "update") {
    runs.push(await runAgent(h, policy, event));
    if (runs[0]!.result.status !== "created")
      problems.push(`the update phase's first run was ${runs[0]!.result.status}`);
    event = h.commit(branch);
    policy = h.policy({ ...base, ...h.more });
  }
  const from = h.logSize();
  h.inject(fault);
  runs.push(await runAgent(h, policy, event));
  const met = fault.times === Infinity ? h.routesSince(from).includes(fault.route) : h.pendingFaults() === 0;
  h.clearFaults();
  if (!met) problems.push("the fault was never met");
  // A fault after the call lost only the answer: the write was made, so the PR exists even if the run failed.
  if (fault.when === "after" && h.openPrs(branch).length !== 1) problems.push("the lost-answer write made no PR");
  runs.push(await runAgent(h, policy, event));

  for (const [i, run] of runs.entries()) {
    const problem = terminalProblem(run);
    if (problem) problems.push(`run ${i + 1}: ${problem}`);
  }
  const last = runs.at(-1)!;
  if (last.result.status === "failed") problems.push(`the clean re-run failed: ${last.result.message ?? ""}`);
  const open = h.openPrs(branch);
  if (open.length !== 1) problems.push(`${open.length} open PRs for ${branch}`);
  const createdFor = new Map<string, number>();
  for (const run of runs)
    for (const e of run.delivered)
      if (e.event === "PullRequestCreated") createdFor.set(String(e.pr_id), (createdFor.get(String(e.pr_id)) ?? 0) + 1);
  for (const id of open)
    if (createdFor.get(id) !== 1) problems.push(`PR ${id} was announced ${createdFor.get(id) ?? 0} times`);
  for (const id of createdFor.keys())
    if (!open.includes(id)) problems.push(`PullRequestCreated for PR ${id}, not open`);
  return {
    label,
    statuses: runs.map((r) => r.result.status),
    reasons: runs.map((r) => r.result.reason ?? "-"),
    problems,
  };
}

/**
 * The faults for one route: before it is processed, once (retried away) and on every call (the run gives up);
 * for writes also after it is processed: a lost answer once, and a reset on every call.
 */
function faultsFor(route: string, write: boolean): FaultCase[] {
  const cases: FaultCase[] = [
    { route, when: "before", kind: "503", times: 1 },
    { route, when: "before", kind: "503", times: Infinity },
  ];
  if (write) {
    cases.push({ route, when: "after", kind: "500", times: 1 });
    cases.push({ route, when: "after", kind: "reset", times: Infinity });
  }
  return cases;
}

/** Probes both phases with clean runs, then builds and runs the matrix from the routes they called. */
async function matrix(h: Harness): Promise<{ outcomes: Outcome[]; routes: Record<Phase, string[]> }> {
  const dir = await mkdtemp(path.join(tmpdir(), "pr-creator-fault-probe-"));
  const base = basePolicy(path.join(dir, "state.db"));
  const branch = `feature/probe-${++counter}`;
  let from = h.logSize();
  const first = await runAgent(h, h.policy(base), h.commit(branch));
  const createRoutes = [...new Set(h.routesSince(from))];
  from = h.logSize();
  const second = await runAgent(h, h.policy({ ...base, ...h.more }), h.commit(branch));
  const updateRoutes = [...new Set(h.routesSince(from))];
  expect([first.result.status, second.result.status]).toEqual(["created", "updated"]);

  const scenarios: Scenario[] = [
    ...createRoutes.flatMap((r) => faultsFor(r, h.writes.has(r)).map((fault) => ({ phase: "create" as const, fault }))),
    // The update phase adds what the create phase cannot reach: the update path's writes and reads.
    ...updateRoutes
      .filter((r) => h.writes.has(r) || !createRoutes.includes(r))
      .flatMap((r) => faultsFor(r, h.writes.has(r)).map((fault) => ({ phase: "update" as const, fault }))),
  ];
  const outcomes: Outcome[] = [];
  for (const s of scenarios) outcomes.push(await runScenario(h, s));
  return { outcomes, routes: { create: createRoutes, update: updateRoutes } };
}

function report(outcomes: Outcome[]): string {
  return outcomes
    .map(
      (o) =>
        `${o.problems.length ? "FAIL" : "ok  "} ${o.label}: ${o.statuses.join(" → ")} (${o.reasons.join(", ")})${o.problems.length ? `\n       ${o.problems.join("\n       ")}` : ""}`,
    )
    .join("\n");
}

// ------------------------------------------------------------------------------------------------------------
// Azure DevOps
// ------------------------------------------------------------------------------------------------------------

function azureHarness(az: AzureEmulator, token: string): Harness {
  const repo = "OrderService";
  const sha = (n: number) => n.toString(16).padStart(40, "d");
  let commits = 100;
  seedOrderServiceOnAzure(az, repo, sha);
  az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example" });
  az.addIdentity({ displayName: "QAAssistantAgent", uniqueName: "qa@acme.example" });
  az.addIdentity({ displayName: "SecurityAgent", uniqueName: "security@acme.example" });
  const heads = new Map<string, string>();
  const asFault = (f: FaultCase): AzureFault =>
    f.kind === "reset"
      ? { reset: true, after: f.when === "after" }
      : { status: Number(f.kind), after: f.when === "after" };
  return {
    name: "azure-devops",
    writes: new Set(["createPullRequest", "updatePullRequest", "createLabel", "createReviewer"]),
    commit(branch) {
      const commit = sha(++commits);
      const parent = heads.get(branch) ?? sha(2);
      az.seedRepo(repo, {
        branches: { [branch]: commit },
        commits: {
          [commit]: {
            message: `${MESSAGE}\n\nstep ${commits}`,
            author,
            parents: [parent],
            changes: [{ path: `/${HANDLER}`, changeType: heads.has(branch) ? "edit" : "add" }],
          },
        },
      });
      heads.set(branch, commit);
      return {
        event: "CommitCompleted",
        trace_id: "trace-ord-8128",
        commit_hash: commit,
        repo,
        branch,
        agent: "code-committer-agent",
        timestamp: "2025-05-07T19:05:33Z",
      };
    },
    env: () => ({ AZURE_DEVOPS_TOKEN: token, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project }),
    policy: (base) => PolicySchema.parse({ ...base, forge: "azure-devops" }),
    inject: (f) => az.inject(f.route as never, asFault(f), f.times),
    pendingFaults: () => az.pendingFaults(),
    clearFaults: () => az.clearFaults(),
    logSize: () => az.requests.length,
    routesSince: (from) =>
      az.requests
        .slice(from)
        .map((r) => r.route)
        .filter((r) => r !== "discovery" && r !== "unmatched"),
    openPrs: (branch) =>
      az.state.pullRequests
        .filter((p) => p.status === "active" && p.sourceRefName === `refs/heads/${branch}`)
        .map((p) => String(p.pullRequestId)),
    more: {
      labels: { always: ["traceable", "generated-by:AI", "fault-matrix"] },
      reviewers: { mandatory: ["TechLeadAgent", "QAAssistantAgent", "SecurityAgent"] },
    },
  };
}

// ------------------------------------------------------------------------------------------------------------
// GitHub
// ------------------------------------------------------------------------------------------------------------

function gitHubHarness(gh: GitHubEmulator, token: string): Harness {
  const repo = "acme/OrderService";
  const sha = (n: number) => n.toString(16).padStart(40, "e");
  let commits = 100;
  seedOrderServiceOnGitHub(gh, repo, sha);
  gh.addUser("SecurityAgent");
  const record = () => gh.state.repos.get(repo.toLowerCase())!;
  const asFault = (f: FaultCase): GitHubFault =>
    f.kind === "reset"
      ? { reset: true, after: f.when === "after" }
      : { status: Number(f.kind), after: f.when === "after" };
  return {
    name: "github",
    writes: new Set(["pulls.create", "pulls.update", "issues.addLabels", "pulls.requestReviewers"]),
    commit(branch) {
      const commit = sha(++commits);
      const r = record();
      r.commits.set(commit, {
        message: `${MESSAGE}\n\nstep ${commits}`,
        author,
        parents: [r.branches.get(branch) ?? sha(2)],
        files: [{ filename: HANDLER, status: "added", additions: 12 + commits, deletions: 0 }],
      });
      r.branches.set(branch, commit);
      return {
        event: "CommitCompleted",
        trace_id: "trace-ord-8128",
        commit_hash: commit,
        repo,
        branch,
        agent: "code-committer-agent",
        timestamp: "2025-05-07T19:05:33Z",
      };
    },
    env: () => ({ GITHUB_TOKEN: token, GITHUB_API_URL: gh.url }),
    policy: (base) => PolicySchema.parse({ ...base, forge: "github", github: { throttle: false } }),
    inject: (f) => gh.inject(f.route as never, asFault(f), f.times),
    pendingFaults: () => gh.pendingFaults(),
    clearFaults: () => gh.clearFaults(),
    logSize: () => gh.requests.length,
    routesSince: (from) =>
      gh.requests
        .slice(from)
        .map((r) => r.route)
        .filter((r) => r !== "unknown"),
    openPrs: (branch) =>
      record()
        .pulls.filter((p) => p.state === "open" && p.head.ref === branch)
        .map((p) => String(p.number)),
    more: {
      labels: { always: ["traceable", "generated-by:AI", "fault-matrix"] },
      reviewers: { mandatory: ["TechLeadAgent", "QAAssistantAgent", "SecurityAgent"] },
    },
  };
}

// ------------------------------------------------------------------------------------------------------------

let az: AzureEmulator;
let gh: GitHubEmulator;
const AZ_TOKEN = "azdo-fault-matrix-pat-1";
const GH_TOKEN = "ghp_faultMatrixToken1";

beforeAll(async () => {
  [az, gh] = await Promise.all([
    startAzureDevOpsEmulator({ token: AZ_TOKEN }),
    startGitHubEmulator({ token: GH_TOKEN }),
  ]);
});

afterAll(async () => {
  await Promise.all([az.close(), gh.close()]);
});

describe("fault matrix: faults before and after every call, then a clean re-run", () => {
  it("Azure DevOps: at most one PR, one PullRequestCreated per PR, one terminal outcome per run", async () => {
    const { outcomes, routes } = await matrix(azureHarness(az, AZ_TOKEN));
    expect(routes.create).toContain("createPullRequest");
    expect(routes.update).toEqual(expect.arrayContaining(["updatePullRequest", "createLabel", "createReviewer"]));
    const text = report(outcomes);
    if (process.env.FAULT_MATRIX_REPORT) console.log(text, routes);
    expect(
      outcomes.filter((o) => o.problems.length > 0),
      text,
    ).toEqual([]);
  }, 120_000);

  it("GitHub: at most one PR, one PullRequestCreated per PR, one terminal outcome per run", async () => {
    const { outcomes, routes } = await matrix(gitHubHarness(gh, GH_TOKEN));
    expect(routes.create).toEqual(
      expect.arrayContaining(["pulls.create", "issues.addLabels", "pulls.requestReviewers"]),
    );
    expect(routes.update).toEqual(
      expect.arrayContaining(["pulls.update", "issues.addLabels", "pulls.requestReviewers"]),
    );
    const text = report(outcomes);
    if (process.env.FAULT_MATRIX_REPORT) console.log(text, routes);
    expect(
      outcomes.filter((o) => o.problems.length > 0),
      text,
    ).toEqual([]);
  }, 120_000);
});
