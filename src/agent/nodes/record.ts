import { AGENT_NAME, type LifecycleEvent, type PullRequestCreated } from "../../domain/events.js";
import { emitAll } from "../../events/sinks.js";
import type { AnnouncementKind } from "../../merge/ledger.js";
import type { PrRecord } from "../../memory/store.js";
import type { AgentDeps } from "../deps.js";
import { recordGeneration } from "../generation-ledger.js";
import { memoryWarning } from "../memory-use.js";
import { proseText } from "./dedupe.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Announces a published PR exactly once: `PullRequestCreated` the first time any run sees it — also when a
 * run finds its own PR that an earlier run created but never announced (the create's answer was lost, or
 * the process died) — then `PullRequestUpdated` when a later run changes it, and
 * `PullRequestReadyForReview` once, when it is not a draft and its checklist is complete. The ledger in
 * the state file remembers what was announced; a preview announces nothing.
 */
export function makeRecord(deps: AgentDeps) {
  return async function record(state: AgentStateType): Promise<AgentUpdate> {
    const [remembered, ledgerWarnings] = await Promise.all([
      remember(deps, state),
      recordGeneration(deps, state, state.published!.status, null),
    ]);
    const published = state.published!;
    if (published.status === "previewed" || published.id === null) {
      return { warnings: [...(remembered.warnings ?? []), ...ledgerWarnings] };
    }
    const event = state.event!;
    const trace = state.trace!;
    const pr = state.pr!;
    // The URL keeps PRs apart that share an id on different servers (or emulators) using one state file.
    const key = { forge: deps.publisher.kind, repo: event.repo, pr_id: `${published.id} ${published.url ?? ""}` };
    const created: PullRequestCreated = {
      event: "PullRequestCreated",
      pr_id: published.id,
      repo: event.repo,
      branch: event.branch,
      trace_id: event.trace_id,
      blueprint_id: trace.blueprint_id,
      component_scope: trace.component_scope,
      commit_hash: event.commit_hash,
      issue_id: state.issue?.issue_id ?? null,
      created_by: AGENT_NAME,
      timestamp: deps.now().toISOString(),
    };
    const events: LifecycleEvent[] = [];
    const claimed: AnnouncementKind[] = [];
    // Created and Updated say which reviewers the PR lacks, so a downstream agent can chase them.
    const unresolved = published.unresolved_reviewers?.length
      ? { unresolved_reviewers: published.unresolved_reviewers }
      : {};
    // A PR this run created was never announced; one it found is announced only if no run did so before.
    const firstSight = await deps.ledger.mayAnnounce("created", key);
    if (published.status === "created" || firstSight) {
      events.push({ ...created, ...unresolved });
      claimed.push("created");
    } else if (published.status !== "unchanged") {
      events.push({ ...created, ...unresolved, event: "PullRequestUpdated" });
    }
    // Ask the ledger first (it records the claim), then let a PR this run created through regardless.
    const ready = !pr.is_draft && pr.checklist.every((i) => i.done);
    if (ready && ((await deps.ledger.mayAnnounce("ready", key)) || published.status === "created")) {
      events.push({ ...created, event: "PullRequestReadyForReview" });
      claimed.push("ready");
    }
    const warnings = await emitAll(deps.emit, events);
    // Handed over: the outbox keeps what a sink refused, so the announcement is made either way.
    await Promise.all(claimed.map((kind) => deps.ledger.announced(kind, key)));
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
