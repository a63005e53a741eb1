import type { Octokit, RestEndpointMethodTypes } from "@octokit/rest";
import { PrCreatorError } from "../domain/errors.js";
import type { FailureReason } from "../domain/reasons.js";
import { redact } from "./forge-errors.js";
import type {
  AutoMergeOptions,
  BranchCommit,
  CheckRun,
  CheckState,
  ChecksReport,
  Forge,
  PullRequestStatus,
  PushedCommit,
  RemotePullRequest,
} from "./forge.js";
import {
  graphQLErrors,
  graphQLRateLimit,
  serverMessage,
  type GraphQLErrorEntry,
  type OctokitError,
} from "./github-errors.js";
import { RetriesExhausted } from "./retry.js";

export type Pull = RestEndpointMethodTypes["pulls"]["get"]["response"]["data"];
type Where = { owner: string; repo: string };

/** What the GitHub forge shares with this module: its client, its retrying call and its PR mapping. */
export interface GitHubCalls {
  octokit: Octokit;
  /** Text that must never reach an error message (the token). */
  secrets: readonly string[];
  split(repo: string): Where;
  timeout(): { request: { signal: AbortSignal } };
  /** One call under the retry policy; a failure that survives it becomes a PrCreatorError. */
  call<T>(operation: string, fn: () => Promise<T>, notFound?: FailureReason, notFoundStatuses?: number[]): Promise<T>;
  /** One call under the retry policy that leaves the final failure as RetriesExhausted, to tell some apart. */
  attempt<T>(fn: () => Promise<T>): Promise<T>;
  /** A RetriesExhausted as the PrCreatorError `call` would have thrown. */
  fail(operation: string, error: RetriesExhausted): PrCreatorError;
  remote(pr: Pull): RemotePullRequest;
}

export type GitHubAutomation = Pick<
  Forge,
  "readFile" | "commitFiles" | "getPullRequest" | "getChecks" | "enableAutoMerge" | "revertPullRequest"
>;

const ENABLE_AUTO_MERGE = `mutation EnableAutoMerge($pullRequestId: ID!, $commitHeadline: String, $commitBody: String, $expectedHeadOid: GitObjectID) {
  enablePullRequestAutoMerge(input: { pullRequestId: $pullRequestId, mergeMethod: SQUASH, commitHeadline: $commitHeadline, commitBody: $commitBody, expectedHeadOid: $expectedHeadOid }) {
    pullRequest { number autoMergeRequest { enabledAt mergeMethod } }
  }
}`;

const REVERT_PULL_REQUEST = `mutation RevertPullRequest($pullRequestId: ID!, $title: String, $body: String) {
  revertPullRequest(input: { pullRequestId: $pullRequestId, title: $title, body: $body }) {
    revertPullRequest { number url title body headRefName baseRefName isDraft }
  }
}`;

interface RevertAnswer {
  revertPullRequest: {
    revertPullRequest: {
      number: number;
      url: string;
      title: string;
      body: string;
      headRefName: string;
      baseRefName: string;
      isDraft: boolean;
    } | null;
  } | null;
}

/** mergeable_state values that say what stops a merge (GitHub's REST reference, "Get a pull request"). */
const BLOCKED: Record<string, string> = {
  dirty: "merge conflicts with the target branch",
  blocked: "branch protection: a required review or required check is missing or has not passed",
  behind: "the branch is behind its target, and branch protection requires it to be up to date",
  unstable: "checks have not all passed",
  draft: "the pull request is a draft",
};

const SUCCEEDED = new Set(["success", "neutral", "skipped"]);
const STATUS_STATES: Record<string, CheckState> = {
  success: "succeeded",
  pending: "pending",
  failure: "failed",
  error: "failed",
};

/** A missing file answers 404 "Not Found"; a missing ref answers 404 "No commit found for the ref …". */
const isMissingFile = (error: unknown) =>
  (error as OctokitError).status === 404 && !/no commit found/i.test(serverMessage(error));

