import { errorText, PrCreatorError } from "../domain/errors.js";
import { AGENT_NAME, type LifecycleEvent, type PullRequestRollbackCreated } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import type { MergeOutcome } from "../domain/run-result.js";
import { emitAll } from "../events/sinks.js";
import type { Forge, PullRequestStatus, RemotePullRequest } from "../forges/forge.js";
import type { PrMemory } from "../memory/pr-memory.js";
import type { PrRecord } from "../memory/store.js";
import { issueIdInBody } from "../policy/issue-refs.js";
import { tidyBlankLines, wrapMarkdown, inertText } from "../render/markdown.js";
import { composeTitle, parseTitle } from "../render/title.js";
import { validateBody } from "../validate/body.js";
import { validateTitle } from "../validate/title.js";
import { followPullRequest } from "./follow.js";
import type { Ledger } from "./ledger.js";
import { trackFollow } from "./track.js";

export interface RollbackRequest {
  /** The merged PR: by id (with its repo) or by trace (looked up in memory). */
  pr_id?: number;
  repo?: string;
  trace_id?: string;
  reason: string;
}

export interface RollbackDeps {
  forge: Forge;
  policy: Policy;
  memory: PrMemory | null;
  ledger: Ledger;
  emit: (event: LifecycleEvent) => Promise<void>;
  now: () => Date;
  /** Follow the revert PR until it merges (or a check fails, or time runs out). */
  watch: boolean;
}

export interface RollbackResult {
  status: "created" | "merged" | "failed";
  message: string;
  original: { id: number; url: string; title: string; repo: string; trace_id: string };
  revert: RemotePullRequest | null;
  merge: MergeOutcome | null;
  events: LifecycleEvent[];
  warnings: string[];
}

/** The PR to roll back: named directly, or the trace's latest merged-capable PR in memory. */
async function locate(
  deps: RollbackDeps,
  req: RollbackRequest,
): Promise<{ repo: string; id: number; record: PrRecord | null }> {
  if (req.pr_id !== undefined) {
    if (!req.repo)
      throw new PrCreatorError("invalid_request", "Rolling back by PR id needs the repository.", {
        hint: "Pass --repo NAME with --pr ID.",
      });
    return { repo: req.repo, id: req.pr_id, record: null };
  }
  if (!req.trace_id)
    throw new PrCreatorError("invalid_request", "Say which PR to roll back.", {
      hint: "Pass --pr ID (with --repo) or --trace ID.",
    });
  if (!deps.memory)
    throw new PrCreatorError("invalid_config", "Rolling back by trace needs memory, and memory is off.", {
      hint: "Use --pr ID --repo NAME, or turn memory on.",
    });
  const chain = await deps.memory.chain(req.trace_id);
  const record = [...chain]
    .reverse()
    .find((r) => r.pr_id !== null && r.forge === deps.forge.kind && (!req.repo || r.repo === req.repo));
  if (!record) {
    throw new PrCreatorError("missing_trace", `Memory has no ${deps.forge.kind} PR for trace ${req.trace_id}.`, {
      hint: "Check the trace id with `pr-creator trace`, or roll back with --pr ID --repo NAME.",
    });
  }
  return { repo: record.repo, id: Number(record.pr_id), record };
}

function scopeOf(original: PullRequestStatus, record: PrRecord | null): string {
  return record?.component_scope ?? parseTitle(original.title)?.scope ?? "infrastructure";
}

function traceOf(original: PullRequestStatus, record: PrRecord | null, req: RollbackRequest, policy: Policy): string {
  if (req.trace_id) return req.trace_id;
  if (record) return record.trace_id;
  const tag = parseTitle(original.title)?.traceTag;
  if (!tag)
    throw new PrCreatorError(
      "missing_trace",
      `PR ${original.id} has no [trace:…] tag in its title, so its rollback cannot be traced.`,
      { hint: "Pass --trace ID as well." },
    );
  return tag.startsWith(policy.title.trace_id_prefix) ? tag : `${policy.title.trace_id_prefix}${tag}`;
}

