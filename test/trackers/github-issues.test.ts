/**
 * GitHub issues: the emulator's issue routes against @octokit/openapi, the tracker adapter on the real GitHub
 * forge (comments once, labels, what it skips, how it classifies failures), and the agent with
 * `tracker: github`: `Closes #N` in the body, a comment on a failed run that a re-run does not repeat.
 */
import { Octokit } from "@octokit/rest";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createAgent } from "../../src/agent/create-agent.js";
import { SAMPLE_TRACES } from "../../src/demo/sample-repo.js";
import type { CommitCompleted } from "../../src/domain/events.js";
import { PolicySchema } from "../../src/domain/policy.js";
import type { Forge } from "../../src/forges/forge.js";
import { createGitHubForge } from "../../src/forges/github/index.js";
import { rollback } from "../../src/merge/rollback.js";
import { createInMemoryTraceRegistry } from "../../src/policy/trace-registry.js";
import { gitHubIssueRef, gitHubIssuesTracker } from "../../src/trackers/github-issues.js";
import type { TrackerUpdate } from "../../src/trackers/tracker.js";
import { issuesOf } from "../emulators/github-issues.js";
import { loadGitHubDescription, responseSchema, validate } from "../emulators/github-schema.js";
import { startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { seedOrderServiceOnGitHub } from "../integration/worlds.js";

const TOKEN = "ghp_issuesTrackerToken123456";
const REPO = "acme/OrderService";
const sha = (n: number) => n.toString(16).padStart(40, "a");
const author = { name: "code-committer-agent", email: "cc@agents.local", date: "2025-05-07T19:05:33Z" };
const HANDLER = "src/Application/Handlers/CreateOrderHandler.cs";

let gh: GitHubEmulator;
let forge: Forge;
let dir: string;
let branches = 0;

function seed(): void {
  seedOrderServiceOnGitHub(gh, REPO, sha);
  gh.addIssue(REPO, 12, "Orders cannot be created");
  gh.addIssue(REPO, 13, "Another issue");
}

const issue = (n: number) => issuesOf(gh.state.repos.get(REPO.toLowerCase())!).get(n)!;

beforeAll(async () => {
  gh = await startGitHubEmulator({ token: TOKEN });
  seed();
  forge = createGitHubForge({
    token: TOKEN,
    apiUrl: gh.url,
    timeoutMs: 2000,
    throttle: false,
    retry: { max_attempts: 1, backoff: "fixed", base_delay_ms: 1, retryable_status_codes: [502] },
  });
  dir = await mkdtemp(path.join(os.tmpdir(), "pr-creator-gh-issues-"));
});

afterEach(() => {
  gh.reset();
  seed();
});

afterAll(async () => {
  await gh.close();
  await rm(dir, { recursive: true, force: true });
});

describe("GitHub emulator: issues", () => {
  it("answers issues.get, listComments, createComment and addLabels on an issue as the description says", async () => {
    const description = loadGitHubDescription();
    const seen: { method: string; template: string; status: number; data: unknown }[] = [];
    const octokit = new Octokit({ auth: TOKEN, baseUrl: gh.url });
    octokit.hook.after("request", (response, options) => {
      seen.push({ method: options.method, template: options.url, status: response.status, data: response.data });
    });
    octokit.hook.error("request", (error, options) => {
      const e = error as { status: number; response?: { data: unknown } };
      seen.push({ method: options.method, template: options.url, status: e.status, data: e.response?.data });
      throw error;
    });
    const R = { owner: "acme", repo: "OrderService" };
    const attempt = (p: Promise<unknown>) => p.catch(() => undefined);
    await octokit.rest.issues.get({ ...R, issue_number: 12 });
    await attempt(octokit.rest.issues.get({ ...R, issue_number: 99 }));
    await octokit.rest.issues.createComment({ ...R, issue_number: 12, body: "hello" });
    await attempt(octokit.rest.issues.createComment({ ...R, issue_number: 99, body: "x" }));
    // No body: the request the description forbids, sent anyway to see the emulator refuse it.
    const noBody = { ...R, issue_number: 12 } as unknown as Parameters<typeof octokit.rest.issues.createComment>[0];
    await attempt(octokit.rest.issues.createComment(noBody));
    await octokit.rest.issues.listComments({ ...R, issue_number: 12, per_page: 100 });
    await octokit.rest.issues.addLabels({ ...R, issue_number: 12, labels: ["pr-failed"] });

    const problems = seen.flatMap((a) => {
      const schema = responseSchema(description, a.method, a.template, a.status);
      if (!schema) return [`${a.method} ${a.template} ${a.status}: no schema`];
      return validate(schema, a.data).map((p) => `${a.method} ${a.template} ${a.status} ${p}`);
    });
    expect(problems).toEqual([]);
    expect(seen.map((a) => a.status)).toEqual([200, 404, 201, 404, 422, 200, 200]);
    expect(issue(12).comments.map((c) => c.body)).toEqual(["hello"]);
    expect(issue(12).labels.map((l) => l.name)).toEqual(["pr-failed"]);
  });
});

const failed = (overrides: Partial<Extract<TrackerUpdate, { moment: "problem" }>> = {}): TrackerUpdate => ({
  moment: "problem",
  issue_id: "#12",
  trace_id: "trace-ord-8128",
  repo: REPO,
  at: "2026-01-08T10:00:00Z",
  pr: { id: 3, repo: REPO, branch: "feature/x", url: "https://github.example/acme/OrderService/pull/3", title: "t" },
  what: "failed",
  reason: "The forge answered 503. <script>alert(1)</script>",
  codes: ["github_503"],
  revert: null,
  ...overrides,
});

describe("the GitHub issues tracker", () => {
  const tracker = () =>
    gitHubIssuesTracker({
      issues: forge.issues!,
      labels: { on_review: ["in-review"], on_merged: [], on_failure: ["pr-failed"] },
      comments: { on_failure: true, on_approval: true },
    });

  it("comments once per moment, with a hidden marker, and labels per policy", async () => {
    const first = await tracker().apply(failed());
    expect(first.actions).toEqual(["labelled #12 pr-failed", "commented on #12"]);
    const again = await tracker().apply(failed());
    expect(again.actions).toEqual(["labelled #12 pr-failed", "comment on #12 already there"]);
    expect(issue(12).comments).toHaveLength(1);
    const body = issue(12).comments[0]!.body;
    expect(body).toMatch(/^\[PR 3 in acme\/OrderService\]\(https:\/\/github\.example\/[^)]+\) could not be created/);
    expect(body).toMatch(/<!-- pr-creator ref [0-9a-f]{16} -->$/);
    // Outside text is inert: no live HTML from a failure message.
    expect(body).not.toContain("<script>");
    // A rollback of the same PR is another moment: one more comment.
    await tracker().apply(failed({ what: "rolled_back", codes: [], revert: { ...failed().pr!, id: 4 } }));
    expect(issue(12).comments).toHaveLength(2);
    expect(issue(12).labels.map((l) => l.name)).toEqual(["pr-failed"]);
  });

  it("finds its comment past the first page of 100", async () => {
    const many = issue(13);
    for (let i = 0; i < 150; i++)
      many.comments.push({
        id: 90_000 + i,
        body: `c${i}`,
        author: gh.state.viewer,
        created_at: "2026-01-01T00:00:00Z",
      });
    await tracker().apply(failed({ issue_id: "#13" }));
    await tracker().apply(failed({ issue_id: "#13" }));
    expect(many.comments).toHaveLength(151);
  });

  it("labels an opened PR's issue without a comment; skips what is not a GitHub issue", async () => {
    const opened: TrackerUpdate = {
      moment: "opened",
      issue_id: "acme/OrderService#13",
      trace_id: null,
      at: "2026-01-08T10:00:00Z",
      pr: failed().pr!,
      status: "created",
    };
    expect((await tracker().apply(opened)).actions).toEqual(["labelled #13 in-review"]);
    expect(issue(13).comments).toEqual([]);
    const before = gh.requests.length;
    expect((await tracker().apply(failed({ issue_id: "BVL-232" }))).actions[0]).toMatch(/^skipped BVL-232/);
    expect(gh.requests.length).toBe(before);
  });

  it("throws what the forge answered, for the caller's retry policy", async () => {
    gh.inject("issues.listComments", { status: 502 });
    const error = await tracker()
      .apply(failed())
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(tracker().classify(error)).toMatchObject({ status: 502 });
    expect(issue(12).comments).toEqual([]);
  });

  it("reads #N and owner/repo#N only", () => {
    expect(gitHubIssueRef("#12", "acme/app")).toEqual({ repo: "acme/app", number: 12 });
    expect(gitHubIssueRef("other/x#7", "acme/app")).toEqual({ repo: "other/x", number: 7 });
    for (const bad of ["12", "#0", "AB#12", "#12 ", "a/b/c#1", "#12;drop", "BVL-1"])
      expect(gitHubIssueRef(bad, "acme/app"), bad).toEqual(bad === "#12 " ? { repo: "acme/app", number: 12 } : null);
    expect(gitHubIssueRef("#12", null)).toBeNull();
  });
});

