import {
  GitAsyncOperationStatus,
  GitPullRequestMergeStrategy,
  GitStatusState,
  PullRequestAsyncStatus,
  PullRequestStatus,
  type GitPullRequest,
  type GitPullRequestStatus,
  type GitRevert,
} from "azure-devops-node-api/interfaces/GitInterfaces.js";
import {
  PolicyEvaluationStatus,
  type PolicyEvaluationRecord,
} from "azure-devops-node-api/interfaces/PolicyInterfaces.js";
import { PrCreatorError } from "../../domain/errors.js";
import {
  checksReport,
  type CheckRun,
  type CheckState,
  type ChecksReport,
  type Forge,
  type PullRequestStatus as PrStatus,
} from "../forge.js";
import { fromRef, toRef, type AzureDevOpsContext } from "./context.js";
import type { PullRequests } from "./pull-requests.js";

/** Policy types that are CI (Build validation, Status); reviewer policies are reviews, not checks. */
const CHECK_POLICY_TYPES = new Set(["0609b952-1397-4640-95ec-e00a01b2c241", "cbdc66da-9728-4af8-aada-9a5a32e4a226"]);

const EVALUATION_STATE: Partial<Record<PolicyEvaluationStatus, CheckState>> = {
  [PolicyEvaluationStatus.Queued]: "pending",
  [PolicyEvaluationStatus.Running]: "pending",
  [PolicyEvaluationStatus.Approved]: "succeeded",
  [PolicyEvaluationStatus.Rejected]: "failed",
  [PolicyEvaluationStatus.Broken]: "failed",
};

const STATUS_STATE: Partial<Record<GitStatusState, CheckState>> = {
  [GitStatusState.NotSet]: "pending",
  [GitStatusState.Pending]: "pending",
  [GitStatusState.Succeeded]: "succeeded",
  [GitStatusState.PartiallySucceeded]: "succeeded",
  [GitStatusState.Failed]: "failed",
  [GitStatusState.Error]: "failed",
};

/** The enum member's name as the service writes it ("rejected", "inProgress"). */
const wireName = (names: Record<string | number, string | number>, value: number | undefined) => {
  const name = value === undefined ? undefined : names[value];
  return typeof name === "string" ? name.charAt(0).toLowerCase() + name.slice(1) : "unknown";
};

interface BuildContext {
  buildId?: number;
  buildOutputPreview?: { errors?: Array<{ message?: string }> };
}

/** Dates come back as Date objects from the client; the port speaks ISO strings. */
const isoDate = (value: Date | string | undefined | null): string | null =>
  value ? new Date(value).toISOString() : null;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * A PR's life after it is opened: its state, its checks (branch policy evaluations plus posted PR statuses),
 * auto-complete set by the token's identity, and reverting a completed PR through the reverts API.
 */
