/**
 * `PullRequestFailed.attempts` counts the calls made (at least 1 once the forge was called) — also for the
 * "already exists" conflict (Azure 409 TF401179, GitHub 422) and for 404s, which typed-rest-client answers
 * with null — and a reviewer request GitHub answers 404 after the PR was created is a warning: the PR exists.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted, LifecycleEvent, PullRequestFailed } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import { createAzureDevOpsForge } from "../../src/forges/azure-devops/index.js";
import { createGitHubForge } from "../../src/forges/github/index.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";

const AZ_TOKEN = "azdo-attempts-pat-value-3";
const GH_TOKEN = "ghp_attemptsTokenValue3";
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
const retry = { base_delay_ms: 1, max_attempts: 3 };
const notOurs = {
  title: "Someone else's change",
  description: "Opened by hand; no trace here.",
  target_branch: "dev",
  is_draft: false,
  labels: [],
  reviewers: [],
  work_items: [],
};

let az: AzureEmulator;
let gh: GitHubEmulator;
let n = 0;

const event = (repo: string, branch: string, commit: string): CommitCompleted => ({
  event: "CommitCompleted",
  trace_id: "trace-ord-8128",
  commit_hash: commit,
  repo,
  branch,
  agent: "code-committer-agent",
  timestamp: "2025-05-07T19:05:33Z",
});

async function run(forge: "azure-devops" | "github", e: CommitCompleted) {
  const delivered: LifecycleEvent[] = [];
  const env =
    forge === "github"
      ? { GITHUB_TOKEN: GH_TOKEN, GITHUB_API_URL: gh.url }
      : { AZURE_DEVOPS_TOKEN: AZ_TOKEN, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project };
  const agent = await createAgent({
    policy: PolicySchema.parse({ forge, github: { throttle: false }, retry_policy: retry, forge_timeout_ms: 2000 }),
    env,
    traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
    sinks: [async (x) => void delivered.push(x)],
    model: null,
    memory: null,
  });
  const result = await agent.handle(e);
  await agent.close();
  const failed = delivered.filter((x): x is PullRequestFailed => x.event === "PullRequestFailed");
  return { result, delivered, failed };
}

const ghSha = (k: number) => k.toString(16).padStart(40, "f");
const azSha = (k: number) => k.toString(16).padStart(40, "9");

function ghBranch(): CommitCompleted {
  const branch = `feature/attempts-${++n}`;
  const repo = gh.state.repos.get("acme/orderservice")!;
  repo.commits.set(ghSha(100 + n), {
    message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
    author,
    parents: [ghSha(2)],
    files: [
      { filename: "src/Application/Handlers/CreateOrderHandler.cs", status: "added", additions: 9, deletions: 0 },
    ],
  });
  repo.branches.set(branch, ghSha(100 + n));
  return event("acme/OrderService", branch, ghSha(100 + n));
}

function azBranch(): CommitCompleted {
  const branch = `feature/attempts-${++n}`;
  az.seedRepo("OrderService", {
    branches: { [branch]: azSha(100 + n) },
    commits: {
      [azSha(100 + n)]: {
        message: "feat(order): implement CreateOrderHandler [trace:ord-8128]",
        author,
        parents: [azSha(2)],
        changes: [{ path: "/src/Application/Handlers/CreateOrderHandler.cs", changeType: "add" }],
      },
    },
  });
  return event("OrderService", branch, azSha(100 + n));
}

beforeAll(async () => {
  [az, gh] = await Promise.all([
    startAzureDevOpsEmulator({ token: AZ_TOKEN }),
    startGitHubEmulator({ token: GH_TOKEN }),
  ]);
  gh.seedRepo("acme/OrderService", {
    default_branch: "main",
    branches: { main: ghSha(1), dev: ghSha(2) },
    commits: {
      [ghSha(1)]: {
        message: "chore: scaffold",
        author,
        parents: [],
        files: [{ filename: "README.md", status: "added", additions: 3, deletions: 0 }],
      },
      [ghSha(2)]: {
        message: "feat(order): add OrderId",
        author,
        parents: [ghSha(1)],
        files: [{ filename: "src/Domain/OrderId.cs", status: "added", additions: 4, deletions: 0 }],
      },
    },
  });
  gh.addUser("TechLeadAgent");
  gh.addUser("QAAssistantAgent");
  az.seedRepo("OrderService", {
    branches: { main: azSha(1), dev: azSha(2) },
    commits: {
      [azSha(1)]: {
        message: "chore: scaffold",
        author,
        parents: [],
        changes: [{ path: "/README.md", changeType: "add" }],
      },
      [azSha(2)]: {
        message: "feat(order): add OrderId",
        author,
        parents: [azSha(1)],
        changes: [{ path: "/src/Domain/OrderId.cs", changeType: "add" }],
      },
    },
  });
  az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example" });
  az.addIdentity({ displayName: "QAAssistantAgent", uniqueName: "qa@acme.example" });
});

afterAll(async () => {
  await Promise.all([az.close(), gh.close()]);
});

describe("PullRequestFailed.attempts counts the calls made", () => {
  it("GitHub: a 422 'already exists' for a PR that is not ours", async () => {
    const e = ghBranch();
    const forge = createGitHubForge({
      token: GH_TOKEN,
      apiUrl: gh.url,
      timeoutMs: 2000,
      throttle: false,
      retry: PolicySchema.parse({ retry_policy: retry }).retry_policy,
    });
    await forge.createPullRequest("acme/OrderService", { ...notOurs, source_branch: e.branch });
    // The first lookup misses it (a stale list), so the create meets GitHub's 422.
    gh.inject("pulls.list", { status: 200, body: [] });
    const { result, failed } = await run("github", e);
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("pr_already_exists");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attempts).toBe(1);
  });

  it("Azure DevOps: a 409 TF401179 for a PR that is not ours, and an open PR found by the lookup", async () => {
    const e = azBranch();
    const forge = createAzureDevOpsForge({
      orgUrl: az.orgUrl,
      project: az.project,
      token: AZ_TOKEN,
      timeoutMs: 2000,
      retry: PolicySchema.parse({ retry_policy: retry }).retry_policy,
    });
    await forge.createPullRequest("OrderService", { ...notOurs, source_branch: e.branch });
    az.inject("getPullRequests", { status: 200, body: { count: 0, value: [] } });
    const conflict = await run("azure-devops", e);
    expect(conflict.result.reason).toBe("pr_already_exists");
    expect(conflict.failed.map((f) => f.attempts)).toEqual([1]);
    // Without the stale list, the lookup finds it: still one call made, not zero.
    const found = await run("azure-devops", e);
    expect(found.result.reason).toBe("pr_already_exists");
    expect(found.failed.map((f) => f.attempts)).toEqual([1]);
  });

  it("Azure DevOps: a 404 (resolved as null by typed-rest-client) counts its call", async () => {
    const { result, failed } = await run("azure-devops", event("NoSuchRepo", "feature/attempts-404", azSha(2)));
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("repo_not_found");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.attempts).toBeGreaterThanOrEqual(1);
  });
});

describe("a reviewer request GitHub answers 404 after the PR was created", () => {
  it("is a warning: the PR is created and the event names the reviewers it lacks", async () => {
    gh.inject("pulls.requestReviewers", { status: 404 });
    const { result, delivered, failed } = await run("github", ghBranch());
    expect(result.status).toBe("created");
    expect(failed).toEqual([]);
    expect(result.warnings.join("\n")).toMatch(/Reviewers TechLeadAgent, QAAssistantAgent could not be added/);
    expect(delivered.find((x) => x.event === "PullRequestCreated")).toMatchObject({
      unresolved_reviewers: ["TechLeadAgent", "QAAssistantAgent"],
    });
  });
});
