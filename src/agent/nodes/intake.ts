import { CommitCompletedSchema } from "../../domain/events.js";
import { parseExplained } from "../../domain/errors.js";
import type { FailureReason } from "../../domain/reasons.js";
import type { Violation } from "../../domain/violations.js";
import { checkBranches } from "../../policy/branches.js";
import type { AgentDeps } from "../deps.js";
import { withHint } from "../hints.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

function branchReason(violations: readonly Violation[]): FailureReason {
  if (violations.some((v) => v.code === "branch_forbidden")) return "forbidden_branch";
  if (violations.some((v) => v.where === "branch")) return "branch_policy_violation";
  return "target_mismatch";
}

/** Parses the event and applies the branch policy: both pure, so bad input fails before any I/O. */
export function makeIntake(deps: AgentDeps) {
  return async function intake(state: AgentStateType): Promise<AgentUpdate> {
    const input = state.input;
    const name = typeof input === "object" && input !== null && "event" in input ? (input as { event: unknown }).event : undefined;
    if (name !== undefined && name !== "CommitCompleted") {
      const message = `The event's name is ${JSON.stringify(name)}; this agent handles "CommitCompleted" events.`;
      return { failure: { reason: "invalid_event", message: withHint("invalid_event", message), attempts: 0 } };
    }
    const parsed = parseExplained(CommitCompletedSchema, input);
    if (!parsed.success) {
      const message = `The event is invalid: ${parsed.issues.join("; ")}.`;
      return { failure: { reason: "invalid_event", message: withHint("invalid_event", message), attempts: 0 } };
    }
    const event = parsed.data;
    const branches = checkBranches(event.branch, event.target_branch, deps.policy);
    if (branches.violations.length > 0) {
      const reason = branchReason(branches.violations);
      const message = `Branch policy rejects the event: ${branches.violations.map((v) => v.message).join("; ")}.`;
      return { event, violations: branches.violations, failure: { reason, message: withHint(reason, message), attempts: 0 } };
    }
    return { event, target_branch: branches.target };
  };
}
