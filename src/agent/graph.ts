import type { BaseCheckpointSaver } from "@langchain/langgraph";
import { END, START, StateGraph } from "@langchain/langgraph";
import { errorText, PrCreatorError } from "../domain/errors.js";
import type { FailureReason } from "../domain/reasons.js";
import type { AgentDeps } from "./deps.js";
import { GraphInputSchema, GraphOutputSchema } from "./graph-io.js";
import { failure } from "./failure.js";
import { withHint } from "./hints.js";
import { makeApplyChange } from "./nodes/apply-change.js";
import { makeApprove } from "./nodes/approve.js";
import { makeCheckLimits } from "./nodes/check-limits.js";
import { makeCheckTrace } from "./nodes/check-trace.js";
import { makeDedupe } from "./nodes/dedupe.js";
import { makeDraft } from "./nodes/draft.js";
import { makeFail } from "./nodes/fail.js";
import { makeGate } from "./nodes/gate.js";
import { makeGather } from "./nodes/gather.js";
import { makeIntake } from "./nodes/intake.js";
import { makeMerge } from "./nodes/merge.js";
import { makePlan } from "./nodes/plan.js";
import { makePublish } from "./nodes/publish.js";
import { makeRecall } from "./nodes/recall.js";
import { makeRecord } from "./nodes/record.js";
import { makeTrack } from "./nodes/track.js";
import { installLeanRunContext } from "./run-context.js";
import { AgentState, type AgentStateType, type AgentUpdate } from "./state.js";

type Node = (state: AgentStateType) => Promise<AgentUpdate>;

/**
 * A thrown error becomes a routed failure, so every run still ends in exactly one `PullRequestFailed`.
 * A failure remembers the node it came from, so an approval can continue right after it.
 */
function guarded(name: string, node: Node): Node {
  return async (state) => {
    let update: AgentUpdate;
    try {
      update = await node(state);
    } catch (error) {
      if (error instanceof PrCreatorError) {
        // An error that says how to fix itself keeps its own hint; the reason's generic one is for the rest.
        const message = error.hint ? error.paragraph : withHint(error.reason, error.paragraph);
        update = { violations: error.violations, failure: { reason: error.reason, message, attempts: error.attempts } };
      } else {
        update = { failure: failure("internal_error", `Unexpected error: ${errorText(error)}.`) };
      }
    }
    return update.failure ? { ...update, paused_at: name } : update;
  };
}

/** Where an approved run continues: the step after the one whose failure was waved through. */
const AFTER = { intake: "gather", check_trace: "check_limits", check_limits: "plan_pr" } as const;
type Resumable = keyof typeof AFTER;

/**
 * intake → [apply_change] → gather → check_trace → check_limits → plan_pr → recall → draft ⇄ gate → dedupe → publish → record → track → merge → track_outcome;
 * a change request first commits its edits (apply_change). Any failure goes to fail (then track_outcome),
 * or — when `approval.on_violations` names its reason — to approve, which pauses for a person.
 * Steps with nothing to do in this setup are routed around, not run: recall and dedupe without memory (or once
 * it failed in this run), track and track_outcome without an issue tracker. Every graph step costs LangGraph
 * bookkeeping (state reads, config merges, a checkpoint); all nodes stay in the graph, so a checkpoint saved
 * under another setup still resumes.
 * This file only wires; each node lives in nodes/. Pass a checkpointer whenever approvals are enabled.
 */
