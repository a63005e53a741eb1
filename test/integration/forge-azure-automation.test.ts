/**
 * The Azure DevOps forge's automation methods (files, commits, checks, auto-complete, reverts) against the
 * emulator, through the unmodified azure-devops-node-api client.
 */
import * as azdev from "azure-devops-node-api";
import { GitStatusState } from "azure-devops-node-api/interfaces/GitInterfaces.js";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PrCreatorError } from "../../src/domain/errors.js";
import { createAzureDevOpsForge } from "../../src/forges/azure-devops/index.js";
import type { Forge, RemotePullRequest } from "../../src/forges/forge.js";
import { startAzureDevOpsEmulator, type AzureEmulator } from "../emulators/azure-devops.js";
import { yamlValidation } from "../emulators/ci.js";
import { rejection } from "../helpers.js";

const TOKEN = "azdo-automation-secret-pat-77";
const REPO = "Deployments";
const BASE = "a1".repeat(20);
const APP = "deploy/app.yaml";
const author = { name: "Ada", email: "ada@acme.example", date: "2025-05-01T10:00:00Z" };
const STALE =
  "TF401028: The reference 'refs/heads/pr-creator/scale' has already been updated by another client, so you cannot update it. Please try again.";

let az: AzureEmulator;
let forge: Forge;

beforeEach(async () => {
  az = await startAzureDevOpsEmulator({ token: TOKEN });
  az.seedRepo(REPO, {
    branches: { main: BASE },
    commits: {
      [BASE]: {
        message: "initial",
        author,
        parents: [],
        files: { [APP]: "replicas: 1\n", "README.md": "# Deployments\n" },
      },
    },
  });
  forge = createAzureDevOpsForge({
    orgUrl: az.orgUrl,
    project: az.project,
    token: TOKEN,
    timeoutMs: 5000,
    retry: { max_attempts: 3, backoff: "fixed", base_delay_ms: 10, retryable_status_codes: [429, 500, 502, 503] },
  });
});

afterEach(async () => {
  await az.close();
});

const scale = (replicas: number, extra: Record<string, string | null> = {}) => ({
  branch: "pr-creator/scale",
  base_branch: "main",
  message: `Scale the app to ${replicas}`,
  files: [
    { path: APP, content: `replicas: ${replicas}\n` },
    ...Object.entries(extra).map(([path, content]) => ({ path, content })),
  ],
});

/** A branch with a change and a PR from it to main. */
async function openPr(
  replicas = 3,
  reviewers: Parameters<Forge["createPullRequest"]>[1]["reviewers"] = [],
): Promise<RemotePullRequest> {
  await forge.commitFiles(REPO, scale(replicas));
  return forge.createPullRequest(REPO, {
    title: `Scale to ${replicas}`,
    description: "More pods.",
    source_branch: "pr-creator/scale",
    target_branch: "main",
    is_draft: false,
    labels: [],
    reviewers,
    work_items: [],
  });
}

const pushes = () => az.requests.filter((r) => r.route === "createPush");

describe("readFile", () => {
  it("reads a file's text at a branch, null for a missing file, branch or folder", async () => {
    expect(await forge.readFile(REPO, "main", APP)).toBe("replicas: 1\n");
    expect(await forge.readFile(REPO, "main", `/${APP}`)).toBe("replicas: 1\n");
    const asked = az.requests.find((r) => r.route === "getItem");
    expect(asked?.query).toBe(
      "?path=%2Fdeploy%2Fapp.yaml&versionDescriptor.version=main&versionDescriptor.versionType=0&includeContent=true",
    );
    expect(await forge.readFile(REPO, "main", "deploy/missing.yaml")).toBeNull();
    expect(await forge.readFile(REPO, "no-such-branch", APP)).toBeNull();
    expect(await forge.readFile(REPO, "main", "deploy")).toBeNull();
    expect(az.requests.filter((r) => r.route === "getItem").map((r) => r.status)).toEqual([200, 200, 404, 404, 200]);
  });
});