/** Title and body of the revert PR, checked by the same title and body rules as every PR. */
export function renderRollback(
  original: PullRequestStatus,
  traceId: string,
  scope: string,
  reason: string,
  decision: string,
  policy: Policy,
): { title: string; description: string } {
  const title = composeTitle("revert", scope, `roll back PR ${original.id}`, traceId, policy);
  const body = [
    "## Summary",
    "",
    `Rolls back PR ${original.id} (${original.url}), "${inertText(original.title)}", restoring ${original.target_branch} to its state before that merge.`,
    "",
    `Reason: ${inertText(reason)}`,
    "",
    "## Risk",
    "",
    `Risk level: **low**. A revert restores a state that ran before. ${decision}`,
    "",
    "## Related Trace",
    "",
    `- Trace ID: ${traceId}`,
    `- Component Scope: ${scope}`,
    `- Original PR: ${original.url}`,
    ...(original.merge_commit ? [`- Reverted merge commit: \`${original.merge_commit.slice(0, 12)}\``] : []),
    "",
    "## Changed Files",
    "",
    `Every file PR ${original.id} changed, back to its content before the merge.`,
    "",
    "## Review Checklist",
    "",
    `- [x] PR ${original.id} is merged into ${original.target_branch}`,
    "- [x] The revert targets the same branch",
    `- [x] Reason recorded`,
  ].join("\n");
  const description = tidyBlankLines(wrapMarkdown(body, policy.body.max_line_length));
  const violations = [
    ...validateTitle(title, { componentScope: scope, traceId, policy }),
    ...validateBody(description, { traceId, componentScope: scope, policy }),
  ];
  if (violations.length > 0) {
    throw new PrCreatorError(
      "validation_failed",
      `The rollback PR breaks the content rules: ${violations.map((v) => v.message).join("; ")}.`,
      { violations },
    );
  }
  return { title, description };
}

/**
 * Opens a PR that reverts a merged PR (Azure reverts API, GitHub revertPullRequest), links it to the
 * original, lets it auto-merge under policy, remembers it, records the rollback and emits
 * `PullRequestRollbackCreated`.
 */
