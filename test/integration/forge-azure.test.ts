/**
 * The agent against the Azure DevOps emulator, through the unmodified azure-devops-node-api client: commits
 * read through the API (no local clone), PRs created, updated and kept unique, faults retried.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import type { RunResult } from "../../src/domain/run-result.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import { PolicySchema } from "../../src/domain/policy.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { createAzureDevOpsForge } from "../../src/forges/azure-devops/index.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { cliFolder, runEventCli } from "./forge-cli.js";
import { seedOrderServiceOnAzure } from "./worlds.js";

const TOKEN = "azdo-secret-pat-value-42";
const REPO = "OrderService";
const sha = (n: number) => n.toString(16).padStart(40, "b");
const HANDLER = "/src/Application/Handlers/CreateOrderHandler.cs";
const TESTS = "/tests/Order/CreateOrderHandlerTests.cs";
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };

let az: AzureEmulator;
let branchCount = 0;

const policy = PolicySchema.parse({
  forge: "azure-devops",
  retry_policy: { base_delay_ms: 10 },
  forge_timeout_ms: 2000,
});

function env(token = TOKEN) {
  return { AZURE_DEVOPS_TOKEN: token, AZURE_DEVOPS_ORG_URL: az.orgUrl, AZURE_DEVOPS_PROJECT: az.project };
}

/** A new feature branch off dev with the seed's commit; returns the event for it. */
function featureBranch(
  name = `feature/order-${++branchCount}`,
  message = "feat(order): implement CreateOrderHandler [trace:ord-8128]",
): CommitCompleted {
  const commit = sha(1000 + ++branchCount);
  az.seedRepo(REPO, {
    branches: { [name]: commit },
    commits: {
      [commit]: {
        message,
        author,
        parents: [sha(2)],
        changes: [
          { path: HANDLER, changeType: "add" },
          { path: TESTS, changeType: "add" },
        ],
      },
    },
  });
  return {
    event: "CommitCompleted",
    trace_id: "trace-ord-8128",
    commit_hash: commit,
    repo: REPO,
    branch: name,
    agent: "code-committer-agent",
    timestamp: "2025-05-07T19:05:33Z",
  };
}