describe("commitFiles", () => {
  it("creates the branch from its base in one push, then re-runs write nothing, then updates and deletes", async () => {
    const created = await forge.commitFiles(REPO, scale(3, { "deploy/config.yaml": "kind: ConfigMap\n" }));
    expect(created).toEqual({ sha: az.branchHead(REPO, "pr-creator/scale"), parent: BASE, unchanged: false });
    expect(az.fileAt(REPO, "pr-creator/scale", APP)).toBe("replicas: 3\n");
    expect(az.fileAt(REPO, "pr-creator/scale", "deploy/config.yaml")).toBe("kind: ConfigMap\n");
    expect(az.fileAt(REPO, "main", APP)).toBe("replicas: 1\n");
    expect(pushes()).toHaveLength(1);
    expect(pushes()[0]?.body).toEqual({
      refUpdates: [{ name: "refs/heads/pr-creator/scale", oldObjectId: "0".repeat(40) }],
      commits: [
        {
          comment: "Scale the app to 3",
          parents: [BASE],
          changes: [
            { changeType: 2, item: { path: `/${APP}` }, newContent: { content: "replicas: 3\n", contentType: 0 } },
            {
              changeType: 1,
              item: { path: "/deploy/config.yaml" },
              newContent: { content: "kind: ConfigMap\n", contentType: 0 },
            },
          ],
        },
      ],
    });

    const again = await forge.commitFiles(
      REPO,
      scale(3, { "deploy/config.yaml": "kind: ConfigMap\n", "deploy/never.yaml": null }),
    );
    expect(again).toEqual({ sha: created.sha, parent: BASE, unchanged: true });
    expect(pushes()).toHaveLength(1);

    const updated = await forge.commitFiles(REPO, scale(4));
    expect(updated).toMatchObject({ parent: created.sha, unchanged: false });
    expect(updated.sha).not.toBe(created.sha);
    expect(pushes()[1]?.body).toMatchObject({
      refUpdates: [{ oldObjectId: created.sha }],
      commits: [{ parents: [created.sha] }],
    });

    const deleted = await forge.commitFiles(REPO, scale(4, { "deploy/config.yaml": null }));
    expect(deleted.parent).toBe(updated.sha);
    expect(az.fileAt(REPO, "pr-creator/scale", "deploy/config.yaml")).toBeUndefined();
    expect(pushes()[2]?.body).toMatchObject({
      commits: [{ changes: [{ changeType: 16, item: { path: "/deploy/config.yaml" } }] }],
    });
    expect(az.branchHead(REPO, "pr-creator/scale")).toBe(deleted.sha);
  });

  it("plans again from the new head when another writer moved the branch during the push (TF401028)", async () => {
    await forge.commitFiles(REPO, scale(2));
    // Our push is held in the emulator until the other writer's push has landed: no timer to race.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held = new Promise<void>((onHeld) => az.inject("createPush", { until: released, onHeld }));
    const ours = forge.commitFiles(REPO, scale(5));
    await held;
    const other = createAzureDevOpsForge({
      orgUrl: az.orgUrl,
      project: az.project,
      token: TOKEN,
      timeoutMs: 5000,
      retry: { max_attempts: 1, backoff: "fixed", base_delay_ms: 0, retryable_status_codes: [] },
    });
    const theirs = await other.commitFiles(REPO, {
      ...scale(2),
      message: "docs",
      files: [{ path: "deploy/NOTES.md", content: "hands off\n" }],
    });
    release();
    const result = await ours;
    // In arrival order: the first commit, ours (held, then stale), theirs, ours planned again.
    expect(pushes().map((r) => r.status)).toEqual([201, 409, 201, 201]);
    expect((pushes()[1]?.response as { message: string }).message).toBe(STALE);
    expect(result).toMatchObject({ parent: theirs.sha, unchanged: false });
    expect(az.fileAt(REPO, "pr-creator/scale", APP)).toBe("replicas: 5\n");
    expect(az.fileAt(REPO, "pr-creator/scale", "deploy/NOTES.md")).toBe("hands off\n");
  });

  it("gives up after a second stale push with azure_devops_409", async () => {
    const body = {
      $id: "1",
      innerException: null,
      message: STALE,
      typeName: "x",
      typeKey: "GitReferenceStaleException",
      errorCode: 0,
      eventId: 3000,
    };
    az.inject("createPush", { status: 409, body }, 2);
    const error = await rejection(forge.commitFiles(REPO, scale(3)));
    expect(error.reason).toBe("azure_devops_409");
    expect(pushes()).toHaveLength(2);
    expect(az.branchHead(REPO, "pr-creator/scale")).toBeUndefined();
  });

  it("a missing base branch is branch_not_found", async () => {
    const error = await rejection(forge.commitFiles(REPO, { ...scale(3), base_branch: "develop" }));
    expect(error.reason).toBe("branch_not_found");
    expect(error.message).toContain('"develop"');
  });
});

