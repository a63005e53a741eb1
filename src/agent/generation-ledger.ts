import { changeTraceId } from "../changes/apply-edits.js";
import type { FailureReason } from "../domain/reasons.js";
import type { AgentDeps } from "./deps.js";
import type { AgentStateType } from "./state.js";

type Status = "created" | "updated" | "unchanged" | "previewed" | "failed";

/**
 * Counts a finished run: metrics (status, generation time, gate rounds, model calls, fallbacks) and one
 * `generation` history entry. Returns a warning when the ledger could not be written.
 */
export async function recordGeneration(
  deps: AgentDeps,
  state: AgentStateType,
  status: Status,
  reason: FailureReason | null,
): Promise<string[]> {
  const { metrics } = deps.ledger;
  const now = deps.now();
  const duration = Math.max(0, now.getTime() - (state.started_at ?? now.getTime()));
  metrics.generated(status, duration / 1000);
  for (const round of state.rounds) metrics.gateCheck(round.violations.length === 0 ? "passed" : "failed");
  if (state.usage.model_calls > 0) metrics.modelCall(state.usage.model_calls);
  for (let i = 0; i < state.usage.fallbacks; i++) metrics.fallback();
  const cr = state.change_request;
  const trace_id = state.event?.trace_id ?? (cr ? changeTraceId(cr) : traceOf(state.input));
  const repo = state.event?.repo ?? cr?.repo ?? fieldOf(state.input, "repo");
  // A run whose input had no repo or trace cannot be attributed; the metrics above still count it.
  if (!trace_id || !repo) return [];
  const warning = await deps.ledger.append({
    kind: "generation",
    at: now,
    repo,
    trace_id,
    pr_id: state.published?.id === null || state.published?.id === undefined ? null : String(state.published.id),
    status,
    reason: status === "failed" ? reason : null,
    risk: state.pr?.risk?.level ?? null,
    duration_ms: duration,
    compliant: status !== "failed" && state.violations.length === 0,
    drafted_by: state.drafted_by,
  });
  return warning ? [warning] : [];
}

function fieldOf(input: unknown, key: string): string | null {
  if (typeof input !== "object" || input === null) return null;
  const value = (input as Record<string, unknown>)[key];
  return typeof value === "string" && value.trim() !== "" ? value : null;
}

function traceOf(input: unknown): string | null {
  return fieldOf(input, "trace_id");
}