async function run(
  event: unknown,
  opts: { token?: string; traces?: typeof SAMPLE_TRACES; dryRun?: boolean } = {},
): Promise<{ result: RunResult; delivered: LifecycleEvent[] }> {
  const delivered: LifecycleEvent[] = [];
  const agent = await createAgent({
    policy,
    ...(opts.dryRun ? { dryRun: true } : {}),
    env: env(opts.token),
    traceRegistry: createInMemoryTraceRegistry(opts.traces ?? SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  return { result: await agent.handle(event), delivered };
}

const activePrs = () => az.state.pullRequests.filter((p) => p.status === "active");

beforeAll(async () => {
  az = await startAzureDevOpsEmulator({ token: TOKEN });
  seedOrderServiceOnAzure(az, REPO, sha);
  az.addIdentity({ displayName: "TechLeadAgent", uniqueName: "techlead@acme.example" });
  az.addIdentity({ displayName: "QA Assistant", uniqueName: "QAAssistantAgent@acme.example" });
});

afterEach(() => {
  az.reset();
});

afterAll(async () => {
  await az.close();
});

describe("Azure DevOps: create, unchanged, updated", () => {
  it("creates a PR with required reviewers and labels in one create call, reading the commit through the API", async () => {
    const event = featureBranch();
    const { result, delivered } = await run(event);
    expect(result.status).toBe("created");
    expect(result.pr?.id).toBe(1);
    expect(result.pr?.url).toBe(`${az.orgUrl}/${az.project}/_git/${REPO}/pullrequest/1`);
    const [pr] = activePrs();
    expect(pr?.title).toBe("feat(order): implement CreateOrderHandler [trace:ord-8128]");
    expect(pr?.description).toBe(result.pr?.description);
    expect(pr?.sourceRefName).toBe(`refs/heads/${event.branch}`);
    expect(pr?.targetRefName).toBe("refs/heads/dev");
    expect(pr?.isDraft).toBe(false);
    expect(pr?.reviewers.map((r) => [r.displayName, r.isRequired])).toEqual([
      ["TechLeadAgent", true],
      ["QA Assistant", true],
    ]);
    expect(pr?.labels.map((l) => l.name)).toEqual(["domain:order", "traceable", "generated-by:AI"]);
    expect(az.calls("createPullRequest")).toBe(1);
    expect(az.calls("createReviewer") + az.calls("createLabel")).toBe(0);
    // The commit comes with its changes in one call; the branch is not read (the create would report a missing
    // one), nor the repository on success.
    expect([az.calls("getCommit"), az.calls("getRefs"), az.calls("getChanges"), az.calls("getRepository")]).toEqual([
      1, 0, 0, 0,
    ]);
    // Azure reports no line counts: the body says so and the size check is skipped with a warning.
    expect(result.pr?.description).toContain("2 files changed (line counts unavailable)");
    expect(result.warnings).toEqual([expect.stringContaining("limits.max_changed_lines was not checked")]);
    expect(delivered.map((e) => e.event)).toEqual(["PullRequestCreated"]);
  });

  it("creates a draft when the blueprint context is incomplete", async () => {
    const traces = SAMPLE_TRACES.map((t) =>
      t.trace_id === "trace-ord-8128" ? { ...t, blueprint_name: undefined } : t,
    );
    const { result } = await run(featureBranch(), { traces });
    expect(result.status).toBe("created");
    expect(activePrs()[0]?.isDraft).toBe(true);
  });

  it("the same event again is unchanged (compared against the PR fetched by id); a new commit updates it", async () => {
    const event = featureBranch();
    await run(event);
    const writes = () => az.requests.filter((r) => r.route !== "discovery" && r.method !== "GET").length;
    const before = writes();
    const again = await run(event);
    expect(again.result.status).toBe("unchanged");
    expect(writes()).toBe(before);
    expect(az.calls("getPullRequest")).toBeGreaterThanOrEqual(1);

    const next = sha(7000);
    az.seedRepo(REPO, {
      branches: { [event.branch]: next },
      commits: {
        [next]: {
          message: "feat(order): validate the cart before ordering [trace:ord-8128]",
          author,
          parents: [event.commit_hash],
          changes: [{ path: HANDLER, changeType: "edit" }],
        },
      },
    });
    const updated = await run({ ...event, commit_hash: next });
    expect(updated.result.status).toBe("updated");
    expect(activePrs()).toHaveLength(1);
    expect(activePrs()[0]?.description).toContain("validate the cart");
  });
});

describe("Azure DevOps: retries and failures", () => {
  it("429 with Retry-After: 1 waits and succeeds", async () => {
    az.inject("createPullRequest", {
      status: 429,
      headers: { "Retry-After": "1", "X-RateLimit-Resource": "Core", "X-RateLimit-Delay": "1" },
      body: { message: "TF400733: The request has been canceled" },
    });
    const started = Date.now();
    const { result } = await run(featureBranch());
    expect(result.status).toBe("created");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(az.calls("createPullRequest")).toBe(2);
  });

  it("500, 500, then 201: created after three attempts", async () => {
    az.inject("createPullRequest", { status: 500, body: { message: "Internal error" } }, 2);
    const { result } = await run(featureBranch());
    expect(result.status).toBe("created");
    expect(az.calls("createPullRequest")).toBe(3);
    expect(activePrs()).toHaveLength(1);
  });

  it("500 three times: PullRequestFailed azure_devops_500 with attempts 3", async () => {
    az.inject("createPullRequest", { status: 500, body: { message: "Internal error" } }, 3);
    const { result, delivered } = await run(featureBranch());
    expect(result.reason).toBe("azure_devops_500");
    expect(delivered).toEqual([
      expect.objectContaining({ event: "PullRequestFailed", reason: "azure_devops_500", attempts: 3 }),
    ]);
    expect(activePrs()).toHaveLength(0);
  });

  it("401 is not retried: unauthorized, and the PAT appears nowhere in the output", async () => {
    const { result, delivered } = await run(featureBranch(), { token: "azdo-wrong-pat-0000" });
    expect(result.reason).toBe("unauthorized");
    // Not retried: no request answered 401 is sent again. (How many go out depends on whether this process
    // already knows the organisation's locations: discovery 401s first on a cold one, the parallel reads on a warm one.)
    const unauthorized = az.requests.filter((r) => r.status === 401).map((r) => `${r.method} ${r.path}${r.query}`);
    expect(unauthorized.length).toBeGreaterThan(0);
    expect(new Set(unauthorized).size).toBe(unauthorized.length);
    const everything = JSON.stringify({ result, delivered });
    expect(everything).not.toContain("azdo-wrong-pat-0000");
    expect(everything).not.toContain(TOKEN);
  });

  it("a TF401179 conflict takes the existing PR path: one PR, updated", async () => {
    const event = featureBranch();
    await run(event);
    az.inject("getPullRequests", { status: 200, body: { count: 0, value: [] } });
    az.state.pullRequests[0]!.title = "stale title";
    const { result } = await run(event);
    expect(result.status).toBe("updated");
    expect(activePrs()).toHaveLength(1);
    expect(activePrs()[0]?.title).toBe("feat(order): implement CreateOrderHandler [trace:ord-8128]");
    expect(az.requests.filter((r) => r.route === "createPullRequest").at(-1)?.status).toBe(409);
  });

  it("a branch that does not exist is branch_not_found, told by the create (TF401398) without a branch read", async () => {
    const { result } = await run({ ...featureBranch(), branch: "feature/never-pushed" });
    expect(result.reason).toBe("branch_not_found");
    expect(result.message).toContain("TF401398");
    expect(az.calls("getRefs")).toBe(0);
    expect(activePrs()).toEqual([]);
  });

  it("an unknown repository is repo_not_found and an unknown commit commit_not_found", async () => {
    const unknownRepo = await run({ ...featureBranch(), repo: "NoSuchService" });
    expect(unknownRepo.result.reason).toBe("repo_not_found");
    expect(unknownRepo.result.message).toContain('Azure DevOps has no repository "NoSuchService"');
    const unknownCommit = await run({ ...featureBranch(), commit_hash: sha(999_999) });
    expect(unknownCommit.result.reason).toBe("commit_not_found");
  });

  it("a preview names what is missing too, though it creates nothing that could fail", async () => {
    const preview = (event: CommitCompleted) => run(event, { dryRun: true }).then((r) => r.result.reason);
    expect(await preview({ ...featureBranch(), repo: "NoSuchService" })).toBe("repo_not_found");
    expect(await preview({ ...featureBranch(), branch: "feature/never-pushed" })).toBe("branch_not_found");
    // Only a preview reads the branch: it has no create to report a missing one.
    expect(az.calls("getRefs")).toBeGreaterThan(0);
    expect(await preview({ ...featureBranch(), commit_hash: sha(999_999) })).toBe("commit_not_found");
    expect((await run(featureBranch(), { dryRun: true })).result.status).toBe("previewed");
    expect(az.calls("createPullRequest")).toBe(0);
  });
});

describe("Azure DevOps: concurrency", () => {
  it("20 concurrent events on different branches make 20 PRs", async () => {
    const events = Array.from({ length: 20 }, () => featureBranch());
    const agent = await createAgent({
      policy,
      env: env(),
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
    });
    const results = await Promise.all(events.map((e) => agent.handle(e)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill("created"));
    expect(activePrs()).toHaveLength(20);
  });

  it("10 concurrent events for one branch make exactly one PR", async () => {
    const event = featureBranch();
    const agent = await createAgent({
      policy,
      env: env(),
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => agent.handle(event)));
    expect(results.filter((r) => r.status === "created")).toHaveLength(1);
    expect(results.filter((r) => r.status === "unchanged")).toHaveLength(9);
    expect(activePrs()).toHaveLength(1);
  });
});

describe("Azure DevOps: from the command line", () => {
  it("pr-creator run creates the PR; a second run is unchanged", async () => {
    const event = featureBranch();
    const dir = await cliFolder();
    const first = await runEventCli(event, "forge: azure-devops\n", env(), dir);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      status: "created",
      pr: { id: 1, target_branch: "dev" },
      events: [{ event: "PullRequestCreated" }],
    });
    // The skipped size check is the one warning, on stderr.
    expect(first.stderr).toContain("warning: The commit source reports no line counts");
    const second = await runEventCli(event, "forge: azure-devops\n", env(), dir);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: "unchanged", events: [] });
    expect(activePrs()).toHaveLength(1);
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(TOKEN);
  }, 30_000);
});

