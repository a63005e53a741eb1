import { END, START, StateGraph } from "@langchain/langgraph";
import { PrCreatorError } from "../domain/errors.js";
import type { AgentDeps } from "./deps.js";
import { withHint } from "./hints.js";
import { makeCheckLimits } from "./nodes/check-limits.js";
import { makeCheckTrace } from "./nodes/check-trace.js";
import { makeDraft } from "./nodes/draft.js";
import { makeFail } from "./nodes/fail.js";
import { makeGate } from "./nodes/gate.js";
import { makeGather } from "./nodes/gather.js";
import { makeIntake } from "./nodes/intake.js";
import { makePublish } from "./nodes/publish.js";
import { makeRecord } from "./nodes/record.js";
import { AgentState, type AgentStateType, type AgentUpdate } from "./state.js";

type Node = (state: AgentStateType) => Promise<AgentUpdate>;

/** A thrown error becomes a routed failure, so every run still ends in exactly one `PullRequestFailed`. */
function guarded(node: Node): Node {
  return async (state) => {
    try {
      return await node(state);
    } catch (error) {
      if (error instanceof PrCreatorError) {
        return { violations: error.violations, failure: { reason: error.reason, message: withHint(error.reason, error.paragraph), attempts: error.attempts } };
      }
      const detail = error instanceof Error ? error.message : String(error);
      return { failure: { reason: "internal_error", message: withHint("internal_error", `Unexpected error: ${detail}.`), attempts: 0 } };
    }
  };
}

const onwardTo =
  <T extends string>(next: T) =>
  (state: AgentStateType): T | "fail" =>
    state.failure ? "fail" : next;

/**
 * intake → gather → check_trace → check_limits → draft → gate → publish → record, and from any step to fail.
 * This file only wires; each node lives in nodes/.
 */
export function buildGraph(deps: AgentDeps) {
  return new StateGraph(AgentState)
    .addNode("intake", guarded(makeIntake(deps)))
    .addNode("gather", guarded(makeGather(deps)))
    .addNode("check_trace", guarded(makeCheckTrace(deps)))
    .addNode("check_limits", guarded(makeCheckLimits(deps)))
    .addNode("draft", guarded(makeDraft(deps)))
    .addNode("gate", guarded(makeGate(deps)))
    .addNode("publish", guarded(makePublish(deps)))
    .addNode("record", makeRecord(deps))
    .addNode("fail", makeFail(deps))
    .addEdge(START, "intake")
    .addConditionalEdges("intake", onwardTo("gather"), ["gather", "fail"])
    .addConditionalEdges("gather", onwardTo("check_trace"), ["check_trace", "fail"])
    .addConditionalEdges("check_trace", onwardTo("check_limits"), ["check_limits", "fail"])
    .addConditionalEdges("check_limits", onwardTo("draft"), ["draft", "fail"])
    .addConditionalEdges("draft", onwardTo("gate"), ["gate", "fail"])
    .addConditionalEdges("gate", onwardTo("publish"), ["publish", "fail"])
    .addConditionalEdges("publish", onwardTo("record"), ["record", "fail"])
    .addEdge("record", END)
    .addEdge("fail", END)
    .compile();
}

export type AgentGraph = ReturnType<typeof buildGraph>;
