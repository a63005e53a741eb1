/**
 * The GitHub forge's automation calls (file reads, commits through the git data API, PR status, checks,
 * auto-merge, reverts) against the GitHub emulator, through the unmodified @octokit/rest client.
 */
import { Octokit } from "@octokit/rest";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { Forge, NewPullRequest } from "../../src/forges/forge.js";
import { createGitHubForge } from "../../src/forges/github/index.js";
import { seedPipeline } from "../emulators/ci.js";
import { githubFaults, startGitHubEmulator, type GitHubEmulator } from "../emulators/github.js";
import { rejection } from "../helpers.js";

const TOKEN = "ghp_automationSecret0123456789";
const REPO = "acme/Deployments";
const author = { name: "Ops", email: "ops@acme.test", date: "2025-05-01T10:00:00Z" };
const C0 = "c0".repeat(20);
const APP = "replicas: 2\nimage: registry.acme.test/app:1.0\n";
const OLD = "kind: ConfigMap\nmetadata:\n  name: old\n";
const README = "# Deployments\n";

let gh: GitHubEmulator;
let forge: Forge;
let octokit: Octokit;

function seed(): void {
  gh.seedRepo(REPO, {
    branches: { main: C0 },
    commits: {
      [C0]: {
        message: "chore: initial manifests",
        author,
        parents: [],
        files: [
          { filename: "README.md", status: "added", additions: 1, deletions: 0, content: README },
          { filename: "k8s/app.yaml", status: "added", additions: 2, deletions: 0, content: APP },
          { filename: "k8s/old.yaml", status: "added", additions: 3, deletions: 0, content: OLD },
        ],
      },
    },
  });
  gh.addUser("jane");
}

/** CI that runs until the test calls gh.finishCi(), so that nothing races the checks. */
const RUNNING = 60_000;

const retry = {
  max_attempts: 3,
  backoff: "fixed" as const,
  base_delay_ms: 10,
  retryable_status_codes: [429, 500, 502, 503],
};

