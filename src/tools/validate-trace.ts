import { tool } from "@langchain/core/tools";
import { z } from "zod";
import type { Policy } from "../domain/policy.js";
import { TraceRecordSchema, type TraceRecord } from "../domain/trace.js";
import { checkTrace, type TraceCheckResult } from "../policy/trace-check.js";
import type { TraceRegistry } from "../policy/trace-registry.js";

export const ValidateTraceInputSchema = z.object({
  trace_id: z.string().min(1).describe("The trace id from the CommitCompleted event, e.g. trace-ord-8128"),
  blueprint_id: z.string().min(1).optional().describe("The blueprint the event claims, if any"),
  trace: TraceRecordSchema.optional().describe(
    "Trace metadata carried by the event itself; looked up in the registry when absent",
  ),
  changed_files: z.array(z.string()).describe("Every changed file path of the PR"),
  commit_messages: z.array(z.string()).describe("Full messages of the PR's commits"),
});
export type ValidateTraceInput = z.input<typeof ValidateTraceInputSchema>;

export interface ValidateTraceOutput extends TraceCheckResult {
  trace: TraceRecord | null;
}

export interface ValidateTraceDeps {
  policy: Policy;
  registry: TraceRegistry | null;
  /** Names the registry in messages, e.g. the file path. */
  registrySource: string;
}

/** Resolves the trace (event first, then registry) and applies the trace linkage rules. */
export async function validateTrace(input: ValidateTraceInput, deps: ValidateTraceDeps): Promise<ValidateTraceOutput> {
  const args = ValidateTraceInputSchema.parse(input);
  const fromEvent = args.trace;
  const record = fromEvent ?? (await deps.registry?.get(args.trace_id));
  const source = fromEvent
    ? "the event's trace metadata"
    : deps.registry
      ? `the trace registry (${deps.registrySource})`
      : "any trace registry (none is configured)";
  const result = checkTrace(
    {
      trace_id: args.trace_id,
      blueprint_id: args.blueprint_id,
      record,
      record_source: source,
      changed_files: args.changed_files,
      commit_messages: args.commit_messages,
    },
    deps.policy,
  );
  return { ...result, trace: record ?? null };
}

/** The same check as a LangChain tool, so an upstream agent can bind it or call it directly. */
export function createValidateTraceTool(deps: ValidateTraceDeps) {
  return tool(async (input: ValidateTraceInput) => validateTrace(input, deps), {
    name: "validate_trace",
    description:
      "Check that a trace id resolves to a blueprint, matches the event's blueprint and commits, and that every changed file fits the trace's component scope. Returns status traceable, missing_trace or trace_violation with the violations.",
    schema: ValidateTraceInputSchema,
  });
}
