/**
 * The agent against the GitHub emulator, through the unmodified @octokit/rest client: commits read through
 * the API (no local clone), PRs created, updated and kept unique, faults retried under retry_policy.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import type { RunResult } from "../../src/domain/run-result.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import { PolicySchema } from "../../src/domain/policy.js";
import type { CommitCompleted, LifecycleEvent } from "../../src/domain/events.js";
import { createGitHubForge } from "../../src/forges/github/index.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { cliFolder, runEventCli } from "./forge-cli.js";
import { seedOrderServiceOnGitHub } from "./worlds.js";

const TOKEN = "ghp_secretTokenValue123456";
const REPO = "acme/OrderService";
const sha = (n: number) => n.toString(16).padStart(40, "a");
const HANDLER = "src/Application/Handlers/CreateOrderHandler.cs";
const TESTS = "tests/Order/CreateOrderHandlerTests.cs";
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };

let gh: GitHubEmulator;
let branchCount = 0;

const policy = PolicySchema.parse({
  forge: "github",
  github: { throttle: false },
  retry_policy: { base_delay_ms: 10 },
  forge_timeout_ms: 2000,
});

function seed(): void {
  seedOrderServiceOnGitHub(gh, REPO, sha);
}

/** A new feature branch off dev with the seed's commit; returns the event for it. */
function featureBranch(
  name = `feature/order-${++branchCount}`,
  message = "feat(order): implement CreateOrderHandler [trace:ord-8128]",
): CommitCompleted {
  const repo = gh.state.repos.get(REPO.toLowerCase())!;
  const commit = sha(1000 + ++branchCount);
  repo.commits.set(commit, {
    message,
    author,
    parents: [sha(2)],
    files: [
      { filename: HANDLER, status: "added", additions: 12, deletions: 0 },
      { filename: TESTS, status: "added", additions: 14, deletions: 0 },
    ],
  });
  repo.branches.set(name, commit);
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
    env: { GITHUB_TOKEN: opts.token ?? TOKEN, GITHUB_API_URL: gh.url },
    traceRegistry: createInMemoryTraceRegistry(opts.traces ?? SAMPLE_TRACES),
    sinks: [async (e) => void delivered.push(e)],
    model: null,
    memory: null,
  });
  return { result: await agent.handle(event), delivered };
}

const openPulls = () => gh.state.repos.get(REPO.toLowerCase())!.pulls.filter((p) => p.state === "open");

beforeAll(async () => {
  gh = await startGitHubEmulator({ token: TOKEN });
  seed();
});

afterEach(() => {
  // Faults a test did not use up must not leak into the next one.
  gh.reset();
  seed();
});

afterAll(async () => {
  await gh.close();
});

