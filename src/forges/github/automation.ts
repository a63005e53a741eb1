import type { RestEndpointMethodTypes } from "@octokit/rest";
import { PrCreatorError } from "../../domain/errors.js";
import type { FailureReason } from "../../domain/reasons.js";
import {
  checksReport,
  type AutoMergeOptions,
  type CheckRun,
  type CheckState,
  type ChecksReport,
  type Forge,
  type PullRequestStatus,
} from "../forge.js";
import type { GitHubContext, Pull, Where } from "./context.js";
import { graphQLErrors, graphQLRateLimit, serverMessage, type GraphQLErrorEntry, type OctokitError } from "./errors.js";

export type Automation = Pick<Forge, "getPullRequest" | "getChecks" | "enableAutoMerge" | "revertPullRequest">;

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

/** A PR's life after it is opened: its state, its checks (check runs and commit statuses), auto-merge, reverts. */
export function automation(ctx: GitHubContext): Automation {
  const { octokit } = ctx;

  function readPull(where: Where, id: number): Promise<Pull> {
    return ctx
      .call(`read pull request #${id}`, () => octokit.pulls.get({ ...where, pull_number: id, ...ctx.timeout() }))
      .then((r) => r.data);
  }

  /** A GraphQL call whose answer errors (HTTP 200) are returned rather than retried, except the rate limit. */
  function graphql<T>(
    operation: string,
    query: string,
    variables: Record<string, unknown>,
  ): Promise<{ data: T } | { errors: GraphQLErrorEntry[] }> {
    return ctx.call(operation, () =>
      octokit.graphql<T>(query, { ...variables, ...ctx.timeout() }).then(
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

  const words = (errors: readonly GraphQLErrorEntry[]) => ctx.redact(errors.map((e) => e.message).join("; "));

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
          ? `Give the ${ctx.credential.kind} in ${ctx.credential.variable} Contents: write and Pull requests: write (classic tokens: repo).`
          : "The message above is GitHub's reason.",
    });
  }

  async function deleteBranch(where: Where, branch: string): Promise<void> {
    await ctx.call(`delete branch ${branch}`, () =>
      octokit.git.deleteRef({ ...where, ref: `heads/${branch}`, ...ctx.timeout() }).then(
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
      const { data } = await ctx.call(`list check runs (page ${page})`, () =>
        octokit.checks.listForRef({ ...where, ref: sha, per_page: 100, page, ...ctx.timeout() }),
      );
      runs.push(...data.check_runs);
      if (data.check_runs.length < 100 || runs.length >= data.total_count) return runs;
    }
  }

  return {
    async getPullRequest(repo, id): Promise<PullRequestStatus> {
      const pr = await readPull(ctx.split(repo), id);
      return {
        ...ctx.remote(pr),
        state: pr.merged ? "merged" : pr.state === "closed" ? "closed" : "open",
        head_sha: pr.head.sha,
        merge_commit: pr.merged ? pr.merge_commit_sha : null,
        merged_at: pr.merged_at,
        auto_merge: pr.auto_merge !== null && pr.auto_merge !== undefined,
        blocked_reason: pr.state === "open" ? (BLOCKED[pr.mergeable_state] ?? null) : null,
      };
    },

    async getChecks(repo, id): Promise<ChecksReport> {
      const where = ctx.split(repo);
      const sha = (await readPull(where, id)).head.sha;
      const [runs, combined] = await Promise.all([
        listCheckRuns(where, sha),
        ctx.call("read commit statuses", () =>
          octokit.repos.getCombinedStatusForRef({ ...where, ref: sha, per_page: 100, ...ctx.timeout() }),
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
      return checksReport(checks);
    },

    /**
     * `delete_source_branch` applies to merges made here; when GitHub auto-merges later, it deletes the head
     * branch only if the repository's "Automatically delete head branches" setting is on (there is no per-PR option).
     */
    async enableAutoMerge(repo, id, options: AutoMergeOptions) {
      const where = ctx.split(repo);
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
        await ctx.call(`merge pull request #${id}`, () =>
          octokit.pulls.merge({
            ...where,
            pull_number: id,
            merge_method: "squash",
            sha: pr.head.sha,
            commit_title: options.commit_title,
            commit_message: options.commit_message,
            ...ctx.timeout(),
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
      const where = ctx.split(repo);
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
      const open = await ctx.call("look for an existing revert", () =>
        octokit.pulls.list({
          ...where,
          state: "open",
          head: `${where.owner}:${branch}`,
          base: pr.base.ref,
          per_page: 1,
          ...ctx.timeout(),
        }),
      );
      if (open.data[0]) return ctx.remote(open.data[0] as Pull);
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
