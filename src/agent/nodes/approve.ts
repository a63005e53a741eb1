import { interrupt } from "@langchain/langgraph";
import type { AgentDeps } from "../deps.js";
import type { ApprovalDecision, ApprovalRequest } from "../../domain/run-result.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Pauses for a person when policy lets them wave a failure through. Runs again from the top on resume, so it
 * has no side effect before `interrupt()`. Approval clears the failure (a branch override takes the event's
 * own target); rejection keeps it, with the person's reason, for the `fail` node.
 */
export function makeApprove(deps: AgentDeps) {
  return async function approve(state: AgentStateType): Promise<AgentUpdate> {
    const failure = state.failure!;
    const request: ApprovalRequest = {
      failure_reason: failure.reason,
      message: failure.message,
      violations: state.violations.map(({ code, message }) => ({ code, message })),
      question: `Create the pull request despite ${failure.reason}?`,
    };
    const decision = interrupt<ApprovalRequest, ApprovalDecision>(request);
    const record = { ...decision, failure_reason: failure.reason, at: deps.now().toISOString() };
    if (!decision.approved) {
      const who = decision.by ? ` by ${decision.by}` : "";
      const why = decision.reason ? `: ${decision.reason}` : "";
      return {
        approvals: [record],
        failure: { ...failure, message: `${failure.message} A person rejected the request${who}${why}.` },
      };
    }
    const needsTarget = state.target_branch === null || failure.reason === "target_mismatch";
    if (needsTarget && !state.event?.target_branch) {
      return {
        approvals: [record],
        failure: {
          ...failure,
          message: `${failure.message} It was approved, but the policy gives no target branch; send target_branch in the event.`,
        },
      };
    }
    return {
      approvals: [record],
      failure: null,
      violations: [],
      ...(needsTarget ? { target_branch: state.event!.target_branch! } : {}),
    };
  };
}
