import { createAgent, type Agent } from "../agent/create-agent.js";
import { PrCreatorError } from "../domain/errors.js";
import { quoteValue } from "../domain/input-names.js";
import { isRejection } from "../domain/reasons.js";
import { followPullRequest, statusLine, type FollowResult } from "../merge/follow.js";
import { rollback, type RollbackResult } from "../merge/rollback.js";
import { trackFollow } from "../merge/track.js";
import { issueIdInBody } from "../policy/issue-refs.js";
import { parseTitle } from "../render/title.js";
import { EXIT } from "./exit-codes.js";
import { checkRepoName } from "./options.js";
import type { Io } from "./run-command.js";

export interface WatchOptions {
  repo: string;
  config?: string;
  events?: string;
  /** Seconds; default merge.watch_timeout_ms. */
  timeout?: string;
  /** Seconds; default merge.poll_interval_ms. */
  interval?: string;
  json?: boolean;
}

function seconds(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0)
    throw new PrCreatorError(
      "invalid_request",
      `${flag} must be a positive number of seconds, not ${quoteValue(text)}.`,
    );
  return Math.round(n * 1000);
}

function prNumber(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0)
    throw new PrCreatorError("invalid_request", `The PR id must be a positive whole number, not ${quoteValue(text)}.`);
  return n;
}

async function withForgeAgent<T>(
  opts: { config?: string; events?: string; watch?: boolean; repo?: string },
  io: Io,
  work: (agent: Agent & { forge: NonNullable<Agent["forge"]> }) => Promise<T>,
): Promise<T> {
  const agent = await createAgent({
    configFile: opts.config,
    eventsFile: opts.events,
    cwd: io.cwd,
    watch: opts.watch ?? false,
    model: null,
  });
  try {
    if (!agent.forge) {
      throw new PrCreatorError("invalid_config", "No forge is configured, so there is no PR to follow or roll back.", {
        hint: "Set forge: azure-devops or github in the config (or PR_CREATOR_FORGE) and the forge's environment variables.",
      });
    }
    if (opts.repo !== undefined) checkRepoName(opts.repo, "--repo", agent.forge.kind);
    return await work(agent as Agent & { forge: NonNullable<Agent["forge"]> });
  } finally {
    await agent.close();
  }
}

/** The risk the PR's own body states (the agent writes it there), for the merge history. */
function riskIn(description: string): "low" | "medium" | "high" | null {
  const m = /Risk level: \*\*(low|medium|high)\*\*/.exec(description);
  return m ? (m[1] as "low" | "medium" | "high") : null;
}

/** Whether the agent set the PR to merge itself: its body says so (GitHub clears auto_merge once merged). */
function autoIn(description: string): boolean {
  return /Risk level: \*\*\w+\*\*\. [^\n]*merges itself/.test(description.replace(/\n(?!\n)/g, " "));
}

const WATCH_EXIT: Record<FollowResult["outcome"], number> = {
  merged: EXIT.ok,
  blocked: EXIT.failed,
  closed: EXIT.failed,
  timeout: EXIT.awaitingApproval,
};

