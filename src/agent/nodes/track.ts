import type { LifecycleEvent } from "../../domain/events.js";
import { trackerUpdates, type UpdateContext } from "../../trackers/updates.js";
import type { AgentDeps } from "../deps.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** Which of a run's events each tracking step tells the tracker about. */
const STEP_EVENTS = {
  /** After record: the PR is out — link it while CI runs, not after a watched merge. */
  published: ["PullRequestCreated", "PullRequestUpdated", "PullRequestReadyForReview"],
  /** After merge or fail: how the run ended. */
  outcome: ["PullRequestMerged", "PullRequestMergeBlocked", "PullRequestFailed"],
} as const satisfies Record<string, readonly LifecycleEvent["event"][]>;

/**
 * Tells the issue tracker what this run's lifecycle events mean for the PR's issue, after re-sending what
 * earlier runs could not: `published` right after the PR is announced, `outcome` after the merge (or the
 * failure). Off the critical path — the PR and its events are out already — and it never fails the run: a
 * tracker that is down becomes a warning and its update waits in the tracker outbox.
 */
export function makeTrack(deps: AgentDeps, step: keyof typeof STEP_EVENTS) {
  const kinds = new Set<string>(STEP_EVENTS[step]);
  return async function track(state: AgentStateType): Promise<AgentUpdate> {
    const tracker = deps.tracker;
    if (!tracker) return {};
    const pr = state.pr;
    const context: UpdateContext = {
      issue_id: state.issue?.issue_id ?? state.change_request?.issue_id ?? null,
      pr_url: state.published?.url ?? null,
      pr_title: pr?.title ?? null,
      requires: pr?.merge?.requires ?? "none",
      approvers: (pr?.reviewers ?? []).filter((r) => r.required).map((r) => r.name),
    };
    const updates = state.events.filter((e) => kinds.has(e.event)).flatMap((e) => trackerUpdates(e, context));
    const warnings = await tracker.send(updates);
    return warnings.length > 0 ? { warnings } : {};
  };
}
