import { errorText, PrCreatorError } from "../../domain/errors.js";
import type { MergeOutcome } from "../../domain/run-result.js";
import { followPullRequest } from "../../merge/follow.js";
import { trackFollow } from "../../merge/track.js";
import type { AgentDeps } from "../deps.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

function problem(error: unknown): string {
  return error instanceof PrCreatorError ? error.paragraph : errorText(error);
}

/**
 * After the PR exists: when the plan allows, asks the forge to merge it once CI is green (never past a failed
 * check); with `watch`, follows the checks and the merge to the end and records the CI and merge times.
 * Nothing here fails the run — the PR is already published — so problems become warnings and the outcome.
 */
export function makeMerge(deps: AgentDeps) {
  return async function merge(state: AgentStateType): Promise<AgentUpdate> {
    const pr = state.pr!;
    const published = state.published!;
    const event = state.event!;
    const requires = pr.merge?.requires ?? "review";
    const decision = pr.merge?.decision ?? "Needs a review.";
    const outcome = (
      status: MergeOutcome["status"],
      message: string,
      extra: Partial<MergeOutcome> = {},
    ): MergeOutcome => ({
      requires,
      status,
      message,
      failed_checks: [],
      checks: [],
      merge_commit: null,
      ci_ms: null,
      merge_ms: null,
      ...extra,
    });
    if (published.status === "previewed" || published.id === null)
      return { merge_outcome: outcome("previewed", `Preview: ${decision}`) };
    if (!pr.auto_complete || !deps.forge) return { merge_outcome: outcome("not_requested", decision) };

    const forge = deps.forge;
    const id = Number(published.id);
    const { metrics } = deps.ledger;
    const tracked = {
      repo: event.repo,
      trace_id: event.trace_id,
      pr_id: id,
      branch: event.branch,
      issue_id: state.issue?.issue_id ?? null,
      risk: pr.risk?.level ?? null,
      auto: true,
    };
    try {
      const checks = await forge.getChecks(event.repo, id);
      if (checks.state !== "failed") {
        const done = await forge.enableAutoMerge(event.repo, id, {
          method: deps.policy.merge.method,
          delete_source_branch: deps.policy.merge.delete_source_branch,
          commit_title: pr.title,
          commit_message: `${event.trace_id}: squash of ${pr.source_branch} into ${pr.target_branch}`,
        });
        // A merge is counted (and recorded, and announced) once, by the follow below.
        if (done === "enabled") metrics.autoMerge(done);
        if (!deps.watch && done === "enabled") {
          return { merge_outcome: outcome(done, "Auto-merge is on: the forge merges the PR once every check passes.") };
        }
      }
      const followed =
        checks.state === "failed"
          ? await followPullRequest(forge, event.repo, id, { poll_ms: 0, timeout_ms: 0 })
          : await followPullRequest(forge, event.repo, id, {
              poll_ms: deps.policy.merge.poll_interval_ms,
              timeout_ms: deps.policy.merge.watch_timeout_ms,
            });
      const result = await trackFollow({ ledger: deps.ledger, emit: deps.emit, now: deps.now }, tracked, followed);
      const message =
        followed.outcome === "merged"
          ? "Merged after every check passed."
          : followed.outcome === "blocked"
            ? ((result.events.find((e) => e.event === "PullRequestMergeBlocked") as { message: string } | undefined)
                ?.message ?? "Auto-merge is blocked.")
            : followed.outcome === "closed"
              ? "The PR was closed without merging."
              : `Still waiting after ${Math.round(followed.elapsed_ms / 1000)} s; auto-merge stays on.`;
      const status: MergeOutcome["status"] =
        followed.outcome === "merged"
          ? "merged"
          : followed.outcome === "blocked"
            ? "blocked"
            : followed.outcome === "closed"
              ? "failed"
              : "pending";
      return {
        merge_outcome: outcome(status, message, {
          failed_checks: followed.failed_checks,
          checks: followed.checks.checks,
          merge_commit: followed.pr.merge_commit,
          ci_ms: followed.ci_ms,
          merge_ms: followed.merge_ms,
        }),
        events: result.events,
        warnings: result.warnings,
        undelivered: result.undelivered,
      };
    } catch (error) {
      metrics.autoMerge("failed");
      const message = `Auto-merge could not be set: ${problem(error)}`;
      const warning = await deps.ledger.append({
        kind: "merge",
        at: deps.now(),
        repo: event.repo,
        trace_id: event.trace_id,
        pr_id: String(id),
        risk: pr.risk?.level ?? "low",
        auto: true,
        result: "failed",
        after_ci_ms: null,
        reason: message,
      });
      return { merge_outcome: outcome("failed", message), warnings: [message, ...(warning ? [warning] : [])] };
    }
  };
}