/** `pr-creator watch <pr>`: follows checks and merge to the end with a live status line; records CI and merge times. */
export async function watchCommand(id: string, opts: WatchOptions, io: Io & { live: boolean }): Promise<number> {
  const prId = prNumber(id);
  checkRepoName(opts.repo, "--repo");
  const timeout = seconds(opts.timeout, "--timeout");
  const interval = seconds(opts.interval, "--interval");
  return withForgeAgent(opts, io, async (agent) => {
    let last = "";
    const followed = await followPullRequest(agent.forge, opts.repo, prId, {
      poll_ms: interval ?? agent.policy.merge.poll_interval_ms,
      timeout_ms: timeout ?? agent.policy.merge.watch_timeout_ms,
      onUpdate: (snapshot) => {
        if (opts.json) return;
        const line = statusLine(snapshot);
        if (io.live) io.stderr(`\r\x1b[2K${line}`);
        else if (line.replace(/\(\d+ s\)$/, "") !== last.replace(/\(\d+ s\)$/, "")) io.stderr(`${line}\n`);
        last = line;
      },
    });
    if (io.live && !opts.json) io.stderr("\n");
    const tag = parseTitle(followed.pr.title)?.traceTag;
    const traceId = tag
      ? tag.startsWith(agent.policy.title.trace_id_prefix)
        ? tag
        : `${agent.policy.title.trace_id_prefix}${tag}`
      : `pr-${prId}`;
    const tracked = await trackFollow(
      { ledger: agent.ledger, emit: agent.emit, now: () => new Date() },
      {
        repo: opts.repo,
        trace_id: traceId,
        pr_id: prId,
        branch: followed.pr.source_branch,
        issue_id: issueIdInBody(followed.pr.description),
        risk: riskIn(followed.pr.description),
        auto: followed.pr.auto_merge || autoIn(followed.pr.description),
      },
      followed,
    );
    for (const w of tracked.warnings) io.stderr(`warning: ${w}\n`);
    const summary = {
      outcome: followed.outcome,
      pr: {
        id: followed.pr.id,
        url: followed.pr.url,
        state: followed.pr.state,
        merge_commit: followed.pr.merge_commit,
        auto_merge: followed.pr.auto_merge,
      },
      checks: followed.checks,
      failed_checks: followed.failed_checks,
      ci_ms: followed.ci_ms,
      merge_ms: followed.merge_ms,
      events: tracked.events,
    };
    if (opts.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
    else io.stdout(`${watchVerdict(followed)}\n`);
    return WATCH_EXIT[followed.outcome];
  });
}

function watchVerdict(f: FollowResult): string {
  const ci = f.ci_ms === null ? "" : `; CI took ${(f.ci_ms / 1000).toFixed(1)} s`;
  switch (f.outcome) {
    case "merged":
      return `✔ PR ${f.pr.id} merged${f.pr.merge_commit ? ` as ${f.pr.merge_commit.slice(0, 12)}` : ""}${ci}${f.merge_ms !== null ? `, merge ${(f.merge_ms / 1000).toFixed(1)} s after CI` : ""}.`;
    case "blocked":
      return `✖ PR ${f.pr.id} cannot merge: ${f.failed_checks.join(", ") || "a check"} failed${ci}. Fix the change and push again.`;
    case "closed":
      return `✖ PR ${f.pr.id} was closed without merging.`;
    case "timeout":
      return `⏸ PR ${f.pr.id} is still open after ${Math.round(f.elapsed_ms / 1000)} s (${f.pr.auto_merge ? "auto-merge on" : "waiting for a person"}).`;
  }
}

export interface RollbackOptions {
  pr?: string;
  repo?: string;
  trace?: string;
  reason?: string;
  watch?: boolean;
  config?: string;
  events?: string;
  json?: boolean;
}

/** `pr-creator rollback`: a revert PR for a merged PR, auto-merging under policy. */
export async function rollbackCommand(opts: RollbackOptions, io: Io): Promise<number> {
  if (opts.pr === undefined && opts.trace === undefined) {
    throw new PrCreatorError(
      "invalid_request",
      "pr-creator rollback needs the merged PR to revert, and neither --pr nor --trace names one.",
      {
        hint: 'Name it by id with its repository (pr-creator rollback --pr 42 --repo OrderService), or by trace to revert the trace\'s latest PR from memory (pr-creator rollback --trace trace-pvc-size-BVL-232 --reason "disk pressure persists").',
      },
    );
  }
  if (opts.pr !== undefined && opts.trace !== undefined) {
    throw new PrCreatorError(
      "invalid_request",
      `pr-creator rollback reverts one PR, but both --pr ${JSON.stringify(opts.pr)} and --trace ${JSON.stringify(opts.trace)} name one.`,
      {
        hint: "Keep one of them: --pr ID with --repo NAME for a PR you know, or --trace ID for the trace's latest PR.",
      },
    );
  }
  if (opts.repo !== undefined) checkRepoName(opts.repo, "--repo");
  const request = {
    ...(opts.pr !== undefined ? { pr_id: prNumber(opts.pr) } : {}),
    ...(opts.repo ? { repo: opts.repo } : {}),
    ...(opts.trace ? { trace_id: opts.trace } : {}),
    reason: opts.reason?.trim() || "rolled back on request",
  };
  let result: RollbackResult;
  try {
    result = await withForgeAgent({ ...opts, watch: opts.watch ?? false }, io, (agent) =>
      rollback(
        {
          forge: agent.forge,
          policy: agent.policy,
          memory: agent.memory,
          ledger: agent.ledger,
          emit: agent.emit,
          now: () => new Date(),
          watch: opts.watch ?? false,
        },
        request,
      ),
    );
  } catch (error) {
    if (!(error instanceof PrCreatorError)) throw error;
    if (opts.json)
      io.stdout(`${JSON.stringify({ status: "failed", reason: error.reason, message: error.paragraph }, null, 2)}\n`);
    else io.stderr(`✖ Rollback failed: ${error.reason}\n\n${error.paragraph}\n`);
    // Asking to roll back something that cannot be (not merged, unknown) is the caller's mistake, like bad input.
    return isRejection(error.reason) || error.reason === "invalid_request" ? EXIT.rejected : EXIT.failed;
  }
  if (opts.json) io.stdout(`${JSON.stringify(result, null, 2)}\n`);
  else
    io.stdout(
      `✔ ${result.message}${result.revert ? `\n  Revert PR  ${result.revert.url}` : ""}\n  Original   ${result.original.url}\n`,
    );
  for (const w of result.warnings) io.stderr(`warning: ${w}\n`);
  return result.merge?.status === "blocked" ? EXIT.failed : EXIT.ok;
}
