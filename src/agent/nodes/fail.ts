import { emitAll } from "../../events/sinks.js";
import type { AgentDeps } from "../deps.js";
import { buildFailedEvent } from "../failed-event.js";
import type { AgentStateType, AgentUpdate } from "../state.js";

/** The one terminal event of a failed run. */
export function makeFail(deps: AgentDeps) {
  return async function fail(state: AgentStateType): Promise<AgentUpdate> {
    const failed = buildFailedEvent(state.event ?? state.input, state.failure!, state.violations, deps.now());
    const warnings = await emitAll(deps.emit, [failed]);
    return { events: [failed], warnings, undelivered: warnings.length };
  };
}