describe("agent with tracker: github", () => {
  function branch(message: string): CommitCompleted {
    const name = `feature/order-${++branches}`;
    const repo = gh.state.repos.get(REPO.toLowerCase())!;
    const commit = sha(1000 + branches);
    repo.commits.set(commit, {
      message,
      author,
      parents: [sha(2)],
      files: [
        { filename: HANDLER, status: "added", additions: 12, deletions: 0 },
        { filename: "tests/Order/CreateOrderHandlerTests.cs", status: "added", additions: 14, deletions: 0 },
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

  async function run(event: unknown, state: string, options: { merge?: boolean } = {}) {
    const agent = await createAgent({
      policy: PolicySchema.parse({
        forge: "github",
        tracker: "github",
        github: { throttle: false },
        retry_policy: { base_delay_ms: 10 },
        forge_timeout_ms: 2000,
        merge: options.merge
          ? { auto_merge_levels: ["low", "medium"], commits: true, poll_interval_ms: 20, watch_timeout_ms: 10_000 }
          : { auto_merge_levels: [] },
        state_file: path.join(dir, state),
        trackers: { github: { labels: { on_review: ["in-review"] } } },
      }),
      env: { GITHUB_TOKEN: TOKEN, GITHUB_API_URL: gh.url },
      traceRegistry: createInMemoryTraceRegistry(SAMPLE_TRACES),
      model: null,
      memory: null,
      cwd: dir,
      watch: options.merge ?? false,
    });
    try {
      const result = await agent.handle(event);
      if (!options.merge || !result.pr?.id || result.merge?.status !== "merged") return { result, rolled: null };
      // `rollback` sees only the merged PR: the issue comes back from the PR body's metadata block.
      const rolled = await rollback(
        {
          forge: agent.forge!,
          policy: agent.policy,
          memory: null,
          ledger: agent.ledger,
          emit: agent.emit,
          now: () => new Date(),
          watch: false,
        },
        { pr_id: Number(result.pr.id), repo: REPO, reason: "latency regression" },
      );
      return { result, rolled };
    } finally {
      await agent.close();
    }
  }

  it("writes Closes #12 into the body of a PR whose commit says Fixes #12, and labels the issue", async () => {
    const { result } = await run(
      branch("feat(order): implement CreateOrderHandler [trace:ord-8128]\n\nFixes #12"),
      "a.db",
    );
    expect(result.status).toBe("created");
    expect(result.events[0]).toMatchObject({ event: "PullRequestCreated", issue_id: "#12" });
    expect(result.pr!.description).toMatch(/^Closes #12$/m);
    expect(result.pr!.description).not.toMatch(/^Issue:/m);
    expect(issue(12).labels.map((l) => l.name)).toEqual(["in-review"]);
    expect(result.warnings).toEqual([]);
  });

  it("comments once on the issue of a run that failed, and not again when the same failure repeats", async () => {
    const event = { ...branch("feat(order): x [trace:ord-8128]"), trace_id: "trace-none-1", issue_id: "#12" };
    const { result: first } = await run(event, "b.db");
    expect(first.status).toBe("failed");
    expect(issue(12).comments).toHaveLength(1);
    expect(issue(12).comments[0]!.body).toMatch(/could not be created or updated \(`missing_trace`\)/);
    await run(event, "b.db");
    expect(issue(12).comments).toHaveLength(1);
  });

  it("a rollback of the merged PR names its issue (read back from the body) and comments on it", async () => {
    const { result, rolled } = await run(
      branch("fix(order): restore the handler [trace:ord-8128]\n\nFixes #12"),
      "c.db",
      {
        merge: true,
      },
    );
    expect(result.merge, JSON.stringify([result.merge, result.pr?.risk, result.pr?.merge])).toMatchObject({
      status: "merged",
    });
    expect(result.events.find((e) => e.event === "PullRequestMerged")).toMatchObject({ issue_id: "#12" });
    expect(rolled!.events[0]).toMatchObject({ event: "PullRequestRollbackCreated", issue_id: "#12" });
    expect(issue(12).comments.map((c) => c.body)).toEqual([expect.stringMatching(/was rolled back by \[PR \d+/)]);
  });
});
