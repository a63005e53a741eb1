import type { PrFacts } from "../domain/pull-request.js";
import type { AgentStateType } from "./state.js";

/** The facts every drafting step shares, once gather and check_trace have filled them in. */
export function factsOf(state: AgentStateType): PrFacts {
  return { repo: state.event!.repo, source_branch: state.event!.branch, target_branch: state.target_branch!, trace: state.trace!, changes: state.changes! };
}
