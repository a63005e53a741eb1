import { changeBranch } from "../../changes/apply-edits.js";
import { ChangeRequestedSchema, CommitCompletedSchema } from "../../domain/events.js";
import { parseExplained } from "../../domain/errors.js";
import { repoNameProblem } from "../../domain/input-names.js";
import type { FailureReason } from "../../domain/reasons.js";
import type { Violation } from "../../domain/violations.js";
import { checkBranches, forbiddenBy, invalidRefNameReason } from "../../policy/branches.js";
import type { AgentDeps } from "../deps.js";
import { failure } from "../failure.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

function branchReason(violations: readonly Violation[]): FailureReason {
  if (violations.some((v) => v.code === "branch_forbidden" || v.code === "target_forbidden")) return "forbidden_branch";
  if (violations.some((v) => v.where === "branch")) return "branch_policy_violation";
  return "target_mismatch";
}

/**
 * The forge's own rule for the event's repository name, before anything is sent to it. Without a forge
 * (a dry run) the schema's forge-neutral rule is all there is.
 */
function repoFailure(deps: AgentDeps, repo: string, what: string): AgentUpdate["failure"] | null {
  const problem = deps.forge ? repoNameProblem(repo, deps.forge.kind) : null;
  if (!problem) return null;
  const message = `${what} is invalid: repo: ${problem}.`;
  return failure("invalid_event", message);
}

/** Parses the event and applies the branch policy: both pure, so bad input fails before any I/O. */
export function makeIntake(deps: AgentDeps) {
  return async function intake(state: AgentStateType): Promise<AgentUpdate> {
    return { started_at: deps.now().getTime(), ...parse(deps, state.input) };
  };
}

function parse(deps: AgentDeps, input: unknown): AgentUpdate {
  const name =
    typeof input === "object" && input !== null && "event" in input ? (input as { event: unknown }).event : undefined;
  if (name === "ChangeRequested") return intakeChange(deps, input);
  if (name !== undefined && name !== "CommitCompleted") {
    const message = `The event's name is ${JSON.stringify(name)}; this agent handles "CommitCompleted" and "ChangeRequested" events.`;
    return { failure: failure("invalid_event", message) };
  }
  const parsed = parseExplained(CommitCompletedSchema, input);
  if (!parsed.success) {
    const message = `The event is invalid: ${parsed.issues.join("; ")}.`;
    return { failure: failure("invalid_event", message) };
  }
  const event = parsed.data;
  const badRepo = repoFailure(deps, event.repo, "The event");
  if (badRepo) return { event, failure: badRepo };
  const branches = checkBranches(event.branch, event.target_branch, deps.policy);
  if (branches.violations.length > 0) {
    const reason = branchReason(branches.violations);
    const message = `Branch policy rejects the event: ${branches.violations.map((v) => v.message).join("; ")}.`;
    return {
      event,
      violations: branches.violations,
      failure: failure(reason, message),
    };
  }
  return { event, target_branch: branches.target };
}

/** A change request names its own branch (agent-sre/<type>-<id>) and target; only the forbidden list and git's naming rules apply. */
function intakeChange(deps: AgentDeps, input: unknown): AgentUpdate {
  const parsed = parseExplained(ChangeRequestedSchema, input);
  if (!parsed.success) {
    const message = `The change request is invalid: ${parsed.issues.join("; ")}.`;
    return { failure: failure("invalid_event", message) };
  }
  const cr = parsed.data;
  const branch = changeBranch(cr, deps.policy);
  const badRepo = repoFailure(deps, cr.repo, "The change request");
  if (badRepo) return { change_request: cr, change_branch: branch, failure: badRepo };
  const violations: Violation[] = [];
  const badName = invalidRefNameReason(branch) ?? invalidRefNameReason(cr.base_branch);
  if (badName)
    violations.push({
      code: "branch_invalid_name",
      where: "branch",
      message: `branch "${branch}" or base "${cr.base_branch}" is not a valid git branch name: ${badName}`,
    });
  const banned = forbiddenBy(cr.base_branch, deps.policy.branch_rules.forbidden);
  if (banned)
    violations.push({
      code: "target_forbidden",
      where: "target",
      message: `base branch "${cr.base_branch}" is forbidden by branch_rules.forbidden entry "${banned}"`,
    });
  if (violations.length > 0) {
    const reason = banned ? "forbidden_branch" : "branch_policy_violation";
    const message = `Branch policy rejects the change request: ${violations.map((v) => v.message).join("; ")}.`;
    return {
      change_request: cr,
      change_branch: branch,
      violations,
      failure: failure(reason, message),
    };
  }
  return { change_request: cr, change_branch: branch, target_branch: cr.base_branch };
}