describe("getChecks", () => {
  it("is none without CI, then pending until the build policies settle, then succeeded; reviewer policies are not checks", async () => {
    const plain = await openPr();
    expect(await forge.getChecks(REPO, plain.id)).toEqual({ state: "none", checks: [] });
    // CI scripted after the PR opened runs when its source moves.
    az.setCi(REPO, [yamlValidation(80), { name: "security-scan", delayMs: 20, verdict: "succeeded" }], {
      minimumApprovers: 1,
    });
    await forge.commitFiles(REPO, scale(4));

    const pending = await forge.getChecks(REPO, plain.id);
    expect(pending.state).toBe("pending");
    expect(pending.checks.map((c) => [c.name, c.state, c.completed_at])).toEqual([
      ["yaml-validation", "pending", null],
      ["security-scan", "pending", null],
    ]);
    await az.settled();
    const done = await forge.getChecks(REPO, plain.id);
    expect(done.state).toBe("succeeded");
    expect(done.checks.map((c) => [c.name, c.state, c.description])).toEqual([
      ["yaml-validation", "succeeded", "approved"],
      ["security-scan", "succeeded", "approved"],
    ]);
    expect(done.checks[0]?.url).toMatch(/\/Factory\/_build\/results\?buildId=\d+$/);
    expect(Date.parse(done.checks[0]!.completed_at!)).toBeGreaterThanOrEqual(Date.parse(done.checks[0]!.started_at!));
    const policyCall = az.requests.find((r) => r.route === "getPolicyEvaluations");
    expect(policyCall?.query).toBe(
      `?artifactId=${encodeURIComponent(`vstfs:///CodeReview/CodeReviewId/${az.state.project.id}/${plain.id}`)}`,
    );
    expect(az.calls("getRepository")).toBe(1); // the project id is read once
  });

  it("fails on a rejected build with the check's words, and takes the latest PR status per context", async () => {
    az.setCi(REPO, [yamlValidation(0)]);
    await forge.commitFiles(REPO, scale(3, { "deploy/broken.yaml": "a: [1, 2\n" }));
    const pr = await forge.createPullRequest(REPO, {
      title: "t",
      description: "d",
      source_branch: "pr-creator/scale",
      target_branch: "main",
      is_draft: false,
      labels: [],
      reviewers: [],
      work_items: [],
    });
    await az.settled();
    const failed = await forge.getChecks(REPO, pr.id);
    expect(failed).toMatchObject({
      state: "failed",
      checks: [{ name: "yaml-validation", state: "failed", description: "rejected: YAML validation failed" }],
    });

    const git = await new azdev.WebApi(az.orgUrl, azdev.getPersonalAccessTokenHandler(TOKEN)).getGitApi();
    const post = (state: GitStatusState, description: string) =>
      git.createPullRequestStatus(
        { state, description, context: { genre: "qa", name: "coverage" }, targetUrl: "https://ci.example/1" },
        REPO,
        pr.id,
        az.project,
      );
    await post(GitStatusState.Pending, "measuring");
    expect((await forge.getChecks(REPO, pr.id)).checks.at(-1)).toMatchObject({
      name: "qa/coverage",
      state: "pending",
      url: "https://ci.example/1",
      completed_at: null,
    });
    await post(GitStatusState.Succeeded, "coverage 91%");
    expect((await forge.getChecks(REPO, pr.id)).checks.map((c) => [c.name, c.state, c.description])).toEqual([
      ["yaml-validation", "failed", "rejected: YAML validation failed"],
      ["qa/coverage", "succeeded", "coverage 91%"],
    ]);
  });
});

