/**
 * The library entry point: build the agent from config and hand it events, or take its compiled LangGraph
 * graph and typed tools into an upstream agent. Everything here is also what the CLI uses.
 */
export { createAgent, type Agent, type AgentOptions } from "./agent/create-agent.js";
export type { RunOptions } from "./agent/run.js";
export { RunResultSchema, type RunResult, type RunStatus } from "./domain/run-result.js";
export { buildGraph, type AgentGraph } from "./agent/graph.js";
export type { ApprovalDecision } from "./domain/run-result.js";

export {
  CommitCompletedSchema,
  ChangeRequestedSchema,
  FileEditSchema,
  PullRequestCreatedSchema,
  PullRequestReadyForReviewSchema,
  PullRequestFailedSchema,
  PullRequestMergedSchema,
  PullRequestMergeBlockedSchema,
  PullRequestRollbackCreatedSchema,
  PullRequestAlertSchema,
  AGENT_NAME,
  type CommitCompleted,
  type ChangeRequested,
  type FileEdit,
  type LifecycleEvent,
  type PullRequestCreated,
  type PullRequestFailed,
  type PullRequestMerged,
  type PullRequestMergeBlocked,
  type PullRequestRollbackCreated,
  type PullRequestAlert,
} from "./domain/events.js";
export { PolicySchema, type Policy } from "./domain/policy.js";
export { TraceRecordSchema, type TraceRecord } from "./domain/trace.js";
export { PrCreatorError } from "./domain/errors.js";
export { FailureReasonSchema, isRejection, type FailureReason } from "./domain/reasons.js";
export type { PullRequestSpec, RiskAssessment } from "./domain/pull-request.js";

export { loadPolicy } from "./policy/load-policy.js";
export { assessRisk } from "./policy/risk.js";
export { planMerge } from "./policy/merge-plan.js";

export { createHandleEventTool, HandleEventInputSchema } from "./tools/handle-event.js";
export { createValidateTraceTool, ValidateTraceInputSchema } from "./tools/validate-trace.js";
export { createPublishPullRequestTool, PublishPullRequestInputSchema } from "./tools/publish-pull-request.js";

export { rollback, type RollbackRequest, type RollbackResult } from "./merge/rollback.js";
export { followPullRequest, type FollowResult } from "./merge/follow.js";
export type { Forge } from "./forges/forge.js";
export type { EventSink } from "./events/sinks.js";
