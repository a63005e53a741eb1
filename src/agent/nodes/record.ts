import { AGENT_NAME, type LifecycleEvent, type PullRequestCreated } from "../../domain/events.js";
import { emitAll } from "../../events/sinks.js";
import type { AgentDeps } from "../deps.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Emits the lifecycle events of a published PR: `PullRequestCreated` when a PR was created or changed, and
 * `PullRequestReadyForReview` when it is not a draft and its checklist is complete. A preview or an unchanged
 * PR emits nothing, so downstream agents never hear of a PR twice or of one that does not exist.
 */
export function makeRecord(deps: AgentDeps) {
  return async function record(state: AgentStateType): Promise<AgentUpdate> {
    const published = state.published!;
    if (published.status === "previewed" || published.status === "unchanged" || published.id === null) return {};
    const event = state.event!;
    const trace = state.trace!;
    const pr = state.pr!;
    const created: PullRequestCreated = {
      event: "PullRequestCreated",
      pr_id: published.id,
      repo: event.repo,
      branch: event.branch,
      trace_id: event.trace_id,
      blueprint_id: trace.blueprint_id,
      component_scope: trace.component_scope,
      commit_hash: event.commit_hash,
      created_by: AGENT_NAME,
      timestamp: deps.now().toISOString(),
    };
    const events: LifecycleEvent[] = [created];
    if (!pr.is_draft && pr.checklist.every((i) => i.done)) events.push({ ...created, event: "PullRequestReadyForReview" });
    const warnings = await emitAll(deps.emit, events);
    return { events, warnings, undelivered: warnings.length };
  };
}