describe("GitHub: create, unchanged, updated", () => {
  it("creates a ready PR with reviewers and labels, reading the commit through the API", async () => {
    const event = featureBranch();
    const { result, delivered } = await run(event);
    expect(result.status).toBe("created");
    expect(result.pr?.id).toBe(1);
    expect(result.pr?.url).toMatch(/\/acme\/OrderService\/pull\/1$/);
    const [pr] = openPulls();
    expect(pr?.title).toBe("feat(order): implement CreateOrderHandler [trace:ord-8128]");
    expect(pr?.body).toBe(result.pr?.description);
    expect(pr?.draft).toBe(false);
    expect(pr?.head.ref).toBe(event.branch);
    expect(pr?.base.ref).toBe("dev");
    expect(pr?.requested_reviewers.map((r) => r.toLowerCase())).toEqual(["techleadagent", "qaassistantagent"]);
    expect(pr?.labels.map((l) => l.name)).toEqual(["domain:order", "traceable", "generated-by:AI"]);
    expect(delivered.map((e) => e.event)).toEqual(["PullRequestCreated", "PullRequestReadyForReview"]);
    expect(delivered[0]).toMatchObject({
      pr_id: 1,
      repo: REPO,
      trace_id: "trace-ord-8128",
      blueprint_id: "usecase-create-order",
    });
  });

  it("creates a draft when the blueprint context is incomplete", async () => {
    const traces = SAMPLE_TRACES.map((t) => (t.trace_id === "trace-ord-8128" ? { ...t, description: undefined } : t));
    const { result, delivered } = await run(featureBranch(), { traces });
    expect(result.status).toBe("created");
    expect(openPulls()[0]?.draft).toBe(true);
    expect(delivered.map((e) => e.event)).toEqual(["PullRequestCreated"]);
  });

  it("the same event again is unchanged and sends no write; a new commit on the branch updates the same PR", async () => {
    const event = featureBranch();
    await run(event);
    // GraphQL reads (the file texts) are POSTs too; a write is any other POST, PATCH, PUT or DELETE.
    const isQuery = (body: unknown) => /^\s*query\b/.test((body as { query?: string } | undefined)?.query ?? "");
    const writes = () => gh.requests.filter((r) => r.method !== "GET" && !isQuery(r.body)).length;
    const before = writes();
    const again = await run(event);
    expect(again.result.status).toBe("unchanged");
    expect(again.delivered).toEqual([]);
    expect(writes()).toBe(before);

    const repo = gh.state.repos.get(REPO.toLowerCase())!;
    const next = sha(5000);
    repo.commits.set(next, {
      message: "feat(order): validate the cart before ordering [trace:ord-8128]",
      author,
      parents: [repo.branches.get(event.branch)!],
      files: [{ filename: HANDLER, status: "modified", additions: 5, deletions: 1 }],
    });
    repo.branches.set(event.branch, next);
    const updated = await run({ ...event, commit_hash: next });
    expect(updated.result.status).toBe("updated");
    expect(openPulls()).toHaveLength(1);
    expect(openPulls()[0]?.body).toContain("validate the cart");
  });
});