/** GitHub's automation calls: file reads, commits through the git data API, PR status, checks, auto-merge, reverts. */
export function createGitHubAutomation(gh: GitHubCalls): GitHubAutomation {
  const { octokit } = gh;

  async function readAt(where: Where, ref: string, path: string): Promise<string | null> {
    const operation = `read ${path} at ${ref}`;
    const data = await gh.call(
      operation,
      () =>
        octokit.repos.getContent({ ...where, path, ref, ...gh.timeout() }).then(
          (r) => r.data,
          (error: unknown) => (isMissingFile(error) ? null : Promise.reject(error)),
        ),
      "branch_not_found",
    );
    if (data === null) return null;
    if (Array.isArray(data) || data.type !== "file") {
      throw new PrCreatorError(
        "invalid_request",
        `${path} at ${ref} in ${where.owner}/${where.repo} is a ${Array.isArray(data) ? "directory" : data.type}, not a file.`,
        { hint: "Name a file, not a folder." },
      );
    }
    // GitHub leaves `content` empty (encoding "none") for files over 1 MB.
    if (!("encoding" in data) || data.encoding !== "base64") {
      throw new PrCreatorError(
        "invalid_request",
        `${path} at ${ref} in ${where.owner}/${where.repo} is too large for the contents API (encoding "${"encoding" in data ? data.encoding : "?"}").`,
        { hint: "Keep files the agent edits under 1 MB." },
      );
    }
    return Buffer.from(data.content, "base64").toString("utf8");
  }

  /** A branch's tip, or null when the branch does not exist. */
  function branchTip(where: Where, branch: string): Promise<string | null> {
    return gh.call(`read branch ${branch}`, () =>
      octokit.git.getRef({ ...where, ref: `heads/${branch}`, ...gh.timeout() }).then(
        (r) => r.data.object.sha,
        (error: OctokitError) => (error.status === 404 ? null : Promise.reject(error)),
      ),
    );
  }

  async function pushFiles(repo: string, commit: BranchCommit, raceRetried: boolean): Promise<PushedCommit> {
    const where = gh.split(repo);
    const head = await branchTip(where, commit.branch);
    const start = head ?? (await branchTip(where, commit.base_branch));
    if (start === null) {
      throw new PrCreatorError(
        "branch_not_found",
        `Neither "${commit.branch}" nor its base "${commit.base_branch}" exists in ${repo}.`,
        { hint: "Check the base branch name." },
      );
    }
    const [startCommit, current] = await Promise.all([
      gh.call(`read commit ${start}`, () => octokit.git.getCommit({ ...where, commit_sha: start, ...gh.timeout() })),
      Promise.all(commit.files.map((f) => readAt(where, start, f.path))),
    ]);
    const changed = commit.files.filter((f, i) => current[i] !== f.content);
    if (head !== null && changed.length === 0)
      return { sha: head, parent: startCommit.data.parents[0]?.sha ?? head, unchanged: true };
    const tree =
      changed.length === 0
        ? startCommit.data.tree.sha
        : (
            await gh.call("create a tree", () =>
              octokit.git.createTree({
                ...where,
                base_tree: startCommit.data.tree.sha,
                tree: changed.map((f) =>
                  f.content === null
                    ? { path: f.path, mode: "100644" as const, type: "blob" as const, sha: null }
                    : { path: f.path, mode: "100644" as const, type: "blob" as const, content: f.content },
                ),
                ...gh.timeout(),
              }),
            )
          ).data.sha;
    const created = (
      await gh.call("create a commit", () =>
        octokit.git.createCommit({ ...where, message: commit.message, tree, parents: [start], ...gh.timeout() }),
      )
    ).data.sha;
    const operation = head === null ? `create branch ${commit.branch}` : `move branch ${commit.branch}`;
    try {
      await gh.attempt<unknown>(() =>
        head === null
          ? octokit.git.createRef({ ...where, ref: `refs/heads/${commit.branch}`, sha: created, ...gh.timeout() })
          : octokit.git.updateRef({
              ...where,
              ref: `heads/${commit.branch}`,
              sha: created,
              force: false,
              ...gh.timeout(),
            }),
      );
    } catch (error) {
      if (!(error instanceof RetriesExhausted)) throw error;
      // Someone else wrote the branch between our read and our write: read again and redo, once.
      const race =
        error.failure.status === 422 && /not a fast forward|reference already exists/i.test(serverMessage(error.cause));
      if (race && !raceRetried) return pushFiles(repo, commit, true);
      throw gh.fail(operation, error);
    }
    return { sha: created, parent: start, unchanged: false };
  }

  function readPull(where: Where, id: number): Promise<Pull> {
    return gh
      .call(`read pull request #${id}`, () => octokit.pulls.get({ ...where, pull_number: id, ...gh.timeout() }))
      .then((r) => r.data);
  }

  /** A GraphQL call whose answer errors (HTTP 200) are returned rather than retried, except the rate limit. */
  function graphql<T>(
    operation: string,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<{ data: T } | { errors: GraphQLErrorEntry[] }> {
    return gh.call(operation, () =>
      octokit.graphql<T>(query, { ...variables, ...gh.timeout() }).then(
        (data) => ({ data }),
        (error: unknown) => {
          const errors = graphQLErrors(error);
          if (!errors) return Promise.reject(error);
          if (errors.some((e) => e.type === "RATE_LIMITED")) return Promise.reject(graphQLRateLimit(error, errors));
          return { errors };
        },
      ),
    );
  }

  const words = (errors: readonly GraphQLErrorEntry[]) => redact(errors.map((e) => e.message).join("; "), gh.secrets);

  function graphQLFailure(operation: string, errors: readonly GraphQLErrorEntry[]): PrCreatorError {
    const types = new Set(errors.map((e) => e.type));
    const reason: FailureReason = types.has("NOT_FOUND")
      ? "repo_not_found"
      : types.has("FORBIDDEN")
        ? "forbidden"
        : "invalid_request";
    return new PrCreatorError(reason, `GitHub refused to ${operation}: ${words(errors)}.`, {
      hint:
        reason === "forbidden"
          ? "The token lacks a permission this call needs (pull requests and contents: write)."
          : "The message above is GitHub's reason.",
    });
  }

  async function deleteBranch(where: Where, branch: string): Promise<void> {
    await gh.call(`delete branch ${branch}`, () =>
      octokit.git.deleteRef({ ...where, ref: `heads/${branch}`, ...gh.timeout() }).then(
        () => undefined,
        (error: OctokitError) =>
          error.status === 422 && /reference does not exist/i.test(serverMessage(error))
            ? undefined
            : Promise.reject(error),
      ),
    );
  }

  async function listCheckRuns(where: Where, sha: string) {
    const runs: RestEndpointMethodTypes["checks"]["listForRef"]["response"]["data"]["check_runs"] = [];
    for (let page = 1; ; page++) {
      const { data } = await gh.call(`list check runs (page ${page})`, () =>
        octokit.checks.listForRef({ ...where, ref: sha, per_page: 100, page, ...gh.timeout() }),
      );
      runs.push(...data.check_runs);
      if (data.check_runs.length < 100 || runs.length >= data.total_count) return runs;
    }
  }

  return {
    async readFile(repo, branch, path) {
      return readAt(gh.split(repo), branch, path);
    },

    commitFiles(repo, commit) {
      return pushFiles(repo, commit, false);
    },

    async getPullRequest(repo, id): Promise<PullRequestStatus> {
      const pr = await readPull(gh.split(repo), id);
      return {
        ...gh.remote(pr),
        state: pr.merged ? "merged" : pr.state === "closed" ? "closed" : "open",
        head_sha: pr.head.sha,
        merge_commit: pr.merged ? pr.merge_commit_sha : null,
        merged_at: pr.merged_at,
        auto_merge: pr.auto_merge !== null && pr.auto_merge !== undefined,
        blocked_reason: pr.state === "open" ? (BLOCKED[pr.mergeable_state] ?? null) : null,
      };
    },

    async getChecks(repo, id): Promise<ChecksReport> {
      const where = gh.split(repo);
      const sha = (await readPull(where, id)).head.sha;
      const [runs, combined] = await Promise.all([
        listCheckRuns(where, sha),
        gh.call("read commit statuses", () =>
          octokit.repos.getCombinedStatusForRef({ ...where, ref: sha, per_page: 100, ...gh.timeout() }),
        ),
      ]);
      const latest = new Map<string, CheckRun>();
      const keep = (check: CheckRun) => {
        const seen = latest.get(check.name);
        if (!seen || (check.started_at ?? "") >= (seen.started_at ?? "")) latest.set(check.name, check);
      };
      for (const run of [...runs].sort((a, b) => a.id - b.id)) {
        const state: CheckState =
          run.status !== "completed" ? "pending" : SUCCEEDED.has(run.conclusion ?? "") ? "succeeded" : "failed";
        keep({
          name: run.name,
          state,
          description: run.output.title ?? run.conclusion ?? run.status,
          url: run.details_url ?? run.html_url ?? null,
          started_at: run.started_at ?? null,
          completed_at: run.completed_at ?? null,
        });
      }
      for (const status of combined.data.statuses) {
        keep({
          name: status.context,
          state: STATUS_STATES[status.state] ?? "pending",
          description: status.description ?? status.state,
          url: status.target_url ?? null,
          started_at: status.created_at,
          completed_at: status.state === "pending" ? null : status.updated_at,
        });
      }
      const checks = [...latest.values()].sort((a, b) => a.name.localeCompare(b.name));
      const state =
        checks.length === 0
          ? "none"
          : checks.some((c) => c.state === "failed")
            ? "failed"
            : checks.some((c) => c.state === "pending")
              ? "pending"
              : "succeeded";
      return { state, checks };
    },

    /**
     * `delete_source_branch` applies to merges made here; when GitHub auto-merges later, it deletes the head
     * branch only if the repository's "Automatically delete head branches" setting is on (there is no per-PR option).
     */
    async enableAutoMerge(repo, id, options: AutoMergeOptions) {
      const where = gh.split(repo);
      const pr = await readPull(where, id);
      const cleanUp = () => (options.delete_source_branch ? deleteBranch(where, pr.head.ref) : Promise.resolve());
      if (pr.merged) {
        await cleanUp();
        return "merged";
      }
      if (pr.state !== "open") {
        throw new PrCreatorError(
          "invalid_request",
          `Pull request #${id} in ${repo} is closed without being merged; auto-merge needs an open pull request.`,
          { hint: "Reopen it, or open a new one." },
        );
      }
      const answer = await graphql("enable auto-merge", ENABLE_AUTO_MERGE, {
        pullRequestId: pr.node_id,
        commitHeadline: options.commit_title,
        commitBody: options.commit_message,
        expectedHeadOid: pr.head.sha,
      });
      if ("data" in answer) return "enabled";
      const text = words(answer.errors);
      // GitHub queues auto-merge only behind something still pending; a PR that can merge now is merged directly.
      if (/is in clean status/i.test(text)) {
        await gh.call(`merge pull request #${id}`, () =>
          octokit.pulls.merge({
            ...where,
            pull_number: id,
            merge_method: "squash",
            sha: pr.head.sha,
            commit_title: options.commit_title,
            commit_message: options.commit_message,
            ...gh.timeout(),
          }),
        );
        await cleanUp();
        return "merged";
      }
      if (/auto.?merge is not allowed/i.test(text)) {
        throw new PrCreatorError(
          "invalid_request",
          `GitHub refused auto-merge for pull request #${id} in ${repo}: ${text}.`,
          {
            hint: 'Turn on "Allow auto-merge" in the repository settings (Settings → General → Pull Requests).',
          },
        );
      }
      if (/is in unstable status/i.test(text)) {
        throw new PrCreatorError(
          "invalid_request",
          `GitHub refused auto-merge for pull request #${id} in ${repo}: ${text}.`,
          {
            hint: "GitHub queues auto-merge only behind required checks: make the CI checks required in the target branch's protection.",
          },
        );
      }
      throw graphQLFailure(`enable auto-merge on pull request #${id} in ${repo}`, answer.errors);
    },

    /** GitHub names the revert branch itself (revert-<number>-<head branch>); `request.branch` is not used. */
    async revertPullRequest(repo, request) {
      const where = gh.split(repo);
      const pr = await readPull(where, request.pr_id);
      if (!pr.merged) {
        throw new PrCreatorError(
          "invalid_request",
          `Pull request #${request.pr_id} in ${repo} is not merged (it is ${pr.state}); only a merged pull request can be reverted.`,
          {
            hint: "Wait for the merge, or close the pull request instead of reverting it.",
          },
        );
      }
      // A re-run finds the revert it already opened: GitHub's branch name for it is fixed.
      const branch = `revert-${pr.number}-${pr.head.ref}`;
      const open = await gh.call("look for an existing revert", () =>
        octokit.pulls.list({
          ...where,
          state: "open",
          head: `${where.owner}:${branch}`,
          base: pr.base.ref,
          per_page: 1,
          ...gh.timeout(),
        }),
      );
      if (open.data[0]) return gh.remote(open.data[0] as Pull);
      const answer = await graphql<RevertAnswer>(`revert pull request #${pr.number}`, REVERT_PULL_REQUEST, {
        pullRequestId: pr.node_id,
        title: request.title,
        body: request.description,
      });
      if ("errors" in answer) throw graphQLFailure(`revert pull request #${pr.number} in ${repo}`, answer.errors);
      const created = answer.data.revertPullRequest?.revertPullRequest;
      if (!created)
        throw new PrCreatorError(
          "invalid_request",
          `GitHub reverted pull request #${pr.number} in ${repo} but named no new pull request.`,
          { hint: "Look for it in the repository." },
        );
      return {
        id: created.number,
        url: created.url,
        title: created.title,
        description: created.body,
        source_branch: created.headRefName,
        target_branch: created.baseRefName,
        is_draft: created.isDraft,
        labels: [],
        reviewer_ids: [],
      };
    },
  };
}
