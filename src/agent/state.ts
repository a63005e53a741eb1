import { Annotation } from "@langchain/langgraph";
import type { ChangeSet } from "../domain/commit.js";
import type { ChangeRequested, CommitCompleted, LifecycleEvent } from "../domain/events.js";
import type { FailureReason } from "../domain/reasons.js";
import type { ChangeDigest } from "../domain/digest.js";
import type { RepoConventions } from "../domain/conventions.js";
import type { Draft, DraftedBy, PrPlan, PullRequestSpec, Truncation } from "../domain/pull-request.js";
import type { ApprovalRecord, DraftRound, MemoryHit, MergeOutcome, Usage } from "../domain/run-result.js";
import type { TraceRecord } from "../domain/trace.js";
import type { PrRecord } from "../memory/store.js";
import type { Violation } from "../domain/violations.js";
import type { PublishResult } from "../forges/publisher.js";
import type { IssueRefs } from "../policy/issue-refs.js";

export interface Failure {
  reason: FailureReason;
  message: string;
  attempts: number;
}

const last = <T>(initial: T) => Annotation<T>({ reducer: (_prev, next) => next, default: () => initial });

export const NO_USAGE: Usage = { model_calls: 0, prompt_tokens: 0, completion_tokens: 0, repairs: 0, fallbacks: 0 };

/** Everything a run knows. Each node writes only its own keys; `failure` routes to the `fail` node. */
export const AgentState = Annotation.Root({
  /** The event as received, before validation. */
  input: last<unknown>(null),
  /** When the run began (epoch ms), for the generation time. */
  started_at: last<number | null>(null),
  /** The event the PR is made from: as received, or — for a change request — the commit the agent made. */
  event: last<CommitCompleted | null>(null),
  /** Set when the input was a ChangeRequested event. */
  change_request: last<ChangeRequested | null>(null),
  /** The branch a change request is committed to (agent-sre/<type>-<id>). */
  change_branch: last<string | null>(null),
  /** Edited YAML files parsed after the edit, and those that did not parse. */
  change_yaml: last<{ checked: number; invalid: string[] } | null>(null),
  target_branch: last<string | null>(null),
  changes: last<ChangeSet | null>(null),
  /** What was read from the change itself (symbols, roles, budgeted hunks); null when the texts could not be read. */
  digest: last<ChangeDigest | null>(null),
  /** Type, breaking change, risk, reviewers, labels, checklist and merge plan, decided once by the plan node. */
  plan: last<PrPlan | null>(null),
  /** The PR's issue, work items and GitHub issues (the event's, else from commits, branch or trace), from the plan node. */
  issue: last<IssueRefs | null>(null),
  /** The repository's PR template and CODEOWNERS, read by the plan node when the policy asks for them. */
  conventions: last<RepoConventions | null>(null),
  trace: last<TraceRecord | null>(null),
  /** Earlier PRs recalled as phrasing examples for the model (filled by memory; empty without it). */
  style_examples: last<string[]>([]),
  /** Which earlier PRs those examples came from. */
  recalled: last<MemoryHit[]>([]),
  /** The trace's earlier PRs from memory (the audit chain), oldest first. */
  earlier_prs: last<PrRecord[]>([]),
  /** Earlier PRs of the same scope that look nearly identical to this one. */
  possible_duplicates: last<MemoryHit[]>([]),
  /** Why memory could not be used in this run; once set, later steps skip memory. */
  memory_unavailable: last<string | null>(null),
  prose: last<Draft | null>(null),
  drafted_by: last<DraftedBy | null>(null),
  /** Why the last answer could not be read as prose (the gate reports these like its own violations). */
  draft_violations: last<Violation[]>([]),
  /** The model's last answer and what the gate said of it: the next repair round's input. */
  last_answer: last<string>(""),
  repair_feedback: last<Violation[]>([]),
  repairs: last<number>(0),
  /** Set when the model may not draft again (repairs used up, or the model is down). */
  fallback: last<boolean>(false),
  rounds: Annotation<DraftRound[]>({ reducer: (prev, next) => [...prev, ...next], default: () => [] }),
  usage: Annotation<Usage>({
    reducer: (prev, next) => ({
      model_calls: prev.model_calls + next.model_calls,
      prompt_tokens: prev.prompt_tokens + next.prompt_tokens,
      completion_tokens: prev.completion_tokens + next.completion_tokens,
      repairs: prev.repairs + next.repairs,
      fallbacks: prev.fallbacks + next.fallbacks,
    }),
    default: () => NO_USAGE,
  }),
  pr: last<PullRequestSpec | null>(null),
  truncation: last<Truncation | null>(null),
  violations: last<Violation[]>([]),
  published: last<PublishResult | null>(null),
  /** What happened after publishing: auto-merge enabled, merged, blocked by CI, or left to people. */
  merge_outcome: last<MergeOutcome | null>(null),
  failure: last<Failure | null>(null),
  /** The node whose failure a person is asked about, so an approval continues right after it. */
  paused_at: last<string | null>(null),
  approvals: Annotation<ApprovalRecord[]>({ reducer: (prev, next) => [...prev, ...next], default: () => [] }),
  events: Annotation<LifecycleEvent[]>({ reducer: (prev, next) => [...prev, ...next], default: () => [] }),
  /** Problems that did not change the outcome, such as an event sink that could not be written. */
  warnings: Annotation<string[]>({ reducer: (prev, next) => [...prev, ...next], default: () => [] }),
  /** Lifecycle events that no sink accepted (each also has a warning). */
  undelivered: Annotation<number>({ reducer: (prev, next) => prev + next, default: () => 0 }),
});

export type AgentStateType = typeof AgentState.State;
export type AgentUpdate = typeof AgentState.Update;