describe("GitHub: retries and failures", () => {
  it("429 with Retry-After: 1 waits and succeeds", async () => {
    gh.inject("pulls.create", { status: 429, headers: { "retry-after": "1" }, body: { message: "Too Many Requests" } });
    const started = Date.now();
    const { result } = await run(featureBranch());
    expect(result.status).toBe("created");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(gh.calls("pulls.create")).toBe(2);
  });

  it("500, 500, then 201: created after three attempts", async () => {
    gh.inject("pulls.create", { status: 500, body: { message: "Server Error" } }, 2);
    const { result } = await run(featureBranch());
    expect(result.status).toBe("created");
    expect(gh.calls("pulls.create")).toBe(3);
    expect(openPulls()).toHaveLength(1);
  });

  it("500 three times: PullRequestFailed github_500 with attempts 3", async () => {
    gh.inject("pulls.create", { status: 500, body: { message: "Server Error" } }, 3);
    const { result, delivered } = await run(featureBranch());
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("github_500");
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ event: "PullRequestFailed", reason: "github_500", attempts: 3 });
    expect(openPulls()).toHaveLength(0);
  });

  it("401 is not retried: unauthorized, and the token appears nowhere in the output", async () => {
    const { result, delivered } = await run(featureBranch(), { token: "ghp_wrongTokenValue987654" });
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("unauthorized");
    // The first reads go out together; each is refused once and none is retried.
    const refused = gh.requests.filter((r) => r.status === 401).map((r) => `${r.method} ${r.path}`);
    expect(refused.length).toBeGreaterThan(0);
    expect(new Set(refused).size).toBe(refused.length);
    const everything = JSON.stringify({ result, delivered });
    expect(everything).not.toContain("ghp_wrongTokenValue987654");
    expect(everything).not.toContain(TOKEN);
  });

  it("a 500 that names the token in its body is redacted", async () => {
    gh.inject("pulls.create", { status: 500, body: { message: `token ${TOKEN} rejected` } }, 3);
    const { result, delivered } = await run(featureBranch());
    expect(result.reason).toBe("github_500");
    expect(JSON.stringify({ result, delivered })).not.toContain(TOKEN);
    expect(result.message).toContain("[REDACTED]");
  });

  it("a duplicate-PR conflict takes the existing PR path: one PR, updated", async () => {
    const event = featureBranch();
    await run(event);
    // Hide the open PR from the next lookup, as if another run created it a moment later.
    gh.inject("pulls.list", { status: 200, body: [] });
    const repo = gh.state.repos.get(REPO.toLowerCase())!;
    repo.pulls[0]!.title = "stale title";
    const { result } = await run(event);
    expect(result.status).toBe("updated");
    expect(openPulls()).toHaveLength(1);
    expect(openPulls()[0]?.title).toBe("feat(order): implement CreateOrderHandler [trace:ord-8128]");
    expect(gh.requests.filter((r) => r.route === "pulls.create").at(-1)?.status).toBe(422);
  });

  it("an unknown repository is repo_not_found and an unknown commit commit_not_found", async () => {
    const unknownRepo = await run({ ...featureBranch(), repo: "acme/NoSuchService" });
    expect(unknownRepo.result.reason).toBe("repo_not_found");
    const unknownCommit = await run({ ...featureBranch(), commit_hash: sha(999_999) });
    expect(unknownCommit.result.reason).toBe("commit_not_found");
  });

  it("a bare repository name takes the owner from GITHUB_OWNER", async () => {
    const event = { ...featureBranch(), repo: "OrderService" };
    const agent = await createAgent({
      policy,
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url, GITHUB_OWNER: "acme" },
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
    });
    expect((await agent.handle(event)).status).toBe("created");
    const noOwner = await run(event);
    expect(noOwner.result.reason).toBe("invalid_event");
    expect(noOwner.result.message).toContain("has no owner");
  });

  it("a reviewer GitHub refuses (not a collaborator) or does not know is a warning; the PR is still created", async () => {
    gh.addUser("Outsider");
    gh.state.repos.get(REPO.toLowerCase())!.collaborators = ["techleadagent", "qaassistantagent"];
    const scoped = PolicySchema.parse({
      ...policy,
      reviewers: { by_scope: { Order: ["Outsider", "optional:NoSuchUser"] } },
    });
    const agent = await createAgent({
      policy: scoped,
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url },
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
    });
    const result = await agent.handle(featureBranch());
    expect(result.status).toBe("created");
    expect(result.warnings).toEqual([
      'Reviewer "NoSuchUser" has no GitHub identity and was not added.',
      expect.stringMatching(
        /^Reviewers TechLeadAgent, QAAssistantAgent, Outsider could not be added: GitHub answered 422/,
      ),
    ]);
    expect(openPulls()[0]?.labels.map((l) => l.name)).toEqual(["domain:order", "traceable", "generated-by:AI"]);
  });

  it("a branch that does not exist is branch_not_found", async () => {
    const event = { ...featureBranch(), branch: "feature/never-pushed" };
    const { result } = await run(event);
    expect(result.status).toBe("failed");
    expect(result.reason).toBe("branch_not_found");
  });

  it("a preview names what is missing too, though it creates nothing that could fail", async () => {
    const preview = (event: CommitCompleted) => run(event, { dryRun: true }).then((r) => r.result.reason);
    expect(await preview({ ...featureBranch(), repo: "acme/NoSuchService" })).toBe("repo_not_found");
    expect(await preview({ ...featureBranch(), branch: "feature/never-pushed" })).toBe("branch_not_found");
    expect(await preview({ ...featureBranch(), commit_hash: sha(999_999) })).toBe("commit_not_found");
    expect((await run(featureBranch(), { dryRun: true })).result.status).toBe("previewed");
    expect(gh.calls("pulls.create")).toBe(0);
  });
});

describe("GitHub: concurrency", () => {
  it("20 concurrent events on different branches make 20 PRs", async () => {
    const events = Array.from({ length: 20 }, () => featureBranch());
    const agent = await createAgent({
      policy,
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url },
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
    });
    const results = await Promise.all(events.map((e) => agent.handle(e)));
    expect(results.map((r) => r.status)).toEqual(Array(20).fill("created"));
    expect(openPulls()).toHaveLength(20);
  });

  it("10 concurrent events for one branch make exactly one PR", async () => {
    const event = featureBranch();
    const agent = await createAgent({
      policy,
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url },
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
    });
    const results = await Promise.all(Array.from({ length: 10 }, () => agent.handle(event)));
    // A failure names every run's status, reason and warnings, so a run that went another way says why.
    const outcomes = JSON.stringify(results.map((r) => [r.status, r.reason, r.warnings]));
    expect(results.map((r) => r.status).sort(), outcomes).toEqual(["created", ...Array<string>(9).fill("unchanged")]);
    expect(openPulls()).toHaveLength(1);
  });
});

