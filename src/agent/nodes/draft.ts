import { draftDeterministically } from "../deterministic-drafter.js";
import type { AgentDeps } from "../deps.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** Writes the PR's prose. Facts (files, trace, reviewers) are not the drafter's business. */
export function makeDraft(deps: AgentDeps) {
  return async function draft(state: AgentStateType): Promise<AgentUpdate> {
    const facts = { repo: state.event!.repo, source_branch: state.event!.branch, target_branch: state.target_branch!, trace: state.trace!, changes: state.changes! };
    return { prose: draftDeterministically(facts, deps.policy), drafted_by: "deterministic" };
  };
}