export function buildGraph(deps: AgentDeps, checkpointer?: BaseCheckpointSaver) {
  installLeanRunContext();
  const approvable = new Set<FailureReason>(deps.policy.approval.on_violations);
  const onwardTo =
    <T extends string>(next: T) =>
    (state: AgentStateType): T | "approve" | "fail" => {
      if (!state.failure) return next;
      return approvable.has(state.failure.reason) && state.paused_at !== null && state.paused_at in AFTER
        ? "approve"
        : "fail";
    };
  // The conditions under which recall, dedupe and the tracking steps would return nothing.
  const recalls = (state: AgentStateType) =>
    Boolean(deps.memory) && deps.policy.memory.recall_k > 0 && !state.memory_unavailable;
  const dedupes = (state: AgentStateType) => Boolean(deps.memory) && !state.memory_unavailable;
  const tracks = Boolean(deps.tracker);
  const toDraft = (state: AgentStateType) => (recalls(state) ? ("recall" as const) : ("draft" as const));
  const toPublish = (state: AgentStateType) => (dedupes(state) ? ("dedupe" as const) : ("publish" as const));
  // A clean draft ships; a draft with violations goes back (the gate has decided repair or fallback).
  const afterGate = (state: AgentStateType): "dedupe" | "publish" | "draft" | "fail" => {
    if (state.failure) return "fail";
    return state.violations.length === 0 ? toPublish(state) : "draft";
  };
  const toOutcome = (): "track_outcome" | typeof END => (tracks ? "track_outcome" : END);
  const afterIntake = (state: AgentStateType) =>
    state.change_request && !state.failure ? ("apply_change" as const) : onwardTo("gather")(state);
  const afterApproval = (state: AgentStateType): (typeof AFTER)[Resumable] | "apply_change" | "fail" =>
    state.failure
      ? "fail"
      : state.paused_at === "intake" && state.change_request
        ? "apply_change"
        : AFTER[state.paused_at as Resumable];

  return new StateGraph(AgentState, { input: GraphInputSchema, output: GraphOutputSchema })
    .addNode("intake", guarded("intake", makeIntake(deps)))
    .addNode("apply_change", guarded("apply_change", makeApplyChange(deps)))
    .addNode("gather", guarded("gather", makeGather(deps)))
    .addNode("check_trace", guarded("check_trace", makeCheckTrace(deps)))
    .addNode("check_limits", guarded("check_limits", makeCheckLimits(deps)))
    .addNode("approve", makeApprove(deps))
    .addNode("plan_pr", guarded("plan_pr", makePlan(deps)))
    .addNode("recall", guarded("recall", makeRecall(deps)))
    .addNode("draft", guarded("draft", makeDraft(deps)))
    .addNode("gate", guarded("gate", makeGate(deps)))
    .addNode("dedupe", guarded("dedupe", makeDedupe(deps)))
    .addNode("publish", guarded("publish", makePublish(deps)))
    .addNode("record", makeRecord(deps))
    .addNode("merge", makeMerge(deps))
    .addNode("fail", makeFail(deps))
    .addNode("track", makeTrack(deps, "published"))
    .addNode("track_outcome", makeTrack(deps, "outcome"))
    .addEdge(START, "intake")
    .addConditionalEdges("intake", afterIntake, ["gather", "apply_change", "approve", "fail"])
    .addConditionalEdges("apply_change", onwardTo("gather"), ["gather", "fail"])
    .addConditionalEdges("gather", onwardTo("check_trace"), ["check_trace", "fail"])
    .addConditionalEdges("check_trace", onwardTo("check_limits"), ["check_limits", "approve", "fail"])
    .addConditionalEdges("check_limits", onwardTo("plan_pr"), ["plan_pr", "approve", "fail"])
    .addConditionalEdges("approve", afterApproval, ["gather", "apply_change", "check_limits", "plan_pr", "fail"])
    .addConditionalEdges("plan_pr", (state) => onwardTo(toDraft(state))(state), ["recall", "draft", "fail"])
    .addConditionalEdges("recall", onwardTo("draft"), ["draft", "fail"])
    .addConditionalEdges("draft", onwardTo("gate"), ["gate", "fail"])
    .addConditionalEdges("gate", afterGate, ["dedupe", "publish", "draft", "fail"])
    .addConditionalEdges("dedupe", onwardTo("publish"), ["publish", "fail"])
    .addConditionalEdges("publish", onwardTo("record"), ["record", "fail"])
    .addConditionalEdges("record", () => (tracks ? "track" : "merge"), ["track", "merge"])
    .addEdge("track", "merge")
    .addConditionalEdges("merge", toOutcome, ["track_outcome", END])
    .addConditionalEdges("fail", toOutcome, ["track_outcome", END])
    .addEdge("track_outcome", END)
    .compile(checkpointer ? { checkpointer } : {});
}

export type AgentGraph = ReturnType<typeof buildGraph>;