describe("GitHub: from the command line", () => {
  it("pr-creator run creates the PR with the default pacing on; a second run is unchanged", async () => {
    const event = featureBranch();
    const env = { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url };
    const dir = await cliFolder();
    const first = await runEventCli(event, "forge: github\n", env, dir);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({
      status: "created",
      pr: { id: 1, target_branch: "dev" },
      events: [{ event: "PullRequestCreated" }, { event: "PullRequestReadyForReview" }],
    });
    const second = await runEventCli(event, "forge: github\n", env, dir);
    expect(JSON.parse(second.stdout)).toMatchObject({ status: "unchanged", events: [] });
    expect(openPulls()).toHaveLength(1);
    expect(first.stdout + first.stderr + second.stdout + second.stderr).not.toContain(TOKEN);
  }, 30_000);
});

describe("GitHub: patches and texts for the change digest", () => {
  const TEXTS = "acme/Texts";
  const OLD = "class Old\n{\n    int a;\n}\n";
  const RENAMED = "class Old\n{\n    int b;\n}\n";
  const forge = (throttle = false) =>
    createGitHubForge({
      token: TOKEN,
      apiUrl: gh.url,
      timeoutMs: 2000,
      throttle,
      retry: { max_attempts: 3, backoff: "fixed", base_delay_ms: 10, retryable_status_codes: [429, 500, 502, 503] },
    });

  /** main: a root commit with four files; feature/texts: one commit that adds, deletes, renames with edits and touches a binary. */
  function seedTexts(): void {
    gh.seedRepo(TEXTS, {
      default_branch: "main",
      branches: { main: sha(50), "feature/texts": sha(51) },
      commits: {
        [sha(50)]: {
          message: "chore: start",
          author,
          parents: [],
          files: [
            { filename: "src/Keep.cs", status: "added", additions: 1, deletions: 0, content: "class Keep {}\n" },
            { filename: "src/Old.cs", status: "added", additions: 4, deletions: 0, content: OLD },
            { filename: "docs/Gone.md", status: "added", additions: 1, deletions: 0, content: "# gone\n" },
            { filename: "assets/logo.png", status: "added", additions: 0, deletions: 0, content: "PNG\u0000\u0001" },
          ],
        },
        [sha(51)]: {
          message: "feat: texts",
          author,
          parents: [sha(50)],
          files: [
            {
              filename: "src/New.cs",
              status: "added",
              additions: 1,
              deletions: 0,
              patch: "@@ -0,0 +1 @@\n+class New {}",
              content: "class New {}\n",
            },
            {
              filename: "docs/Gone.md",
              status: "removed",
              additions: 0,
              deletions: 1,
              patch: "@@ -1 +0,0 @@\n-# gone",
            },
            {
              filename: "src/Renamed.cs",
              previous_filename: "src/Old.cs",
              status: "renamed",
              additions: 1,
              deletions: 1,
              patch: "@@ -1,4 +1,4 @@\n class Old\n {\n-    int a;\n+    int b;\n }",
              content: RENAMED,
            },
            // A large diff: GitHub leaves the patch out, and the digest diffs the texts.
            { filename: "src/Keep.cs", status: "modified", additions: 1, deletions: 1, content: "class Keep { }\n" },
            { filename: "assets/logo.png", status: "modified", additions: 0, deletions: 0, content: "PNG\u0000\u0002" },
          ],
        },
      },
    });
  }

  it("carries each file's patch from the commit API into ChangedFile.patch, none where GitHub sends none", async () => {
    seedTexts();
    const set = await forge().commits.load({
      repo: TEXTS,
      branch: "feature/texts",
      commit: sha(51),
      target_branch: "main",
      range: "commit",
    });

    expect(set.base).toBe(sha(50));
    expect(Object.fromEntries(set.files.map((f) => [f.path, f.patch]))).toEqual({
      "src/New.cs": "@@ -0,0 +1 @@\n+class New {}",
      "docs/Gone.md": "@@ -1 +0,0 @@\n-# gone",
      "src/Renamed.cs": "@@ -1,4 +1,4 @@\n class Old\n {\n-    int a;\n+    int b;\n }",
      "src/Keep.cs": undefined,
      "assets/logo.png": undefined,
    });
    expect(set.files.find((f) => f.path === "assets/logo.png")?.binary).toBe(true);
  });

  const ALL_PATHS = [
    "src/New.cs",
    "docs/Gone.md",
    "src/Renamed.cs",
    "src/Keep.cs",
    "assets/logo.png",
    "no/such/file.txt",
  ];
  const ALL_TEXTS = {
    "src/New.cs": { before: null, after: "class New {}\n" },
    "docs/Gone.md": { before: "# gone\n", after: null },
    "src/Renamed.cs": { before: OLD, after: RENAMED },
    "src/Keep.cs": { before: "class Keep {}\n", after: "class Keep { }\n" },
    "assets/logo.png": { before: null, after: null },
  };
  const loadTexts = async (throttle = false) => {
    const github = forge(throttle);
    const set = await github.commits.load({
      repo: TEXTS,
      branch: "feature/texts",
      commit: sha(51),
      target_branch: "main",
      range: "commit",
    });
    gh.requests.length = 0;
    return Object.fromEntries(await github.commits.readTexts!(set, ALL_PATHS));
  };

  it("reads the texts the patches do not give at the base and the head in one GraphQL query", async () => {
    seedTexts();
    expect(await loadTexts()).toEqual(ALL_TEXTS);
    // New and Gone come from their patches, the binary file is not read: Renamed, Keep and the missing path on
    // both sides, six objects, in one query.
    expect(gh.requests.map((r) => r.route)).toEqual(["graphql"]);
    const { variables } = gh.requests[0]!.body as { variables: Record<string, string> };
    expect(
      Object.values(variables)
        .filter((v) => v.includes(":"))
        .sort(),
    ).toEqual(
      [
        `${sha(50)}:src/Old.cs`,
        `${sha(51)}:src/Renamed.cs`,
        `${sha(50)}:src/Keep.cs`,
        `${sha(51)}:src/Keep.cs`,
        `${sha(50)}:no/such/file.txt`,
        `${sha(51)}:no/such/file.txt`,
      ].sort(),
    );
  });

  it("with github.throttle on, reads them through the contents API: the throttle spaces GraphQL like writes", async () => {
    seedTexts();
    expect(await loadTexts(true)).toEqual(ALL_TEXTS);
    expect(gh.requests.map((r) => r.route)).toEqual(Array(6).fill("repos.getContent"));
  });

  it("reads them through the contents API, side by side, when the query fails", async () => {
    seedTexts();
    gh.inject("graphql", { status: 502, body: { message: "Server Error" } }, 3);
    expect(await loadTexts()).toEqual(ALL_TEXTS);
    expect(gh.requests.filter((r) => r.route === "graphql")).toHaveLength(3);
    const refs = gh.requests
      .filter((r) => r.route === "repos.getContent")
      .map((r) => new URL(r.path, gh.url).searchParams.get("ref"));
    expect(refs).toHaveLength(6);
    expect(new Set(refs)).toEqual(new Set([sha(50), sha(51)]));
  });

  it("reads nothing for a change set whose commits this forge did not load", async () => {
    seedTexts();
    const github = forge();
    const set = await github.commits.load({
      repo: TEXTS,
      branch: "feature/texts",
      commit: sha(51),
      target_branch: "main",
      range: "commit",
    });
    const stranger = { ...set, commits: [{ ...set.commits[0]!, hash: sha(99) }] };

    expect((await forge().commits.readTexts!(set, ["src/New.cs"])).size).toBe(0);
    expect((await github.commits.readTexts!(stranger, ["src/New.cs"])).size).toBe(0);
  });
});