describe("getPullRequest and enableAutoMerge", () => {
  it("auto-complete waits for CI, then squash-merges onto main and deletes the source branch", async () => {
    az.setCi(REPO, [{ name: "dry-run-apply", delayMs: 100, verdict: "succeeded" }]);
    const pr = await openPr(3);
    const head = az.branchHead(REPO, "pr-creator/scale")!;
    const outcome = await forge.enableAutoMerge(REPO, pr.id, {
      method: "squash",
      delete_source_branch: true,
      commit_title: "Scale to 3 (#1)",
      commit_message: "More pods.",
    });
    expect(outcome).toBe("enabled");
    expect(az.requests.find((r) => r.route === "updatePullRequest")?.body).toEqual({
      autoCompleteSetBy: { id: az.state.authenticatedUser.id },
      completionOptions: {
        mergeStrategy: 2,
        deleteSourceBranch: true,
        mergeCommitMessage: "Scale to 3 (#1)\n\nMore pods.",
        transitionWorkItems: true,
      },
    });
    expect(az.requests.filter((r) => r.path.endsWith("/_apis/connectionData"))).toHaveLength(1);
    const open = await forge.getPullRequest(REPO, pr.id);
    expect(open).toMatchObject({
      id: pr.id,
      state: "open",
      head_sha: head,
      merge_commit: null,
      merged_at: null,
      auto_merge: true,
      blocked_reason: null,
    });

    await az.settled();
    const merged = await forge.getPullRequest(REPO, pr.id);
    const main = az.branchHead(REPO, "main")!;
    expect(merged).toMatchObject({
      state: "merged",
      merge_commit: main,
      head_sha: head,
      auto_merge: true,
      blocked_reason: null,
    });
    expect(Date.parse(merged.merged_at!)).not.toBeNaN();
    expect(az.fileAt(REPO, "main", APP)).toBe("replicas: 3\n");
    expect(az.branchHead(REPO, "pr-creator/scale")).toBeUndefined();
    const squash = az.state.repos.get(REPO)!.commits.get(main)!;
    expect([squash.parents, squash.message]).toEqual([[BASE], "Scale to 3 (#1)\n\nMore pods."]);
  });

  it("answers merged when nothing blocks the PR", async () => {
    const pr = await openPr(2);
    expect(
      await forge.enableAutoMerge(REPO, pr.id, {
        method: "squash",
        delete_source_branch: false,
        commit_title: "Scale",
        commit_message: "",
      }),
    ).toBe("merged");
    expect(az.fileAt(REPO, "main", APP)).toBe("replicas: 2\n");
    expect(az.branchHead(REPO, "pr-creator/scale")).toBeDefined();
  });

  it("a failed check leaves the PR open with the reason; main does not move", async () => {
    az.setCi(REPO, [yamlValidation(0), { name: "dry-run-apply", delayMs: 0, verdict: "succeeded" }]);
    await forge.commitFiles(REPO, scale(3, { "deploy/broken.yaml": "a: [1, 2\n" }));
    const pr = await forge.createPullRequest(REPO, {
      title: "t",
      description: "d",
      source_branch: "pr-creator/scale",
      target_branch: "main",
      is_draft: false,
      labels: [],
      reviewers: [],
      work_items: [],
    });
    expect(
      await forge.enableAutoMerge(REPO, pr.id, {
        method: "squash",
        delete_source_branch: true,
        commit_title: "t",
        commit_message: "d",
      }),
    ).toBe("enabled");
    await az.settled();
    const status = await forge.getPullRequest(REPO, pr.id);
    expect(status).toMatchObject({ state: "open", auto_merge: true, merge_commit: null });
    expect(status.blocked_reason).toBe('Policy "yaml-validation" rejected it: YAML validation failed.');
    expect(az.branchHead(REPO, "main")).toBe(BASE);
  });

  it("a required reviewer blocks auto-complete until they approve", async () => {
    const grace = az.addIdentity({ displayName: "Grace Hopper", uniqueName: "grace@acme.example" });
    const pr = await openPr(3, [{ name: "Grace Hopper", required: true, id: grace.id, kind: "user" }]);
    expect(
      await forge.enableAutoMerge(REPO, pr.id, {
        method: "squash",
        delete_source_branch: true,
        commit_title: "t",
        commit_message: "",
      }),
    ).toBe("enabled");
    await az.settled();
    expect((await forge.getPullRequest(REPO, pr.id)).state).toBe("open");
    az.vote(REPO, pr.id, "Grace Hopper", 5);
    expect(await forge.getPullRequest(REPO, pr.id)).toMatchObject({
      state: "merged",
      merge_commit: az.branchHead(REPO, "main"),
    });
  });

  it("an unknown PR is invalid_request", async () => {
    const error = await rejection(forge.getPullRequest(REPO, 99));
    expect(error.reason).toBe("invalid_request");
    expect(error.message).toContain('pull request "99"');
  });
});

