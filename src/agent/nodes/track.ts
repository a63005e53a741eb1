import { trackerUpdates, type UpdateContext } from "../../trackers/updates.js";
import type { AgentDeps } from "../deps.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * The last step of every run, after the PR is published and merged (or the run failed): tells the issue
 * tracker what this run's lifecycle events mean for the PR's issue, after re-sending what earlier runs could
 * not. Off the critical path — the PR and its events are out already — and it never fails the run: a tracker
 * that is down becomes a warning and its update waits in the tracker outbox.
 */
export function makeTrack(deps: AgentDeps) {
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
    const updates = state.events.flatMap((event) => trackerUpdates(event, context));
    const warnings = await tracker.send(updates);
    return warnings.length > 0 ? { warnings } : {};
  };
}