describe("GitHub: reading the change in as few calls as the event allows", () => {
  const LINE = "acme/Line";
  const forge = () =>
    createGitHubForge({
      token: TOKEN,
      apiUrl: gh.url,
      timeoutMs: 2000,
      throttle: false,
      retry: { max_attempts: 3, backoff: "fixed", base_delay_ms: 10, retryable_status_codes: [429, 500, 502, 503] },
    });
  const commit = (n: number, parent: number | null, file: string) => ({
    message: `feat: step ${n}`,
    author,
    parents: parent === null ? [] : [sha(parent)],
    files: [{ filename: file, status: "added" as const, additions: 1, deletions: 0, patch: "@@ -0,0 +1 @@\n+x" }],
  });

  /** main at 60; feature/line: 61 → 62 → 63 (its head); feature/moved: its head 63, the event names 62; other: 64 off main. */
  function seedLine(): void {
    gh.seedRepo(LINE, {
      default_branch: "main",
      branches: {
        main: sha(60),
        "feature/line": sha(63),
        "feature/moved": sha(63),
        "feature/other": sha(64),
      },
      commits: {
        [sha(60)]: commit(60, null, "README.md"),
        [sha(61)]: commit(61, 60, "a.txt"),
        [sha(62)]: commit(62, 61, "b.txt"),
        [sha(63)]: commit(63, 62, "c.txt"),
        [sha(64)]: commit(64, 60, "d.txt"),
      },
    });
  }
  const load = (branch: string, at: number, range: "auto" | "commit" | "merge-base", target = "main") =>
    forge().commits.load({ repo: LINE, branch, commit: sha(at), target_branch: target, range });
  const routes = () => gh.requests.map((r) => r.route);

  it("the event's commit at its branch's head: one compare of the target with the branch", async () => {
    seedLine();
    const set = await load("feature/line", 63, "auto");
    expect(routes()).toEqual(["repos.compareCommits"]);
    expect(set.range).toBe("merge-base");
    expect(set.base).toBe(sha(60));
    expect(set.commits.map((c) => c.hash)).toEqual([sha(61), sha(62), sha(63)]);
    expect(set.files.map((f) => f.path)).toEqual(["a.txt", "b.txt", "c.txt"]);
  });

  it("a single commit at its branch's head: the commit and the branch, in one wave", async () => {
    seedLine();
    const set = await load("feature/line", 63, "commit");
    expect(routes().sort()).toEqual(["repos.getBranch", "repos.getCommit"]);
    expect(set.range).toBe("commit");
    expect(set.files.map((f) => f.path)).toEqual(["c.txt"]);
  });

  it("a branch that moved past the event's commit: the change up to that commit, read the checked way", async () => {
    seedLine();
    const merged = await load("feature/moved", 62, "auto");
    expect(merged.commits.map((c) => c.hash)).toEqual([sha(61), sha(62)]);
    expect(merged.files.map((f) => f.path)).toEqual(["a.txt", "b.txt"]);
    const single = await load("feature/moved", 62, "commit");
    expect(single.commits.map((c) => c.hash)).toEqual([sha(62)]);
    expect(routes()).toContain("repos.get");
  });

  it("a commit that is not on its branch is commit_not_on_branch, on both ranges", async () => {
    seedLine();
    for (const range of ["auto", "commit"] as const)
      await expect(load("feature/other", 62, range)).rejects.toMatchObject({ reason: "commit_not_on_branch" });
  });

  it("names what is missing: repository, branch, commit; a missing target is the commit alone (auto) or branch_not_found (merge-base)", async () => {
    seedLine();
    for (const range of ["auto", "commit"] as const) {
      await expect(
        forge().commits.load({
          repo: "acme/Nope",
          branch: "feature/line",
          commit: sha(63),
          target_branch: "main",
          range,
        }),
      ).rejects.toMatchObject({ reason: "repo_not_found" });
      await expect(load("feature/nope", 63, range)).rejects.toMatchObject({ reason: "branch_not_found" });
      await expect(load("feature/line", 99, range)).rejects.toMatchObject({ reason: "commit_not_found" });
    }
    const alone = await load("feature/line", 63, "auto", "no-such-target");
    expect([alone.range, alone.commits.map((c) => c.hash)]).toEqual(["commit", [sha(63)]]);
    await expect(load("feature/line", 63, "merge-base", "no-such-target")).rejects.toMatchObject({
      reason: "branch_not_found",
    });
  });
});
