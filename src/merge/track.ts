import { AGENT_NAME, type LifecycleEvent } from "../domain/events.js";
import type { RiskAssessment } from "../domain/pull-request.js";
import { emitAll } from "../events/sinks.js";
import type { FollowResult } from "./follow.js";
import type { Ledger } from "./ledger.js";

export interface TrackedPr {
  repo: string;
  trace_id: string;
  pr_id: number;
  branch: string;
  issue_id: string | null;
  risk: RiskAssessment["level"] | null;
  /** The agent asked the forge to merge it (auto-merge), rather than waiting for a person. */
  auto: boolean;
}

export interface Tracked {
  events: LifecycleEvent[];
  warnings: string[];
  undelivered: number;
}

/**
 * Records what following a PR showed: the CI time and result, the merge (or why it is blocked) — as history
 * entries for `report`, metrics for `/metrics`, and lifecycle events for the agents that react to merges.
 */
export async function trackFollow(
  deps: { ledger: Ledger; emit: (event: LifecycleEvent) => Promise<void>; now: () => Date },
  pr: TrackedPr,
  result: FollowResult,
): Promise<Tracked> {
  const at = deps.now();
  const common = { at, repo: pr.repo, trace_id: pr.trace_id, pr_id: String(pr.pr_id) };
  const writes: Promise<string | null>[] = [];
  const { metrics } = deps.ledger;
  // Several watchers may see the same PR merge (the run, then `watch`): the first one records and announces it.
  const mergeKnown = await deps.ledger.settled("merge", pr.repo, String(pr.pr_id));
  if (
    !mergeKnown &&
    result.ci_ms !== null &&
    (result.checks.state === "succeeded" || result.checks.state === "failed")
  ) {
    metrics.ciValidated(result.ci_ms / 1000);
    writes.push(
      deps.ledger.append({
        kind: "ci",
        ...common,
        result: result.checks.state,
        duration_ms: result.ci_ms,
        failed_checks: result.failed_checks,
      }),
    );
  }
  const events: LifecycleEvent[] = [];
  const base = {
    pr_id: pr.pr_id,
    repo: pr.repo,
    branch: pr.branch,
    trace_id: pr.trace_id,
    issue_id: pr.issue_id,
    created_by: AGENT_NAME,
    timestamp: at.toISOString(),
  } as const;
  if (result.outcome === "merged" && !mergeKnown) {
    if (result.merge_ms !== null) metrics.merged(result.merge_ms / 1000);
    if (pr.auto) metrics.autoMerge("merged");
    if (pr.risk)
      writes.push(
        deps.ledger.append({
          kind: "merge",
          ...common,
          risk: pr.risk,
          auto: pr.auto,
          result: "merged",
          after_ci_ms: result.merge_ms,
          reason: null,
        }),
      );
    events.push({
      event: "PullRequestMerged",
      ...base,
      merge_commit: result.pr.merge_commit,
      auto_merged: pr.auto,
      risk: pr.risk,
    });
  } else if (result.outcome === "blocked") {
    const message = `Auto-merge is blocked: ${result.failed_checks.length > 0 ? `check${result.failed_checks.length > 1 ? "s" : ""} ${result.failed_checks.join(", ")} failed` : "the forge refused the merge"}${result.pr.blocked_reason ? ` (${result.pr.blocked_reason})` : ""}. Fix the change and push again, or merge by hand after review.`;
    if (pr.auto) metrics.autoMerge("blocked");
    if (pr.risk)
      writes.push(
        deps.ledger.append({
          kind: "merge",
          ...common,
          risk: pr.risk,
          auto: pr.auto,
          result: "blocked",
          after_ci_ms: null,
          reason: message,
        }),
      );
    events.push({ event: "PullRequestMergeBlocked", ...base, failed_checks: result.failed_checks, message });
  }
  const warnings = (await Promise.all(writes)).filter((w): w is string => w !== null);
  const lost = await emitAll(deps.emit, events);
  return { events, warnings: [...warnings, ...lost], undelivered: lost.length };
}
