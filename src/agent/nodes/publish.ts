import { createPublishPullRequestTool } from "../../tools/publish-pull-request.js";
import type { AgentDeps } from "../deps.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** Hands the gated PR to the publishing tool (a preview with the dry-run publisher). */
export function makePublish(deps: AgentDeps) {
  const publish = createPublishPullRequestTool(deps.publisher);
  return async function publishNode(state: AgentStateType): Promise<AgentUpdate> {
    const published = await publish.invoke({ repo: state.event!.repo, trace_id: state.event!.trace_id, pr: state.pr! });
    return { published, warnings: published.warnings ?? [] };
  };
}
