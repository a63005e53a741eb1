import type { Policy } from "../domain/policy.js";
import type { TraceRecord } from "../domain/trace.js";
import type { Violation } from "../domain/violations.js";
import { traceTagId } from "../render/title.js";
import { createScopeMatcher } from "./scope.js";
import { TRACE_ID_PATTERN } from "./trace-ids.js";

export interface TraceCheckInput {
  trace_id: string;
  /** Blueprint the event claims, if it names one. */
  blueprint_id?: string | undefined;
  /** The record found for the trace (event-embedded or registry), if any. */
  record: TraceRecord | undefined;
  /** Where the record came from, for messages. */
  record_source: string;
  changed_files: readonly string[];
  commit_messages: readonly string[];
}

export interface TraceCheckResult {
  status: "traceable" | "missing_trace" | "trace_violation";
  violations: Violation[];
  /** Changed files that fit none of the trace's scope rules. */
  outside_files: string[];
}

const SHOWN = 10;

/** Trace tags in a commit message that name another trace: `[trace:x]` tags and `trace-…` ids. */
function foreignTraces(message: string, traceId: string, tag: string): string[] {
  const found = new Set<string>();
  for (const m of message.matchAll(/\[trace:([^\]\s]+)\]/g)) if (m[1] !== tag && m[1] !== traceId) found.add(m[0]);
  for (const m of message.matchAll(TRACE_ID_PATTERN)) if (m[0] !== traceId) found.add(m[0]);
  return [...found];
}

/**
 * The seed's trace linkage rules, never guessed: the trace must resolve, match the event's blueprint, not be
 * contradicted by the commits' own trace tags, and every changed file must fit the component scope.
 */
export function checkTrace(input: TraceCheckInput, policy: Policy): TraceCheckResult {
  const { record } = input;
  if (!record) {
    return {
      status: "missing_trace",
      violations: [
        {
          code: "trace_unknown",
          where: "trace",
          message: `trace id "${input.trace_id}" is not in ${input.record_source}`,
        },
      ],
      outside_files: [],
    };
  }
  const violations: Violation[] = [];
  if (record.trace_id !== input.trace_id) {
    violations.push({
      code: "trace_id_mismatch",
      where: "trace",
      message: `the event's trace metadata is for "${record.trace_id}" but the event's trace_id is "${input.trace_id}"`,
    });
  }
  if (input.blueprint_id !== undefined && input.blueprint_id !== record.blueprint_id) {
    violations.push({
      code: "trace_blueprint_mismatch",
      where: "trace",
      message: `the event names blueprint "${input.blueprint_id}" but trace ${input.trace_id} belongs to blueprint "${record.blueprint_id}"`,
    });
  }
  const tag = traceTagId(input.trace_id, policy);
  const foreign = [...new Set(input.commit_messages.flatMap((m) => foreignTraces(m, input.trace_id, tag)))];
  if (foreign.length > 0) {
    violations.push({
      code: "trace_commit_mismatch",
      where: "commit",
      message: `the commits reference another trace (${foreign.join(", ")}) than ${input.trace_id}`,
    });
  }
  const fit = createScopeMatcher(record, policy);
  const outside = input.changed_files.filter((f) => fit(f) === "outside");
  if (outside.length > 0) {
    const list =
      outside.slice(0, SHOWN).join(", ") + (outside.length > SHOWN ? ` and ${outside.length - SHOWN} more` : "");
    violations.push({
      code: "trace_files_outside_scope",
      where: "commit",
      message: `${outside.length} changed file${outside.length > 1 ? "s are" : " is"} outside component scope ${record.component_scope}: ${list}`,
    });
  }
  return { status: violations.length > 0 ? "trace_violation" : "traceable", violations, outside_files: outside };
}
