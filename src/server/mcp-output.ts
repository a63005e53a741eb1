/**
 * What the MCP tools return as structured content: zod schemas (advertised as each tool's outputSchema and
 * checked by the SDK before a result leaves) and the mappings from the agent's own results.
 */
import { z } from "zod";
import {
  ApprovalRequestSchema,
  MemoryHitSchema,
  MergeOutcomeSchema,
  RunResultSchema,
  type MergeOutcome,
  type RunResult,
} from "../domain/run-result.js";
import { TraceRecordSchema, type TraceRecord } from "../domain/trace.js";
import type { RollbackResult } from "../merge/rollback.js";
import type { PrRecord } from "../memory/store.js";

// Loose, so a lifecycle event gaining a field (or a new kind) never fails a rollback that already happened.
const EventSchema = z.looseObject({ event: z.string() });

/** What happened about merging, without the per-check details and timings. */
const MergeSchema = MergeOutcomeSchema.pick({
  status: true,
  requires: true,
  message: true,
  failed_checks: true,
  merge_commit: true,
});

/**
 * The run result as MCP tools return it: every field of the result but the working notes (usage, draft rounds,
 * approvals, memory, truncation, undelivered), so a field added to the result reaches MCP clients too. Reason,
 * message and approval are always present (null when unset), the merge outcome is summed up, and the possible
 * duplicates come up from memory.
 */
export const RunOutputSchema = RunResultSchema.omit({
  reason: true,
  message: true,
  merge: true,
  approval: true,
  usage: true,
  rounds: true,
  approvals: true,
  memory: true,
  truncation: true,
  undelivered: true,
}).extend({
  reason: RunResultSchema.shape.reason.unwrap().nullable(),
  message: RunResultSchema.shape.message.unwrap().nullable(),
  merge: MergeSchema.nullable().describe("What happened about merging after publishing"),
  possible_duplicates: z.array(MemoryHitSchema.pick({ title: true, url: true, score: true })),
  approval: z
    .object({ thread_id: z.string(), question: ApprovalRequestSchema.shape.question })
    .nullable()
    .describe("Set when the run waits for a person: `pr-creator resume <thread_id>`"),
});
export type RunOutput = z.infer<typeof RunOutputSchema>;

function mergeOutput(m: MergeOutcome): z.infer<typeof MergeSchema> {
  return {
    status: m.status,
    requires: m.requires,
    message: m.message,
    failed_checks: m.failed_checks,
    merge_commit: m.merge_commit,
  };
}

export function runOutput(r: RunResult): RunOutput {
  const {
    reason,
    message,
    merge,
    approval,
    memory,
    usage: _usage,
    rounds: _rounds,
    approvals: _approvals,
    truncation: _truncation,
    undelivered: _undelivered,
    ...shared
  } = r;
  return {
    ...shared,
    reason: reason ?? null,
    message: message ?? null,
    merge: merge && mergeOutput(merge),
    possible_duplicates: memory.possible_duplicates.map(({ title, url, score }) => ({ title, url, score })),
    approval: approval ? { thread_id: approval.thread_id, question: approval.request.question } : null,
  };
}

const PrRecordSchema = z.object({
  repo: z.string(),
  pr_id: z.string().nullable().describe("null for a remembered preview"),
  url: z.string().nullable(),
  forge: z.string(),
  status: z.enum(["previewed", "created", "updated", "unchanged"]),
  trace_id: z.string(),
  blueprint_id: z.string(),
  component_scope: z.string(),
  commit_hash: z.string(),
  source_branch: z.string(),
  target_branch: z.string(),
  title: z.string(),
  text: z.string(),
  created_at: z.string(),
  updated_at: z.string(),
});

export const TraceOutputSchema = z.object({
  trace_id: z.string(),
  trace: TraceRecordSchema.nullable().describe(
    "The trace's record in the trace registry; null when the registry does not list it or none is configured",
  ),
  prs: z
    .array(PrRecordSchema)
    .nullable()
    .describe("The audit chain trace → PR → commit → branch from memory, oldest first; null when memory is off"),
  memory: z.enum(["sqlite", "qdrant", "postgres", "off"]),
  trace_registry: z.boolean().describe("Whether a trace registry is configured"),
});
export type TraceOutput = z.infer<typeof TraceOutputSchema>;

export const RollbackOutputSchema = z.object({
  status: z.enum(["created", "merged", "failed"]),
  message: z.string(),
  original: z.object({ id: z.number(), url: z.string(), title: z.string(), repo: z.string(), trace_id: z.string() }),
  revert: z
    .object({
      id: z.number(),
      url: z.string(),
      title: z.string(),
      source_branch: z.string(),
      target_branch: z.string(),
    })
    .nullable(),
  merge: MergeSchema.nullable(),
  events: z.array(EventSchema),
  warnings: z.array(z.string()),
});
export type RollbackOutput = z.infer<typeof RollbackOutputSchema>;

export function rollbackOutput(r: RollbackResult): RollbackOutput {
  const revert = r.revert && {
    id: r.revert.id,
    url: r.revert.url,
    title: r.revert.title,
    source_branch: r.revert.source_branch,
    target_branch: r.revert.target_branch,
  };
  return {
    status: r.status,
    message: r.message,
    original: r.original,
    revert,
    merge: r.merge && mergeOutput(r.merge),
    events: r.events,
    warnings: r.warnings,
  };
}

function prLine(r: PrRecord): string {
  const id = r.pr_id ? `PR ${r.pr_id}` : "preview";
  return `- ${r.updated_at.slice(0, 19).replace("T", " ")}  ${id}  ${r.status}  ${r.commit_hash.slice(0, 7)}  ${r.source_branch} → ${r.target_branch}\n  ${r.title}${r.url ? `\n  ${r.url}` : ""}`;
}

function traceLine(t: TraceRecord): string {
  return `${t.trace_id} → blueprint ${t.blueprint_id}${t.blueprint_name ? ` (${t.blueprint_name})` : ""}, scope ${t.component_scope}`;
}

/** The readable counterpart of a trace lookup. */
export function traceText(out: TraceOutput): string {
  const head = out.trace
    ? traceLine(out.trace)
    : out.trace_registry
      ? `The trace registry does not list ${out.trace_id}.`
      : `${out.trace_id} (no trace registry is configured).`;
  if (out.prs === null) return `${head}\nMemory is off, so no pull requests are remembered.\n`;
  if (out.prs.length === 0) return `${head}\nNo pull requests are remembered for ${out.trace_id}.\n`;
  return `${head}\n\n${out.prs.map(prLine).join("\n")}\n`;
}

/** The readable counterpart of a rollback. */
export function rollbackText(out: RollbackOutput): string {
  const lines = [
    `✔ ${out.message}`,
    ...(out.revert ? [`  Revert PR  ${out.revert.url}`] : []),
    `  Original   ${out.original.url}`,
  ];
  for (const w of out.warnings) lines.push(`warning: ${w}`);
  return `${lines.join("\n")}\n`;
}
