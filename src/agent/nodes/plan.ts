import { planPullRequest } from "../../policy/plan.js";
import type { AgentDeps } from "../deps.js";
import { factsOf } from "../facts.js";
import { issueOf } from "../issue.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/**
 * Decides everything about the PR that is not prose — type, breaking change, risk, reviewers, labels,
 * checklist, draft state and merge plan — once, from the facts read so far. The drafter is told the type,
 * the renderer renders the plan, and the gate holds the prose to it.
 */
export function makePlan(deps: AgentDeps) {
  return async function plan(state: AgentStateType): Promise<AgentUpdate> {
    const issue = issueOf(state, deps);
    const facts = { ...factsOf(state), issue };
    const plan = planPullRequest(facts, deps.policy);
    // Resolving reviewers' identities can overlap with drafting; publish picks the result up.
    deps.publisher.prefetch?.(
      facts.repo,
      { source_branch: facts.source_branch, target_branch: facts.target_branch },
      plan.reviewers,
    );
    return { plan, issue };
  };
}
