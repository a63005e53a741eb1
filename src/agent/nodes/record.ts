import { AGENT_NAME, type LifecycleEvent, type PullRequestCreated } from "../../domain/events.js";
import { emitAll } from "../../events/sinks.js";
import type { PrRecord } from "../../memory/store.js";
import type { AgentDeps } from "../deps.js";
import { recordGeneration } from "../generation-ledger.js";
import { memoryWarning } from "../memory-use.js";
import { proseText } from "./dedupe.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Emits the lifecycle events of a published PR: `PullRequestCreated` when a PR was created or changed, and
 * `PullRequestReadyForReview` when it is not a draft and its checklist is complete. A preview or an unchanged
 * PR emits nothing, so downstream agents never hear of a PR twice or of one that does not exist.
 */
export function makeRecord(deps: AgentDeps) {
  return async function record(state: AgentStateType): Promise<AgentUpdate> {
    const [remembered, ledgerWarnings] = await Promise.all([
      remember(deps, state),
      recordGeneration(deps, state, state.published!.status, null),
    ]);
    const published = state.published!;
    if (published.status === "previewed" || published.status === "unchanged" || published.id === null) {
      return { warnings: [...(remembered.warnings ?? []), ...ledgerWarnings] };
    }
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
    if (!pr.is_draft && pr.checklist.every((i) => i.done))
      events.push({ ...created, event: "PullRequestReadyForReview" });
    const warnings = await emitAll(deps.emit, events);
    return {
      events,
      warnings: [...(remembered.warnings ?? []), ...ledgerWarnings, ...warnings],
      undelivered: warnings.length,
    };
  };
}

/**
 * Writes the PR to memory (audit chain and recall). A record memory cannot take waits in the pending file
 * and is written by a later run; records waiting from earlier runs go first.
 */
async function remember(deps: AgentDeps, state: AgentStateType): Promise<{ warnings?: string[] }> {
  if (!deps.memory) return {};
  const event = state.event!;
  const pr = state.pr!;
  const published = state.published!;
  const now = deps.now().toISOString();
  const record: PrRecord = {
    repo: event.repo,
    pr_id: published.id === null ? null : String(published.id),
    url: published.url,
    forge: deps.publisher.kind,
    status: published.status,
    trace_id: event.trace_id,
    blueprint_id: state.trace!.blueprint_id,
    component_scope: state.trace!.component_scope,
    commit_hash: event.commit_hash,
    source_branch: pr.source_branch,
    target_branch: pr.target_branch,
    title: pr.title,
    text: proseText(state),
    created_at: now,
    updated_at: now,
  };
  if (state.memory_unavailable) {
    await deps.pending?.add(record);
    return {};
  }
  try {
    if (deps.pending) await deps.pending.flush(deps.memory);
    await deps.memory.remember(record);
    return {};
  } catch (error) {
    await deps.pending?.add(record);
    return {
      warnings: [
        `${memoryWarning(error)} The PR record waits in ${deps.pending?.file ?? "memory"} and is written by a later run.`,
      ],
    };
  }
}
