import type { AgentDeps } from "../deps.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** Reads the commit(s) and every changed file from the commit source. */
export function makeGather(deps: AgentDeps) {
  return async function gather(state: AgentStateType): Promise<AgentUpdate> {
    const event = state.event!;
    const changes = await deps.commitSource.load({
      repo: event.repo,
      branch: event.branch,
      commit: event.commit_hash,
      target_branch: state.target_branch!,
      range: deps.policy.pr.commit_range,
    });
    return { changes };
  };
}
