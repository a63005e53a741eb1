/**
 * What a lifecycle event means for the PR's issue (pure): Created, Updated and ReadyForReview → `opened` (and
 * `awaiting_approval` when people must review or approve); Merged → `merged`; Failed, MergeBlocked and
 * RollbackCreated → `problem`. An event without an issue id means nothing to a tracker.
 */
import type { LifecycleEvent } from "../domain/events.js";
import type { TrackedPullRequest, TrackerUpdate } from "./tracker.js";

/** What the caller knows beyond the event: the PR's address and title, who must approve. */
export interface UpdateContext {
  /** The issue, when the event does not carry one. */
  issue_id?: string | null;
  pr_url?: string | null;
  pr_title?: string | null;
  /** What people must do before the PR merges (the merge plan). */
  requires?: "none" | "review" | "senior_approval";
  /** Who must approve (required reviewers). */
  approvers?: readonly string[];
  /** For a rollback: the revert PR's address and title. */
  revert_url?: string | null;
  revert_title?: string | null;
}

/** A revert PR's title (`revert(orders): roll back PR 12 …`), as rollback composes it. */
const REVERT_TITLE = /^revert(\([^)]*\))?!?:/;

function issueOf(event: LifecycleEvent, context: UpdateContext): string | null {
  const own = (event as { issue_id?: unknown }).issue_id;
  if (typeof own === "string" && own.trim() !== "") return own.trim();
  return context.issue_id?.trim() || null;
}

export function trackerUpdates(event: LifecycleEvent, context: UpdateContext = {}): TrackerUpdate[] {
  const issue_id = issueOf(event, context);
  if (issue_id === null) return [];
  const common = { issue_id, trace_id: event.trace_id, repo: event.repo, at: event.timestamp };
  const pr = (id: number | string, repo: string, branch: string | null): TrackedPullRequest => ({
    id,
    repo,
    branch,
    url: context.pr_url ?? null,
    title: context.pr_title ?? null,
  });
  switch (event.event) {
    case "PullRequestCreated":
    case "PullRequestUpdated":
    case "PullRequestReadyForReview": {
      const subject = pr(event.pr_id, event.repo, event.branch);
      const status =
        event.event === "PullRequestCreated"
          ? "created"
          : event.event === "PullRequestUpdated"
            ? "updated"
            : "ready_for_review";
      const updates: TrackerUpdate[] = [{ moment: "opened", ...common, pr: subject, status }];
      if (context.requires === "review" || context.requires === "senior_approval") {
        updates.push({
          moment: "awaiting_approval",
          ...common,
          pr: subject,
          requires: context.requires,
          approvers: [...(context.approvers ?? [])],
        });
      }
      return updates;
    }
    case "PullRequestMerged":
      // A merged revert undoes the issue's change: the rollback comment has said so, and Done would be wrong.
      if (context.pr_title && REVERT_TITLE.test(context.pr_title)) return [];
      return [
        {
          moment: "merged",
          ...common,
          pr: pr(event.pr_id, event.repo, event.branch),
          merge_commit: event.merge_commit,
          auto_merged: event.auto_merged,
        },
      ];
    case "PullRequestMergeBlocked":
      return [
        {
          moment: "problem",
          ...common,
          pr: pr(event.pr_id, event.repo, event.branch),
          what: "merge_blocked",
          reason: event.message,
          codes: event.failed_checks,
          revert: null,
        },
      ];
    case "PullRequestFailed":
      return [
        {
          moment: "problem",
          ...common,
          pr: null,
          what: "failed",
          reason: event.message,
          codes: [event.reason],
          revert: null,
        },
      ];
    case "PullRequestRollbackCreated":
      return [
        {
          moment: "problem",
          ...common,
          pr: pr(event.original_pr_id, event.repo, null),
          what: "rolled_back",
          reason: event.reason,
          codes: [],
          revert: {
            id: event.pr_id,
            repo: event.repo,
            branch: event.branch,
            url: context.revert_url ?? null,
            title: context.revert_title ?? null,
          },
        },
      ];
    default:
      // Anything else (an alert over several runs) says nothing new about one PR's issue.
      return [];
  }
}
