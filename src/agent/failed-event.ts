import { AGENT_NAME, type PullRequestFailed } from "../domain/events.js";
import { canonicalIssueId } from "../policy/issue-refs.js";
import type { Failure } from "./state.js";

const canonicalId = (id: string | null) => (id === null ? null : canonicalIssueId(id));

function field(input: unknown, key: string): string | null {
  if (typeof input !== "object" || input === null) return null;
  const value = (input as Record<string, unknown>)[key];
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

/** A `PullRequestFailed` event; its fields come from whatever of the event was readable. */
export function buildFailedEvent(
  source: unknown,
  failure: Failure,
  violations: readonly { code: string; message: string }[],
  now: Date,
  issueId: string | null = canonicalId(field(source, "issue_id")),
): PullRequestFailed {
  const branch = field(source, "branch");
  return {
    event: "PullRequestFailed",
    reason: failure.reason,
    message: failure.message,
    trace_id: field(source, "trace_id"),
    repo: field(source, "repo"),
    branch,
    attempted_branch: branch,
    commit_hash: field(source, "commit_hash"),
    attempts: failure.attempts,
    violations: violations.map(({ code, message }) => ({ code, message })),
    issue_id: issueId,
    created_by: AGENT_NAME,
    timestamp: now.toISOString(),
  };
}
