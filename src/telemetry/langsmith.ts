import { isSpanContextValid, trace, type Context } from "@opentelemetry/api";

/** The LangChain run config of one agent run: LangSmith shows the root run under this name, metadata and tags. */
export interface LangSmithRunConfig {
  runName: string;
  metadata: Record<string, string | number>;
  tags: string[];
}

export interface RunLabels {
  /** The event as received (may be invalid), or for a resumed run its checkpointed input. */
  input: unknown;
  execution_id: string;
  /** The run's OpenTelemetry context: its trace id links the LangSmith run to the spans. */
  context: Context;
  prompts_version?: string;
  /** A resumed run's PR, when it already has one. */
  pr_number?: number | string | null;
}

const INPUT_EVENTS: readonly string[] = ["CommitCompleted", "ChangeRequested"];

// The event is untrusted: only short strings of known fields go out, never anything else it holds.
const text = (record: Record<string, unknown>, key: string): string | undefined => {
  const value = record[key];
  if (typeof value !== "string" || value.trim() === "") return undefined;
  const clean = value.trim();
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
};

/**
 * Names the root run "pr-creator <event>" and labels it with the event's trace id, repository, branch and
 * PR number (metadata, and the same as `key:value` tags for filtering). Nothing else of the event or the
 * environment is put here; the secrets never are.
 */
export function langSmithRunConfig(labels: RunLabels): LangSmithRunConfig {
  const record =
    typeof labels.input === "object" && labels.input !== null ? (labels.input as Record<string, unknown>) : {};
  const named = text(record, "event");
  const event = named && INPUT_EVENTS.includes(named) ? named : undefined;
  const known: [string, string | number | undefined][] = [
    ["event", event],
    ["trace_id", text(record, "trace_id")],
    ["repo", text(record, "repo")],
    ["branch", text(record, "branch") ?? text(record, "base_branch")],
    ["pr_number", labels.pr_number ?? undefined],
  ];
  const metadata: Record<string, string | number> = { agent: "pr-creator", execution_id: labels.execution_id };
  const tags = ["pr-creator"];
  for (const [key, value] of known) {
    if (value === undefined) continue;
    metadata[key] = value;
    tags.push(`${key}:${value}`);
  }
  if (labels.prompts_version) metadata.prompts_version = labels.prompts_version;
  const span = trace.getSpanContext(labels.context);
  if (span && isSpanContextValid(span)) metadata.otel_trace_id = span.traceId;
  return { runName: event ? `pr-creator ${event}` : "pr-creator", metadata, tags };
}
