import type { LifecycleEvent } from "../domain/events.js";
import type { FailureReason } from "../domain/reasons.js";
import type { DraftedBy, PullRequestSpec, Truncation } from "../domain/pull-request.js";
import type { AgentGraph } from "./graph.js";

export type RunStatus = "previewed" | "created" | "updated" | "unchanged" | "failed" | "awaiting_approval";

/** The result of one event: what the CLI prints with --json and what library callers get back. */
export interface RunResult {
  status: RunStatus;
  reason?: FailureReason;
  /** One paragraph for people: what went wrong and how to fix it (failures only). */
  message?: string;
  pr: (Omit<PullRequestSpec, "checklist"> & { id: number | string | null; url: string | null; checklist: PullRequestSpec["checklist"] }) | null;
  violations: { code: string; message: string }[];
  events: LifecycleEvent[];
  drafted_by: DraftedBy | null;
  truncation: Truncation | null;
  /** Problems that did not change the outcome (an event sink that could not be written). */
  warnings: string[];
}

export async function runGraph(graph: AgentGraph, input: unknown): Promise<RunResult> {
  const state = await graph.invoke({ input });
  const violations = state.violations.map(({ code, message }) => ({ code, message }));
  const pr = state.pr ? { id: state.published?.id ?? null, url: state.published?.url ?? null, ...state.pr } : null;
  const base = { pr, violations, events: state.events, drafted_by: state.drafted_by, truncation: state.truncation, warnings: state.warnings };
  if (state.failure) return { status: "failed", reason: state.failure.reason, message: state.failure.message, ...base };
  return { status: state.published!.status, ...base };
}