export function automation(
  ctx: AzureDevOpsContext,
  prs: Pick<PullRequests, "createPullRequest" | "findOpenPullRequest">,
): Pick<Forge, "getPullRequest" | "getChecks" | "enableAutoMerge" | "revertPullRequest"> {
  const project = ctx.project;
  let projectId: Promise<string> | undefined;

  async function readPullRequest(repo: string, id: number): Promise<GitPullRequest> {
    const api = await ctx.git();
    const pr = await ctx.call(`read pull request ${id}`, () => api.getPullRequest(repo, id, project));
    if (!pr)
      throw ctx.missing(
        "pull request",
        `${id}`,
        "invalid_request",
        `Check the pull request id and that it belongs to repository ${repo}.`,
      );
    return pr;
  }

  /** The project's GUID, which policy artifact ids need; every repository of the project shares it. */
  function projectIdOf(repo: string): Promise<string> {
    projectId ??= (async () => {
      const api = await ctx.git();
      const r = await ctx.call(`read repository ${repo}`, () => api.getRepository(repo, project));
      if (!r?.project?.id)
        throw ctx.missing("repository", repo, "repo_not_found", "Check the repository name and AZURE_DEVOPS_PROJECT.");
      return r.project.id;
    })().catch((error: unknown) => {
      projectId = undefined;
      throw error;
    });
    return projectId;
  }

  async function evaluations(repo: string, id: number): Promise<PolicyEvaluationRecord[]> {
    const [api, pid] = await Promise.all([ctx.policy(), projectIdOf(repo)]);
    const artifactId = `vstfs:///CodeReview/CodeReviewId/${pid}/${id}`;
    return (
      (await ctx.call(`read the policy evaluations of pull request ${id}`, () =>
        api.getPolicyEvaluations(project, artifactId),
      )) ?? []
    );
  }

  const policyName = (e: PolicyEvaluationRecord): string => {
    const settings = (e.configuration?.settings ?? {}) as {
      displayName?: string;
      defaultDisplayName?: string;
      statusName?: string;
    };
    return (
      settings.displayName ||
      settings.defaultDisplayName ||
      settings.statusName ||
      e.configuration?.type?.displayName ||
      "policy"
    );
  };

  const firstError = (e: PolicyEvaluationRecord) =>
    (e.context as BuildContext | undefined)?.buildOutputPreview?.errors?.[0]?.message;

  function fromEvaluation(e: PolicyEvaluationRecord): CheckRun | null {
    const state = e.status === undefined ? undefined : EVALUATION_STATE[e.status];
    if (!state || !CHECK_POLICY_TYPES.has(e.configuration?.type?.id?.toLowerCase() ?? "")) return null;
    const word = wireName(PolicyEvaluationStatus, e.status);
    const error = state === "failed" ? firstError(e) : undefined;
    const buildId = (e.context as BuildContext | undefined)?.buildId;
    return {
      name: policyName(e),
      state,
      description: error ? `${word}: ${error}` : word,
      url: buildId ? `${ctx.orgUrl}/${encodeURIComponent(project)}/_build/results?buildId=${buildId}` : null,
      started_at: isoDate(e.startedDate),
      completed_at: state === "pending" ? null : isoDate(e.completedDate),
    };
  }

  /** The latest status of each context (genre/name); statuses are history, the newest counts. */
  function fromStatuses(statuses: GitPullRequestStatus[]): CheckRun[] {
    const latest = new Map<string, GitPullRequestStatus>();
    for (const s of statuses) {
      const key = [s.context?.genre, s.context?.name].filter(Boolean).join("/");
      const seen = latest.get(key);
      if (!seen || (s.id ?? 0) > (seen.id ?? 0)) latest.set(key, s);
    }
    return [...latest].flatMap(([name, s]): CheckRun[] => {
      const state = s.state === undefined ? undefined : STATUS_STATE[s.state];
      if (!state) return [];
      return [
        {
          name,
          state,
          description: s.description || wireName(GitStatusState, s.state),
          url: s.targetUrl ?? null,
          started_at: isoDate(s.creationDate),
          completed_at: state === "pending" ? null : isoDate(s.updatedDate),
        },
      ];
    });
  }

  /** What the service says stops the merge: its failure message, conflicts, or a blocking policy that rejected it. */
  async function blockedReason(repo: string, pr: GitPullRequest): Promise<string | null> {
    if (pr.mergeFailureMessage) return pr.mergeFailureMessage;
    if (pr.mergeStatus === PullRequestAsyncStatus.Conflicts) return "The merge has conflicts with the target branch.";
    if (pr.mergeStatus === PullRequestAsyncStatus.RejectedByPolicy) return "The merge was rejected by policy.";
    if (pr.mergeStatus === PullRequestAsyncStatus.Failure) return "The merge failed.";
    if (pr.status !== PullRequestStatus.Active) return null;
    const rejected = (await evaluations(repo, pr.pullRequestId!)).filter(
      (e) =>
        e.configuration?.isBlocking !== false &&
        (e.status === PolicyEvaluationStatus.Rejected || e.status === PolicyEvaluationStatus.Broken),
    );
    if (rejected.length === 0) return null;
    return rejected
      .map(
        (e) =>
          `Policy "${policyName(e)}" ${wireName(PolicyEvaluationStatus, e.status)} it${firstError(e) ? `: ${firstError(e)}` : ""}.`,
      )
      .join(" ");
  }

  async function waitForRevert(repositoryId: string, started: GitRevert, prId: number): Promise<void> {
    const api = await ctx.git();
    const deadline = Date.now() + ctx.timeoutMs;
    let revert = started;
    for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
      if (revert.status === GitAsyncOperationStatus.Completed) return;
      if (revert.status === GitAsyncOperationStatus.Failed || revert.status === GitAsyncOperationStatus.Abandoned) {
        const detail = revert.detailedStatus;
        const why = ctx.redact(
          detail?.failureMessage ?? (detail?.conflict ? "it conflicts with later changes" : "no reason given"),
        );
        throw new PrCreatorError(
          detail?.conflict ? "azure_devops_409" : "invalid_request",
          `Azure DevOps could not revert pull request ${prId} (revert ${revert.revertId} ${wireName(GitAsyncOperationStatus, revert.status)}): ${why}`,
          {
            hint: detail?.conflict
              ? "The target changed the same files since the merge; revert by hand."
              : "Check that the revert branch does not exist yet and the target branch still does.",
          },
        );
      }
      if (Date.now() + delay > deadline) {
        throw new PrCreatorError(
          "forge_unreachable",
          `Azure DevOps did not finish reverting pull request ${prId} within ${ctx.timeoutMs} ms (revert ${revert.revertId} is ${wireName(GitAsyncOperationStatus, revert.status)}).`,
          {
            hint: "The service may be busy; run again later, or raise forge_timeout_ms.",
          },
        );
      }
      await sleep(delay);
      const next = await ctx.call(`read revert ${revert.revertId}`, () =>
        api.getRevert(project, revert.revertId!, repositoryId),
      );
      if (!next)
        throw ctx.missing(
          "revert",
          `${revert.revertId}`,
          "invalid_request",
          "The revert operation disappeared; run again.",
        );
      revert = next;
    }
  }

  return {
    async getPullRequest(repo, id): Promise<PrStatus> {
      const pr = await readPullRequest(repo, id);
      const state =
        pr.status === PullRequestStatus.Completed
          ? "merged"
          : pr.status === PullRequestStatus.Abandoned
            ? "closed"
            : "open";
      return {
        ...ctx.remote(repo, pr),
        state,
        head_sha: pr.lastMergeSourceCommit?.commitId ?? "",
        merge_commit: state === "merged" ? (pr.lastMergeCommit?.commitId ?? null) : null,
        merged_at: state === "merged" ? isoDate(pr.closedDate) : null,
        auto_merge: Boolean(pr.autoCompleteSetBy?.id),
        blocked_reason: await blockedReason(repo, pr),
      };
    },

    async getChecks(repo, id): Promise<ChecksReport> {
      const api = await ctx.git();
      const [records, statuses] = await Promise.all([
        evaluations(repo, id),
        ctx.call(`read the statuses of pull request ${id}`, () => api.getPullRequestStatuses(repo, id, project)),
      ]);
      if (statuses === null)
        throw ctx.missing(
          "pull request",
          `${id}`,
          "invalid_request",
          `Check the pull request id and that it belongs to repository ${repo}.`,
        );
      const checks = [
        ...records.map(fromEvaluation).filter((c): c is CheckRun => c !== null),
        ...fromStatuses(statuses),
      ];
      return checksReport(checks);
    },

    async enableAutoMerge(repo, id, options) {
      const [api, userId] = await Promise.all([ctx.git(), ctx.userId()]);
      const message = options.commit_message.trim()
        ? `${options.commit_title}\n\n${options.commit_message}`
        : options.commit_title;
      const body: GitPullRequest = {
        autoCompleteSetBy: { id: userId },
        completionOptions: {
          mergeStrategy: GitPullRequestMergeStrategy.Squash,
          deleteSourceBranch: options.delete_source_branch,
          mergeCommitMessage: message,
          transitionWorkItems: true,
        },
      };
      const updated = await ctx.call(`set auto-complete on pull request ${id}`, () =>
        api.updatePullRequest(body, repo, id, project),
      );
      if (!updated)
        throw ctx.missing(
          "pull request",
          `${id}`,
          "invalid_request",
          `Check the pull request id and that it belongs to repository ${repo}.`,
        );
      return updated.status === PullRequestStatus.Completed ? "merged" : "enabled";
    },

    async revertPullRequest(repo, request) {
      const pr = await readPullRequest(repo, request.pr_id);
      if (pr.status !== PullRequestStatus.Completed) {
        throw new PrCreatorError(
          "invalid_request",
          `Pull request ${request.pr_id} of ${repo} is ${wireName(PullRequestStatus, pr.status)}; only a completed (merged) pull request can be reverted.`,
          {
            hint: "Revert it once it has been merged, or abandon it instead.",
          },
        );
      }
      const target = fromRef(pr.targetRefName);
      // A re-run after the revert PR was opened finds it instead of reverting twice.
      const existing = await prs.findOpenPullRequest(repo, request.branch, target);
      if (existing) return existing;
      const api = await ctx.git();
      const repositoryId = pr.repository?.id ?? repo;
      const started = await ctx.call(`start reverting pull request ${request.pr_id}`, () =>
        api.createRevert(
          {
            generatedRefName: toRef(request.branch),
            ontoRefName: pr.targetRefName,
            repository: { id: repositoryId },
            source: { pullRequestId: request.pr_id },
          },
          project,
          repositoryId,
        ),
      );
      if (!started?.revertId)
        throw ctx.missing("repository", repo, "repo_not_found", "Check the repository name and AZURE_DEVOPS_PROJECT.");
      await waitForRevert(repositoryId, started, request.pr_id);
      return prs.createPullRequest(repo, {
        title: request.title,
        description: request.description,
        source_branch: request.branch,
        target_branch: target,
        is_draft: false,
        labels: [],
        reviewers: [],
        work_items: [],
      });
    },
  };
}
