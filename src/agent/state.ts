import { Annotation } from "@langchain/langgraph";
import type { ChangeSet } from "../domain/commit.js";
import type { CommitCompleted, LifecycleEvent } from "../domain/events.js";
import type { FailureReason } from "../domain/reasons.js";
import type { Draft, DraftedBy, PullRequestSpec, Truncation } from "../domain/pull-request.js";
import type { TraceRecord } from "../domain/trace.js";
import type { Violation } from "../domain/violations.js";
import type { PublishResult } from "../forges/publisher.js";

export interface Failure {
  reason: FailureReason;
  message: string;
  attempts: number;
}

const last = <T>(initial: T) => Annotation<T>({ reducer: (_prev, next) => next, default: () => initial });

/** Everything a run knows. Each node writes only its own keys; `failure` routes to the `fail` node. */
export const AgentState = Annotation.Root({
  /** The event as received, before validation. */
  input: last<unknown>(null),
  event: last<CommitCompleted | null>(null),
  target_branch: last<string | null>(null),
  changes: last<ChangeSet | null>(null),
  trace: last<TraceRecord | null>(null),
  prose: last<Draft | null>(null),
  drafted_by: last<DraftedBy | null>(null),
  pr: last<PullRequestSpec | null>(null),
  truncation: last<Truncation | null>(null),
  violations: last<Violation[]>([]),
  published: last<PublishResult | null>(null),
  failure: last<Failure | null>(null),
  events: Annotation<LifecycleEvent[]>({ reducer: (prev, next) => [...prev, ...next], default: () => [] }),
  /** Problems that did not change the outcome, such as an event sink that could not be written. */
  warnings: Annotation<string[]>({ reducer: (prev, next) => [...prev, ...next], default: () => [] }),
});

export type AgentStateType = typeof AgentState.State;
export type AgentUpdate = typeof AgentState.Update;
