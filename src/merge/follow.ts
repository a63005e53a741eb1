import { setTimeout as sleep } from "node:timers/promises";
import type { ChecksReport, Forge, PullRequestStatus } from "../forges/forge.js";

export interface FollowSnapshot {
  pr: PullRequestStatus;
  checks: ChecksReport;
  elapsed_ms: number;
}

export interface FollowResult extends FollowSnapshot {
  /** merged / closed: the PR's life ended; blocked: a check failed; timeout: still open when time ran out. */
  outcome: "merged" | "closed" | "blocked" | "timeout";
  failed_checks: string[];
  /** Observed from the start of following: until every check settled, and from then until the merge. */
  ci_ms: number | null;
  merge_ms: number | null;
}

export interface FollowOptions {
  poll_ms: number;
  timeout_ms: number;
  /** Keep following after a check fails (a person may re-run it); by default a failed check ends the watch. */
  through_failures?: boolean;
  onUpdate?: (snapshot: FollowSnapshot) => void;
  clock?: () => number;
  wait?: (ms: number) => Promise<unknown>;
}

/** Polls a PR's checks and state until it merges, closes, a check fails, or time runs out. */
export async function followPullRequest(
  forge: Forge,
  repo: string,
  id: number,
  opts: FollowOptions,
): Promise<FollowResult> {
  const clock = opts.clock ?? (() => performance.now());
  const wait = opts.wait ?? ((ms: number) => sleep(ms));
  const start = clock();
  let ciAt: number | null = null;
  for (;;) {
    const [pr, checks] = await Promise.all([forge.getPullRequest(repo, id), forge.getChecks(repo, id)]);
    const elapsed = Math.round(clock() - start);
    const snapshot = { pr, checks, elapsed_ms: elapsed };
    opts.onUpdate?.(snapshot);
    const settled =
      checks.state === "succeeded" || checks.state === "failed" || (pr.state === "merged" && checks.state === "none");
    if (settled && ciAt === null) ciAt = elapsed;
    const failed = checks.checks.filter((c) => c.state === "failed").map((c) => c.name);
    const done = (outcome: FollowResult["outcome"]): FollowResult => ({
      ...snapshot,
      outcome,
      failed_checks: failed,
      ci_ms: ciAt,
      merge_ms: outcome === "merged" && ciAt !== null ? elapsed - ciAt : null,
    });
    if (pr.state === "merged") return done("merged");
    if (pr.state === "closed") return done("closed");
    if (checks.state === "failed" && !opts.through_failures) return done("blocked");
    if (elapsed >= opts.timeout_ms) return done("timeout");
    await wait(Math.min(opts.poll_ms, Math.max(0, opts.timeout_ms - elapsed)));
  }
}

/** One line for people: where the PR stands now. */
export function statusLine(s: FollowSnapshot): string {
  const counts = { pending: 0, succeeded: 0, failed: 0 };
  for (const c of s.checks.checks) counts[c.state] += 1;
  const checks =
    s.checks.checks.length === 0
      ? "no checks"
      : `checks ${counts.succeeded} passed, ${counts.failed} failed, ${counts.pending} running`;
  const merge = s.pr.state === "open" ? (s.pr.auto_merge ? "auto-merge on" : "waiting for a merge") : s.pr.state;
  const blocked = s.pr.blocked_reason ? ` — ${s.pr.blocked_reason}` : "";
  return `PR ${s.pr.id} ${merge}; ${checks}${blocked} (${Math.round(s.elapsed_ms / 1000)} s)`;
}
