import { createValidateTraceTool } from "../../tools/validate-trace.js";
import type { AgentDeps } from "../deps.js";
import { failure } from "../failure.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** Runs the trace-validation tool: the trace must resolve, match, and cover every changed file. */
export function makeCheckTrace(deps: AgentDeps) {
  const validateTrace = createValidateTraceTool({
    policy: deps.policy,
    registry: deps.traceRegistry,
    registrySource: deps.traceRegistrySource,
  });
  return async function checkTrace(state: AgentStateType): Promise<AgentUpdate> {
    const event = state.event!;
    const changes = state.changes!;
    const result = await validateTrace.invoke({
      trace_id: event.trace_id,
      blueprint_id: event.blueprint_id,
      trace: event.trace,
      changed_files: changes.files.map((f) => f.path),
      commit_messages: changes.commits.map((c) => `${c.subject}\n\n${c.body}`),
    });
    if (result.status === "traceable") return { trace: result.trace };
    const reason = result.status;
    const message = `${reason === "missing_trace" ? "The trace cannot be resolved" : "The change does not match its trace"}: ${result.violations.map((v) => v.message).join("; ")}.`;
    return {
      trace: result.trace,
      violations: result.violations,
      failure: failure(reason, message),
    };
  };
}