describe("Azure DevOps: texts for the change digest", () => {
  const TEXTS = "Texts";
  const OLD = "class Old\n{\n    int a;\n}\n";
  const RENAMED = "class Old\n{\n    int b;\n}\n";
  const forge = () =>
    createAzureDevOpsForge({
      orgUrl: az.orgUrl,
      project: az.project,
      token: TOKEN,
      timeoutMs: 5000,
      retry: { max_attempts: 3, backoff: "fixed", base_delay_ms: 10, retryable_status_codes: [429, 500, 502, 503] },
    });

  /** main: a root commit with four files; feature/texts: one commit that adds, deletes, renames with edits and touches a binary. */
  function seedTexts(): void {
    az.seedRepo(TEXTS, {
      branches: { main: sha(50), "feature/texts": sha(51) },
      commits: {
        [sha(50)]: {
          message: "chore: start",
          author,
          parents: [],
          files: {
            "src/Keep.cs": "class Keep {}\n",
            "src/Old.cs": OLD,
            "docs/Gone.md": "# gone\n",
            "assets/logo.png": "PNG\u0000\u0001",
          },
        },
        [sha(51)]: {
          message: "feat: texts",
          author,
          parents: [sha(50)],
          files: {
            "src/New.cs": "class New {}\n",
            "docs/Gone.md": null,
            "src/Old.cs": null,
            "src/Renamed.cs": RENAMED,
            "src/Keep.cs": "class Keep { }\n",
            "assets/logo.png": "PNG\u0000\u0002",
          },
          changes: [
            { path: "/src/New.cs", changeType: "add" },
            { path: "/docs/Gone.md", changeType: "delete" },
            { path: "/src/Renamed.cs", changeType: "edit, rename", sourcePath: "/src/Old.cs" },
            { path: "/src/Keep.cs", changeType: "edit" },
            { path: "/assets/logo.png", changeType: "edit" },
          ],
        },
      },
    });
  }

  const request = {
    repo: TEXTS,
    branch: "feature/texts",
    commit: sha(51),
    target_branch: "main",
    range: "commit",
  } as const;

  it("reads the items at the base and the head commit: null where absent or binary, a missing path left out", async () => {
    seedTexts();
    const azure = forge();
    const set = await azure.commits.load(request);
    const before = az.calls("getItem");

    const heard = new Map<string, unknown>();
    const texts = await azure.commits.readTexts!(
      set,
      ["src/New.cs", "docs/Gone.md", "src/Renamed.cs", "src/Keep.cs", "assets/logo.png", "no/such/file.txt"],
      (path, t) => heard.set(path, t),
    );

    expect(set.line_counts).toBe("unavailable");
    expect(set.files.find((f) => f.path === "src/Renamed.cs")).toMatchObject({
      old_path: "src/Old.cs",
      change: "renamed",
    });
    expect(Object.fromEntries(texts)).toEqual({
      "src/New.cs": { before: null, after: "class New {}\n" },
      "docs/Gone.md": { before: "# gone\n", after: null },
      "src/Renamed.cs": { before: OLD, after: RENAMED },
      "src/Keep.cs": { before: "class Keep {}\n", after: "class Keep { }\n" },
      // Azure does not flag binary changes: the item's content metadata does.
      "assets/logo.png": { before: null, after: null },
    });
    // Every path the map holds was handed to the digest as it was read, with the same texts.
    expect(heard).toEqual(texts);
    // New after; Gone before; Renamed, Keep, logo and the missing path on both sides.
    expect(az.calls("getItem") - before).toBe(10);
    const versions = az.requests
      .filter((r) => r.route === "getItem")
      .map((r) => new URLSearchParams(r.query).get("versionDescriptor.version"));
    expect(new Set(versions)).toEqual(new Set([sha(50), sha(51)]));
  });

  it("reads nothing for a change set whose commit this forge did not load", async () => {
    seedTexts();
    const set = await forge().commits.load(request);

    expect((await forge().commits.readTexts!(set, ["src/New.cs"])).size).toBe(0);
  });

  it("a commit with more changes than come with it has the rest read page by page", async () => {
    const paths = Array.from({ length: 2345 }, (_, i) => `/gen/File${i}.cs`);
    az.seedRepo("Big", {
      branches: { main: sha(70), "feature/big": sha(71) },
      commits: {
        [sha(70)]: {
          message: "chore: start",
          author,
          parents: [],
          changes: [{ path: "/README.md", changeType: "add" }],
        },
        [sha(71)]: {
          message: "feat: generate",
          author,
          parents: [sha(70)],
          changes: paths.map((path) => ({ path, changeType: "add" })),
        },
      },
    });
    const set = await forge().commits.load({
      repo: "Big",
      branch: "feature/big",
      commit: sha(71),
      target_branch: "main",
      range: "commit",
    });
    expect(set.files.map((f) => `/${f.path}`)).toEqual(paths);
    expect([az.calls("getCommit"), az.calls("getChanges")]).toEqual([1, 2]);
  });
});