export async function rollback(deps: RollbackDeps, req: RollbackRequest): Promise<RollbackResult> {
  const { forge, policy, ledger } = deps;
  const where = await locate(deps, req);
  const original = await forge.getPullRequest(where.repo, where.id);
  const traceId = traceOf(original, where.record, req, policy);
  const summary = { id: original.id, url: original.url, title: original.title, repo: where.repo, trace_id: traceId };
  const ledgerEntry = (result: "created" | "merged" | "failed", revertId: number | null, reason: string | null) =>
    ledger.append({
      kind: "rollback",
      at: deps.now(),
      repo: where.repo,
      trace_id: traceId,
      pr_id: String(original.id),
      revert_pr_id: revertId === null ? null : String(revertId),
      result,
      reason,
    });
  if (original.state !== "merged") {
    ledger.metrics.rollback("failed");
    await ledgerEntry("failed", null, `PR ${original.id} is ${original.state}`);
    throw new PrCreatorError(
      "invalid_request",
      `PR ${original.id} is ${original.state}, not merged; there is nothing to roll back.`,
      {
        hint: original.state === "open" ? "Close or abandon the open PR instead." : "Check the PR id.",
      },
    );
  }
  const auto = policy.rollback.auto_merge && policy.merge.auto_merge_levels.includes("low");
  const decision = auto
    ? "It merges itself once every CI check passes."
    : "It needs an approving review before a person merges it.";
  const scope = scopeOf(original, where.record);
  const { title, description } = renderRollback(original, traceId, scope, req.reason, decision, policy);

  let revert: RemotePullRequest;
  try {
    revert = await forge.revertPullRequest(where.repo, {
      pr_id: original.id,
      branch: `${policy.rollback.branch_prefix}${original.id}`,
      title,
      description,
    });
  } catch (error) {
    ledger.metrics.rollback("failed");
    await ledgerEntry("failed", null, errorText(error));
    throw error;
  }
  ledger.metrics.rollback("created");
  const warnings: string[] = [];
  const labels = [...new Set([...policy.labels.always, ...policy.rollback.labels])];
  if (labels.length > 0) {
    await forge
      .addLabels(where.repo, revert.id, labels)
      .catch((error: unknown) => warnings.push(`Labels could not be added to PR ${revert.id}: ${errorText(error)}`));
  }
  const events: LifecycleEvent[] = [];
  const created: PullRequestRollbackCreated = {
    event: "PullRequestRollbackCreated",
    pr_id: revert.id,
    original_pr_id: original.id,
    repo: where.repo,
    branch: revert.source_branch,
    trace_id: traceId,
    issue_id: issueIdInBody(original.description),
    reason: req.reason,
    created_by: AGENT_NAME,
    timestamp: deps.now().toISOString(),
  };
  events.push(created);
  const lost = await emitAll(deps.emit, [created]);
  warnings.push(...lost);

  if (deps.memory) {
    const now = deps.now().toISOString();
    const head = await forge.getPullRequest(where.repo, revert.id).then(
      (p) => p.head_sha,
      () => "",
    );
    await deps.memory
      .remember({
        repo: where.repo,
        pr_id: String(revert.id),
        url: revert.url,
        forge: forge.kind,
        status: "created",
        trace_id: traceId,
        blueprint_id: where.record?.blueprint_id ?? "rollback",
        component_scope: scope,
        commit_hash: head || (original.merge_commit ?? ""),
        source_branch: revert.source_branch,
        target_branch: revert.target_branch,
        title,
        text: `Roll back PR ${original.id}: ${req.reason}`,
        created_at: now,
        updated_at: now,
      })
      .catch((error: unknown) => warnings.push(`The rollback PR could not be remembered: ${errorText(error)}`));
  }

  const base: MergeOutcome = {
    requires: auto ? "none" : "review",
    status: "not_requested",
    message: decision,
    failed_checks: [],
    checks: [],
    merge_commit: null,
    ci_ms: null,
    merge_ms: null,
  };
  let merge: MergeOutcome = base;
  let status: RollbackResult["status"] = "created";
  if (auto) {
    try {
      const done = await forge.enableAutoMerge(where.repo, revert.id, {
        method: policy.merge.method,
        delete_source_branch: policy.merge.delete_source_branch,
        commit_title: title,
        commit_message: `Rollback of PR ${original.id}: ${req.reason}`,
      });
      if (done === "enabled") ledger.metrics.autoMerge(done);
      merge = {
        ...base,
        status: done,
        message: "Auto-merge is on: the forge merges the revert once every check passes.",
      };
      // A merge that already happened is recorded and announced like a watched one.
      if (deps.watch || done === "merged") {
        const followed = await followPullRequest(forge, where.repo, revert.id, {
          poll_ms: policy.merge.poll_interval_ms,
          timeout_ms: policy.merge.watch_timeout_ms,
        });
        const tracked = await trackFollow(
          { ledger, emit: deps.emit, now: deps.now },
          {
            repo: where.repo,
            trace_id: traceId,
            pr_id: revert.id,
            branch: revert.source_branch,
            issue_id: issueIdInBody(original.description),
            risk: "low",
            auto: true,
          },
          followed,
        );
        events.push(...tracked.events);
        warnings.push(...tracked.warnings);
        merge = {
          ...merge,
          status: followed.outcome === "merged" ? "merged" : followed.outcome === "blocked" ? "blocked" : "pending",
          failed_checks: followed.failed_checks,
          checks: followed.checks.checks,
          merge_commit: followed.pr.merge_commit,
          ci_ms: followed.ci_ms,
          merge_ms: followed.merge_ms,
          message:
            followed.outcome === "merged"
              ? "Merged after every check passed."
              : followed.outcome === "blocked"
                ? `Blocked: ${followed.failed_checks.join(", ")} failed.`
                : "Still waiting for checks.",
        };
        if (followed.outcome === "merged") status = "merged";
      }
    } catch (error) {
      ledger.metrics.autoMerge("failed");
      merge = {
        ...base,
        status: "failed",
        message: `Auto-merge could not be set: ${error instanceof PrCreatorError ? error.paragraph : String(error)}`,
      };
      warnings.push(merge.message);
    }
  }
  if (status === "merged") ledger.metrics.rollback("merged");
  const warning = await ledgerEntry(status, revert.id, req.reason);
  if (warning) warnings.push(warning);
  const message =
    status === "merged"
      ? `PR ${revert.id} rolled back PR ${original.id} and is merged.`
      : `PR ${revert.id} rolls back PR ${original.id}. ${merge.message}`;
  return { status, message, original: summary, revert, merge, events, warnings };
}
