import { AGENT_NAME, type PullRequestFailed } from "../domain/events.js";
import type { Failure } from "./state.js";

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
    created_by: AGENT_NAME,
    timestamp: now.toISOString(),
  };
}