beforeAll(async () => {
  gh = await startGitHubEmulator({ token: TOKEN });
  forge = createGitHubForge({
    token: TOKEN,
    apiUrl: gh.url,
    timeoutMs: 5000,
    throttle: false,
    retry,
    retryOptions: { maxDelayMs: 5000 },
  });
  octokit = new Octokit({
    auth: TOKEN,
    baseUrl: gh.url,
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
});

beforeEach(() => {
  gh.reset();
  seed();
});

afterEach(async () => {
  // Faults a test did not use up must not leak into the next one; running CI must not outlive its test.
  gh.reset();
});

afterAll(async () => {
  await gh.close();
});

const pr = (branch: string, title = "chore: scale the app"): NewPullRequest => ({
  title,
  description: "Scales the app.",
  source_branch: branch,
  target_branch: "main",
  is_draft: false,
  labels: [],
  reviewers: [],
  work_items: [],
});

const autoMerge = {
  method: "squash" as const,
  delete_source_branch: true,
  commit_title: "chore: scale the app (#1)",
  commit_message: "Scales the app to 3 replicas.",
};

/** A branch off main changing app.yaml, and a PR from it. */
async function openChange(branch: string, app = APP.replace("replicas: 2", "replicas: 3")) {
  await forge.commitFiles(REPO, {
    branch,
    base_branch: "main",
    message: "chore: scale the app",
    files: [{ path: "k8s/app.yaml", content: app }],
  });
  return forge.createPullRequest(REPO, pr(branch));
}

const writes = () => gh.requests.filter((r) => r.method !== "GET").length;

describe("readFile", () => {
  it("returns a file's text, null for a missing file, and refuses directories and missing branches", async () => {
    expect(await forge.readFile(REPO, "main", "k8s/app.yaml")).toBe(APP);
    expect(await forge.readFile(REPO, "main", "README.md")).toBe(README);
    expect(await forge.readFile(REPO, "main", "k8s/nope.yaml")).toBeNull();

    const folder = await rejection(forge.readFile(REPO, "main", "k8s"));
    expect(folder.reason).toBe("invalid_request");
    expect(folder.message).toContain("is a directory");

    const branch = await rejection(forge.readFile(REPO, "no-such-branch", "README.md"));
    expect(branch.reason).toBe("branch_not_found");
    expect(branch.message).toContain("No commit found for the ref no-such-branch");
  });

  it("refuses a file GitHub sends without base64 content (over 1 MB)", async () => {
    gh.inject("repos.getContent", {
      status: 200,
      body: {
        type: "file",
        encoding: "none",
        size: 2_000_000,
        name: "big.yaml",
        path: "big.yaml",
        content: "",
        sha: "a".repeat(40),
      },
    });
    const error = await rejection(forge.readFile(REPO, "main", "big.yaml"));
    expect(error.reason).toBe("invalid_request");
    expect(error.message).toContain('encoding "none"');
  });
});

describe("commitFiles", () => {
  it("creates the branch from its base with one commit; the same files again write nothing", async () => {
    const files = [
      { path: "k8s/app.yaml", content: APP.replace("replicas: 2", "replicas: 3") },
      { path: "k8s/new.yaml", content: "kind: Service\nmetadata:\n  name: app\n" },
    ];
    const first = await forge.commitFiles(REPO, {
      branch: "feature/scale",
      base_branch: "main",
      message: "chore: scale the app",
      files,
    });
    expect(first).toEqual({ sha: expect.stringMatching(/^[0-9a-f]{40}$/), parent: C0, unchanged: false });
    expect(gh.branchHead(REPO, "feature/scale")).toBe(first.sha);
    expect(gh.branchHead(REPO, "main")).toBe(C0);
    expect(gh.fileAt(REPO, "feature/scale", "k8s/new.yaml")).toBe(files[1]!.content);
    expect(gh.fileAt(REPO, "feature/scale", "README.md")).toBe(README);

    // The pushed commit reads back through the commits API with its files and line counts.
    const commit = (await octokit.repos.getCommit({ owner: "acme", repo: "Deployments", ref: first.sha })).data;
    expect(commit.commit.message).toBe("chore: scale the app");
    expect(commit.parents.map((p) => p.sha)).toEqual([C0]);
    expect(commit.files?.map((f) => [f.filename, f.status, f.additions, f.deletions])).toEqual([
      ["k8s/app.yaml", "modified", 1, 1],
      ["k8s/new.yaml", "added", 3, 0],
    ]);
    expect(commit.files?.[0]?.patch).toContain("-replicas: 2\n+replicas: 3");

    const before = writes();
    const again = await forge.commitFiles(REPO, {
      branch: "feature/scale",
      base_branch: "main",
      message: "chore: scale the app",
      files,
    });
    expect(again).toEqual({ sha: first.sha, parent: C0, unchanged: true });
    expect(writes()).toBe(before);
  });

  it("updates an existing branch fast-forward and deletes files; deleting what is gone is unchanged", async () => {
    const first = await forge.commitFiles(REPO, {
      branch: "feature/tidy",
      base_branch: "main",
      message: "one",
      files: [{ path: "k8s/app.yaml", content: "replicas: 4\n" }],
    });
    const second = await forge.commitFiles(REPO, {
      branch: "feature/tidy",
      base_branch: "main",
      message: "two",
      files: [
        { path: "k8s/old.yaml", content: null },
        { path: "k8s/app.yaml", content: "replicas: 4\n" },
      ],
    });
    expect(second).toMatchObject({ parent: first.sha, unchanged: false });
    expect(gh.fileAt(REPO, "feature/tidy", "k8s/old.yaml")).toBeUndefined();
    expect(gh.fileAt(REPO, "feature/tidy", "k8s/app.yaml")).toBe("replicas: 4\n");
    const tree = gh.requests.filter((r) => r.route === "git.createTree").at(-1)?.body as { tree: unknown[] };
    expect(tree.tree).toEqual([{ path: "k8s/old.yaml", mode: "100644", type: "blob", sha: null }]);
    const update = gh.requests.find((r) => r.route === "git.updateRef");
    expect(update?.body).toEqual({ sha: second.sha, force: false });
    const commit = (await octokit.repos.getCommit({ owner: "acme", repo: "Deployments", ref: second.sha })).data;
    expect(commit.files?.map((f) => [f.filename, f.status, f.additions, f.deletions])).toEqual([
      ["k8s/old.yaml", "removed", 0, 3],
    ]);

    expect(
      await forge.commitFiles(REPO, {
        branch: "feature/tidy",
        base_branch: "main",
        message: "two",
        files: [{ path: "k8s/old.yaml", content: null }],
      }),
    ).toEqual({
      sha: second.sha,
      parent: first.sha,
      unchanged: true,
    });
  });

  it("a missing base branch is branch_not_found", async () => {
    const error = await rejection(
      forge.commitFiles(REPO, {
        branch: "feature/x",
        base_branch: "nope",
        message: "m",
        files: [{ path: "a.txt", content: "a" }],
      }),
    );
    expect(error.reason).toBe("branch_not_found");
    expect(error.message).toContain('"nope"');
  });

  it("two writers racing for a new branch: the loser reads again and commits on top, keeping both changes", async () => {
    // Hold the first createRef back so that both writers have read "no branch" before either creates it.
    gh.inject("git.createRef", { delayMs: 150 });
    const [a, b] = await Promise.all([
      forge.commitFiles(REPO, {
        branch: "feature/race",
        base_branch: "main",
        message: "a",
        files: [{ path: "a.txt", content: "a\n" }],
      }),
      forge.commitFiles(REPO, {
        branch: "feature/race",
        base_branch: "main",
        message: "b",
        files: [{ path: "b.txt", content: "b\n" }],
      }),
    ]);
    expect(
      gh.requests
        .filter((r) => r.route === "git.createRef")
        .map((r) => r.status)
        .sort(),
    ).toEqual([201, 422]);
    const loser = gh.requests.find((r) => r.route === "git.createRef" && r.status === 422)?.body as { sha: string };
    const [won, lost] = a.parent === C0 ? [a, b] : [b, a];
    expect(won.parent).toBe(C0);
    expect(lost.parent).toBe(won.sha);
    expect(lost.sha).not.toBe(loser.sha);
    expect(gh.branchHead(REPO, "feature/race")).toBe(lost.sha);
    expect(gh.fileAt(REPO, "feature/race", "a.txt")).toBe("a\n");
    expect(gh.fileAt(REPO, "feature/race", "b.txt")).toBe("b\n");
  });

  it("a branch that keeps moving under it fails after one retry with GitHub's words", async () => {
    await forge.commitFiles(REPO, {
      branch: "feature/busy",
      base_branch: "main",
      message: "one",
      files: [{ path: "a.txt", content: "1" }],
    });
    gh.inject(
      "git.updateRef",
      {
        status: 422,
        body: {
          message: "Update is not a fast forward",
          documentation_url: "https://docs.github.com/rest/git/refs#update-a-reference",
          status: "422",
        },
      },
      2,
    );
    const error = await rejection(
      forge.commitFiles(REPO, {
        branch: "feature/busy",
        base_branch: "main",
        message: "two",
        files: [{ path: "a.txt", content: "2" }],
      }),
    );
    expect(error.reason).toBe("invalid_request");
    expect(error.message).toContain("Update is not a fast forward");
    expect(gh.calls("git.updateRef")).toBe(2);
    expect(gh.fileAt(REPO, "feature/busy", "a.txt")).toBe("1");
  });
});

describe("getPullRequest and getChecks", () => {
  it("checks go from pending to succeeded; commit statuses count as checks; no checks at all is none", async () => {
    const noCi = await openChange("feature/quiet");
    expect(await forge.getChecks(REPO, noCi.id)).toEqual({ state: "none", checks: [] });

    gh.setCi(REPO, seedPipeline({ delayMs: RUNNING }));
    const opened = await openChange("feature/scale");
    const pending = await forge.getChecks(REPO, opened.id);
    expect(pending.state).toBe("pending");
    expect(pending.checks.map((c) => [c.name, c.state, c.completed_at])).toEqual([
      ["dry-run-apply", "pending", null],
      ["security-scan", "pending", null],
      ["yaml-validation", "pending", null],
    ]);
    gh.finishCi();
    const done = await forge.getChecks(REPO, opened.id);
    expect(done.state).toBe("succeeded");
    expect(
      done.checks.every(
        (c) =>
          c.state === "succeeded" &&
          c.description === "success" &&
          c.completed_at !== null &&
          c.url?.startsWith("https://github.com/acme/Deployments/actions/runs/"),
      ),
    ).toBe(true);

    const head = (await forge.getPullRequest(REPO, opened.id)).head_sha;
    await octokit.repos.createCommitStatus({
      owner: "acme",
      repo: "Deployments",
      sha: head,
      state: "pending",
      context: "deploy/preview",
      description: "Deploying",
      target_url: "https://ci.acme.test/1",
    });
    const withStatus = await forge.getChecks(REPO, opened.id);
    expect(withStatus.state).toBe("pending");
    expect(withStatus.checks.find((c) => c.name === "deploy/preview")).toMatchObject({
      state: "pending",
      description: "Deploying",
      url: "https://ci.acme.test/1",
      completed_at: null,
    });
    await octokit.repos.createCommitStatus({
      owner: "acme",
      repo: "Deployments",
      sha: head,
      state: "error",
      context: "deploy/preview",
      description: "Preview crashed",
    });
    const errored = await forge.getChecks(REPO, opened.id);
    expect(errored.state).toBe("failed");
    expect(errored.checks.find((c) => c.name === "deploy/preview")).toMatchObject({
      state: "failed",
      description: "Preview crashed",
    });
  });

  it("a check whose verdict reads the changed files fails on broken YAML, with CI's own description", async () => {
    gh.setCi(REPO, seedPipeline());
    const opened = await openChange("feature/broken", "replicas: [3\n");
    gh.finishCi();
    const report = await forge.getChecks(REPO, opened.id);
    expect(report.state).toBe("failed");
    expect(report.checks.map((c) => [c.name, c.state, c.description])).toEqual([
      ["dry-run-apply", "succeeded", "success"],
      ["security-scan", "succeeded", "success"],
      ["yaml-validation", "failed", "YAML validation failed"],
    ]);
  });

  it("getPullRequest reports state, head, auto-merge and what blocks the merge", async () => {
    const opened = await openChange("feature/scale");
    const status = await forge.getPullRequest(REPO, opened.id);
    expect(status).toMatchObject({
      id: opened.id,
      title: "chore: scale the app",
      source_branch: "feature/scale",
      target_branch: "main",
      state: "open",
      head_sha: gh.branchHead(REPO, "feature/scale"),
      merge_commit: null,
      merged_at: null,
      auto_merge: false,
      blocked_reason: null,
    });
    // main changes the same line differently: a conflict.
    await forge.commitFiles(REPO, {
      branch: "main",
      base_branch: "main",
      message: "hotfix",
      files: [{ path: "k8s/app.yaml", content: APP.replace("replicas: 2", "replicas: 5") }],
    });
    expect((await forge.getPullRequest(REPO, opened.id)).blocked_reason).toBe("merge conflicts with the target branch");
  });
});

describe("enableAutoMerge", () => {
  it("while checks run: enabled; when they pass, GitHub squash-merges and (with the repo setting) deletes the branch", async () => {
    gh.setCi(REPO, seedPipeline({ delayMs: RUNNING }));
    gh.deleteBranchOnMerge(REPO, true);
    const opened = await openChange("feature/scale");
    const head = gh.branchHead(REPO, "feature/scale");
    expect(await forge.enableAutoMerge(REPO, opened.id, autoMerge)).toBe("enabled");
    const enabled = gh.requests.find((r) => r.route === "graphql")?.body as { variables: Record<string, unknown> };
    expect(enabled.variables).toEqual({
      pullRequestId: expect.stringMatching(/^PR_/),
      commitHeadline: autoMerge.commit_title,
      commitBody: autoMerge.commit_message,
      expectedHeadOid: head,
    });
    expect(await forge.getPullRequest(REPO, opened.id)).toMatchObject({
      state: "open",
      auto_merge: true,
      blocked_reason: "checks have not all passed",
    });

    gh.finishCi();
    const merged = await forge.getPullRequest(REPO, opened.id);
    expect(merged).toMatchObject({
      state: "merged",
      auto_merge: false,
      merge_commit: gh.branchHead(REPO, "main"),
      blocked_reason: null,
    });
    expect(merged.merged_at).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(gh.fileAt(REPO, "main", "k8s/app.yaml")).toBe(APP.replace("replicas: 2", "replicas: 3"));
    expect(gh.branchHead(REPO, "feature/scale")).toBeUndefined();
    const commit = (
      await octokit.git.getCommit({ owner: "acme", repo: "Deployments", commit_sha: merged.merge_commit! })
    ).data;
    expect(commit.message).toBe(`${autoMerge.commit_title}\n\n${autoMerge.commit_message}`);
    expect(commit.parents.map((p) => p.sha)).toEqual([C0]);
  });

  it("a PR that can merge right now ('clean status') is merged directly and its branch deleted", async () => {
    const opened = await openChange("feature/scale");
    expect(await forge.enableAutoMerge(REPO, opened.id, autoMerge)).toBe("merged");
    const merge = gh.requests.find((r) => r.route === "pulls.merge");
    expect(merge?.body).toEqual({
      merge_method: "squash",
      sha: expect.stringMatching(/^[0-9a-f]{40}$/),
      commit_title: autoMerge.commit_title,
      commit_message: autoMerge.commit_message,
    });
    expect(gh.requests.filter((r) => r.route === "git.deleteRef").map((r) => r.status)).toEqual([204]);
    expect(gh.branchHead(REPO, "feature/scale")).toBeUndefined();
    expect((await forge.getPullRequest(REPO, opened.id)).state).toBe("merged");
    expect(gh.fileAt(REPO, "main", "k8s/app.yaml")).toBe(APP.replace("replicas: 2", "replicas: 3"));

    // A re-run finds it merged: no second merge, and deleting the gone branch is not an error.
    expect(await forge.enableAutoMerge(REPO, opened.id, autoMerge)).toBe("merged");
    expect(gh.calls("pulls.merge")).toBe(1);
    expect(gh.requests.filter((r) => r.route === "git.deleteRef").map((r) => r.status)).toEqual([204, 422]);
  });

  it("a failed check never merges: the PR stays open with auto-merge on, and the reason is visible", async () => {
    gh.setCi(REPO, seedPipeline({ delayMs: RUNNING, securityScan: "failed" }));
    const opened = await openChange("feature/scale");
    expect(await forge.enableAutoMerge(REPO, opened.id, autoMerge)).toBe("enabled");
    gh.finishCi();
    expect(await forge.getPullRequest(REPO, opened.id)).toMatchObject({
      state: "open",
      auto_merge: true,
      merge_commit: null,
      blocked_reason: "checks have not all passed",
    });
    const checks = await forge.getChecks(REPO, opened.id);
    expect(checks.state).toBe("failed");
    expect(checks.checks.find((c) => c.state === "failed")).toMatchObject({
      name: "security-scan",
      description: "security scan found a critical issue",
    });
    expect(gh.branchHead(REPO, "main")).toBe(C0);
  });

  it("branch protection holds the merge until the required approval arrives", async () => {
    gh.setCi(REPO, seedPipeline({ delayMs: RUNNING }));
    gh.protect(REPO, "main", { requiredApprovals: 1, requiredChecks: ["yaml-validation"] });
    const opened = await openChange("feature/scale");
    expect(await forge.enableAutoMerge(REPO, opened.id, { ...autoMerge, delete_source_branch: false })).toBe("enabled");
    gh.finishCi();
    expect(await forge.getPullRequest(REPO, opened.id)).toMatchObject({
      state: "open",
      auto_merge: true,
      blocked_reason: "branch protection: a required review or required check is missing or has not passed",
    });
    expect((await forge.getChecks(REPO, opened.id)).state).toBe("succeeded");
    gh.approve(REPO, opened.id, "jane");
    expect(await forge.getPullRequest(REPO, opened.id)).toMatchObject({
      state: "merged",
      merge_commit: gh.branchHead(REPO, "main"),
    });
    expect(gh.branchHead(REPO, "feature/scale")).toBeDefined();
  });

  it("auto-merge switched off for the repository is a clear refusal; the PR stays open", async () => {
    gh.setCi(REPO, seedPipeline({ delayMs: RUNNING }));
    gh.allowAutoMerge(REPO, false);
    const opened = await openChange("feature/scale");
    const error = await rejection(forge.enableAutoMerge(REPO, opened.id, autoMerge));
    expect(error.reason).toBe("invalid_request");
    expect(error.message).toContain("Auto merge is not allowed for this repository");
    expect(error.hint).toContain('"Allow auto-merge"');
    expect((await forge.getPullRequest(REPO, opened.id)).state).toBe("open");
  });

  it("'unstable status' (no required checks to wait for) says to make the checks required", async () => {
    const opened = await openChange("feature/scale");
    gh.inject("graphql", {
      status: 200,
      body: {
        data: { enablePullRequestAutoMerge: null },
        errors: [
          {
            type: "UNPROCESSABLE",
            path: ["enablePullRequestAutoMerge"],
            message: "Pull request Pull request is in unstable status",
          },
        ],
      },
    });
    const error = await rejection(forge.enableAutoMerge(REPO, opened.id, autoMerge));
    expect(error.reason).toBe("invalid_request");
    expect(error.hint).toContain("make the CI checks required");
    expect(gh.calls("pulls.merge")).toBe(0);
  });

  it("a closed PR is refused before GitHub is asked", async () => {
    const opened = await openChange("feature/scale");
    await octokit.pulls.update({ owner: "acme", repo: "Deployments", pull_number: opened.id, state: "closed" });
    const error = await rejection(forge.enableAutoMerge(REPO, opened.id, autoMerge));
    expect(error.reason).toBe("invalid_request");
    expect(error.message).toContain("closed without being merged");
    expect(gh.calls("graphql")).toBe(0);
  });
});

describe("revertPullRequest", () => {
  it("opens a revert PR whose merge restores the content; a re-run returns the same PR", async () => {
    await forge.commitFiles(REPO, {
      branch: "feature/tidy",
      base_branch: "main",
      message: "chore: tidy",
      files: [
        { path: "k8s/old.yaml", content: null },
        { path: "k8s/app.yaml", content: "replicas: 9\n" },
      ],
    });
    const original = await forge.createPullRequest(REPO, pr("feature/tidy", "chore: tidy"));
    expect(await forge.enableAutoMerge(REPO, original.id, { ...autoMerge, delete_source_branch: false })).toBe(
      "merged",
    );
    expect(gh.fileAt(REPO, "main", "k8s/old.yaml")).toBeUndefined();

    const revert = await forge.revertPullRequest(REPO, {
      pr_id: original.id,
      branch: "ignored-on-github",
      title: 'Revert "chore: tidy"',
      description: "Reverts #1: the app broke.",
    });
    expect(revert).toEqual({
      id: 2,
      url: "https://github.com/acme/Deployments/pull/2",
      title: 'Revert "chore: tidy"',
      description: "Reverts #1: the app broke.",
      source_branch: "revert-1-feature/tidy",
      target_branch: "main",
      is_draft: false,
      labels: [],
      reviewer_ids: [],
    });
    expect(gh.fileAt(REPO, "revert-1-feature/tidy", "k8s/old.yaml")).toBe(OLD);

    const again = await forge.revertPullRequest(REPO, {
      pr_id: original.id,
      branch: "ignored-on-github",
      title: 'Revert "chore: tidy"',
      description: "Reverts #1: the app broke.",
    });
    expect(again.id).toBe(2);
    expect(
      gh.requests.filter((r) => r.route === "graphql" && JSON.stringify(r.body).includes("revertPullRequest")),
    ).toHaveLength(1);

    expect(
      await forge.enableAutoMerge(REPO, revert.id, { ...autoMerge, commit_title: 'Revert "chore: tidy" (#2)' }),
    ).toBe("merged");
    expect(gh.fileAt(REPO, "main", "k8s/old.yaml")).toBe(OLD);
    expect(gh.fileAt(REPO, "main", "k8s/app.yaml")).toBe(APP);
    expect(gh.branchHead(REPO, "revert-1-feature/tidy")).toBeUndefined();
  });

  it("an unmerged PR cannot be reverted", async () => {
    const opened = await openChange("feature/scale");
    const error = await rejection(
      forge.revertPullRequest(REPO, { pr_id: opened.id, branch: "x", title: "t", description: "d" }),
    );
    expect(error.reason).toBe("invalid_request");
    expect(error.message).toContain("is not merged (it is open)");
    expect(gh.calls("graphql")).toBe(0);
  });
});

describe("retries and secrets", () => {
  it("502 and 429 are retried for the new calls, REST and GraphQL alike", async () => {
    gh.inject("git.createTree", githubFaults.serverError(502));
    gh.inject("repos.getContent", githubFaults.tooManyRequests(0));
    const pushed = await forge.commitFiles(REPO, {
      branch: "feature/scale",
      base_branch: "main",
      message: "m",
      files: [{ path: "k8s/app.yaml", content: "replicas: 3\n" }],
    });
    expect(pushed.unchanged).toBe(false);
    expect(gh.requests.filter((r) => r.route === "git.createTree").map((r) => r.status)).toEqual([502, 201]);
    expect(gh.requests.filter((r) => r.route === "repos.getContent").map((r) => r.status)).toEqual([429, 200]);

    const opened = await forge.createPullRequest(REPO, pr("feature/scale"));
    gh.setCi(REPO, seedPipeline({ delayMs: RUNNING }));
    await forge.commitFiles(REPO, {
      branch: "feature/scale",
      base_branch: "main",
      message: "m2",
      files: [{ path: "k8s/app.yaml", content: "replicas: 4\n" }],
    });
    gh.inject("graphql", githubFaults.serverError(502));
    gh.inject("graphql", githubFaults.tooManyRequests(0));
    expect(await forge.enableAutoMerge(REPO, opened.id, autoMerge)).toBe("enabled");
    expect(gh.requests.filter((r) => r.route === "graphql").map((r) => r.status)).toEqual([502, 429, 200]);

    gh.inject("checks.listForRef", githubFaults.serverError(503));
    expect((await forge.getChecks(REPO, opened.id)).state).toBe("pending");
    expect(gh.requests.filter((r) => r.route === "checks.listForRef").map((r) => r.status)).toEqual([503, 200]);
  });

  it("GraphQL's own rate limit (HTTP 200, type RATE_LIMITED) waits and retries", async () => {
    gh.setCi(REPO, seedPipeline({ delayMs: RUNNING }));
    const opened = await openChange("feature/scale");
    gh.inject("graphql", {
      status: 200,
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000)) },
      body: { errors: [{ type: "RATE_LIMITED", message: "API rate limit exceeded for user ID 1." }] },
    });
    expect(await forge.enableAutoMerge(REPO, opened.id, autoMerge)).toBe("enabled");
    expect(gh.calls("graphql")).toBe(2);
  });

  it("gives up after max_attempts with github_<status>; the token never appears in any error", async () => {
    const opened = await openChange("feature/scale");
    gh.inject("pulls.get", { status: 500, body: { message: `token ${TOKEN} rejected` } }, 3);
    const rest = await rejection(forge.getPullRequest(REPO, opened.id));
    expect(rest.reason).toBe("github_500");
    expect(rest.attempts).toBe(3);
    expect(rest.message).toContain("[REDACTED]");

    gh.inject("graphql", {
      status: 200,
      body: {
        data: { enablePullRequestAutoMerge: null },
        errors: [{ type: "UNPROCESSABLE", path: ["enablePullRequestAutoMerge"], message: `Bad credentials ${TOKEN}` }],
      },
    });
    const graph = await rejection(forge.enableAutoMerge(REPO, opened.id, autoMerge));
    expect(graph.reason).toBe("invalid_request");
    expect(graph.message).toContain("[REDACTED]");

    const wrong = createGitHubForge({
      token: "ghp_wrongTokenValue987654",
      apiUrl: gh.url,
      timeoutMs: 5000,
      throttle: false,
      retry,
    });
    const unauthorized = await rejection(wrong.readFile(REPO, "main", "README.md"));
    expect(unauthorized.reason).toBe("unauthorized");
    for (const error of [rest, graph, unauthorized]) {
      expect(`${error.message} ${error.hint ?? ""}`).not.toContain(TOKEN);
      expect(`${error.message} ${error.hint ?? ""}`).not.toContain("ghp_wrongTokenValue987654");
    }
  });
});
