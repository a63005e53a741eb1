import { changeTraceId } from "../../changes/apply-edits.js";
import { recordGeneration } from "../generation-ledger.js";
import { emitAll } from "../../events/sinks.js";
import type { AgentDeps } from "../deps.js";
import { buildFailedEvent } from "../failed-event.js";
import { issueOf } from "../issue.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** The one terminal event of a failed run. */
export function makeFail(deps: AgentDeps) {
  return async function fail(state: AgentStateType): Promise<AgentUpdate> {
    const cr = state.change_request;
    // A change request that failed before its commit still names its trace, repo and branch.
    const source =
      state.event ?? (cr ? { trace_id: changeTraceId(cr), repo: cr.repo, branch: state.change_branch } : state.input);
    const failed = buildFailedEvent(
      source,
      state.failure!,
      state.violations,
      deps.now(),
      issueOf(state, deps).issue_id,
    );
    const [warnings, ledgerWarnings] = await Promise.all([
      emitAll(deps.emit, [failed]),
      recordGeneration(deps, state, "failed", state.failure!.reason),
    ]);
    return { events: [failed], warnings: [...warnings, ...ledgerWarnings], undelivered: warnings.length };
  };
}