describe("revertPullRequest", () => {
  const request = (pr_id: number) => ({
    pr_id,
    branch: "pr-creator/revert-1",
    title: "Revert: scale to 3",
    description: "Rolls back #1.",
  });

  it("opens a PR that restores what the merged PR changed, once", async () => {
    await forge.commitFiles(REPO, scale(3, { "deploy/extra.yaml": "kind: Service\n", "README.md": null }));
    const pr = await forge.createPullRequest(REPO, {
      title: "Scale",
      description: "d",
      source_branch: "pr-creator/scale",
      target_branch: "main",
      is_draft: false,
      labels: [],
      reviewers: [],
      work_items: [],
    });
    await forge.enableAutoMerge(REPO, pr.id, {
      method: "squash",
      delete_source_branch: true,
      commit_title: "Scale",
      commit_message: "",
    });
    expect(az.fileAt(REPO, "main", "README.md")).toBeUndefined();

    const revert = await forge.revertPullRequest(REPO, request(pr.id));
    expect(revert).toMatchObject({
      title: "Revert: scale to 3",
      description: "Rolls back #1.",
      source_branch: "pr-creator/revert-1",
      target_branch: "main",
    });
    expect(az.requests.find((r) => r.route === "createRevert")?.body).toEqual({
      generatedRefName: "refs/heads/pr-creator/revert-1",
      ontoRefName: "refs/heads/main",
      repository: { id: az.state.repos.get(REPO)!.id },
      source: { pullRequestId: pr.id },
    });
    expect(az.fileAt(REPO, "pr-creator/revert-1", APP)).toBe("replicas: 1\n");
    expect(az.fileAt(REPO, "pr-creator/revert-1", "README.md")).toBe("# Deployments\n");
    expect(az.fileAt(REPO, "pr-creator/revert-1", "deploy/extra.yaml")).toBeUndefined();

    expect(await forge.revertPullRequest(REPO, request(pr.id))).toEqual(revert);
    expect(az.calls("createRevert")).toBe(1);

    expect(
      await forge.enableAutoMerge(REPO, revert.id, {
        method: "squash",
        delete_source_branch: true,
        commit_title: "Revert",
        commit_message: "",
      }),
    ).toBe("merged");
    expect(az.fileAt(REPO, "main", APP)).toBe("replicas: 1\n");
    expect(az.fileAt(REPO, "main", "README.md")).toBe("# Deployments\n");
  });

  it("refuses a PR that is not merged, and reports a conflicting revert", async () => {
    const pr = await openPr(3);
    const active = await rejection(forge.revertPullRequest(REPO, request(pr.id)));
    expect([active.reason, active.message]).toEqual([
      "invalid_request",
      `Pull request ${pr.id} of ${REPO} is active; only a completed (merged) pull request can be reverted.`,
    ]);

    await forge.enableAutoMerge(REPO, pr.id, {
      method: "squash",
      delete_source_branch: true,
      commit_title: "Scale",
      commit_message: "",
    });
    await forge.commitFiles(REPO, {
      branch: "main",
      base_branch: "main",
      message: "hotfix",
      files: [{ path: APP, content: "replicas: 7\n" }],
    });
    const conflict = await rejection(forge.revertPullRequest(REPO, request(pr.id)));
    expect(conflict.reason).toBe("azure_devops_409");
    expect(conflict.message).toContain("The revert conflicts with later changes to /deploy/app.yaml.");
    expect(az.branchHead(REPO, "pr-creator/revert-1")).toBeUndefined();
  });
});

describe("retries and secrets", () => {
  it("retries 503 and 429 on the new calls and gives up with the status after max_attempts", async () => {
    const pr = await openPr(3);
    az.inject("getPolicyEvaluations", { status: 503 }, 2);
    expect((await forge.getChecks(REPO, pr.id)).state).toBe("none");
    expect(az.calls("getPolicyEvaluations")).toBe(3);

    az.inject("createPush", { status: 429, headers: { "Retry-After": "0" } });
    await forge.commitFiles(REPO, scale(4));
    expect(
      pushes()
        .map((r) => r.status)
        .slice(-2),
    ).toEqual([429, 201]);
    expect(az.fileAt(REPO, "pr-creator/scale", APP)).toBe("replicas: 4\n");

    az.inject("getItem", { status: 503 }, 3);
    const error = await rejection(forge.readFile(REPO, "main", APP));
    expect([error.reason, error.attempts]).toEqual(["azure_devops_503", 3]);
  });

  it("never puts the token in an error, even when the service echoes it", async () => {
    const pr = await openPr(3);
    const echo = { status: 500, body: { message: `internal error for Basic ${TOKEN}` } };
    const calls: Array<[Parameters<AzureEmulator["inject"]>[0], () => Promise<unknown>]> = [
      ["getPullRequest", () => forge.getPullRequest(REPO, pr.id)],
      ["getPullRequestStatuses", () => forge.getChecks(REPO, pr.id)],
      ["createPush", () => forge.commitFiles(REPO, scale(9))],
      [
        "updatePullRequest",
        () =>
          forge.enableAutoMerge(REPO, pr.id, {
            method: "squash",
            delete_source_branch: true,
            commit_title: "t",
            commit_message: "",
          }),
      ],
    ];
    for (const [route, call] of calls) {
      az.inject(route, echo, 3);
      const error = await rejection(call());
      expect(error).toBeInstanceOf(PrCreatorError);
      expect(error.reason).toBe("azure_devops_500");
      expect(error.message).toContain("[REDACTED]");
      expect(`${error.message} ${error.hint ?? ""}`).not.toContain(TOKEN);
    }
  });
});
