import {
  defaultTextMapGetter,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
} from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { TraceparentSchema } from "../domain/events.js";
import { PrCreatorError } from "../domain/errors.js";
import { AGENT_NAME, type ChangeRequested, type CommitCompleted } from "../domain/events.js";
import type { RunResult, RunStatus } from "../domain/run-result.js";
import { ATTR } from "./attributes.js";
import { RUN_TAGS, SPAN, type Telemetry } from "./tracing.js";
import { changeTraceId } from "../changes/apply-edits.js";

/** The seed's status tag. */
export type SeedStatus = "success" | "failed" | "skipped";

/**
 * Created and updated PRs succeeded; previews and unchanged PRs were skipped. A run paused for approval
 * published nothing yet, so it is skipped too; `outcome` tells it apart.
 */
export function seedStatusOf(status: RunStatus): SeedStatus {
  if (status === "created" || status === "updated") return "success";
  return status === "failed" ? "failed" : "skipped";
}

/** How a run ended, as its spans and its log line report it. */
export interface RunOutcome {
  execution_id: string;
  trace_id: string | null;
  repo: string | null;
  branch: string | null;
  component_scope: string | null;
  status: SeedStatus;
  /** The runner's own status, finer than `status`: previewed, unchanged, awaiting_approval, … */
  outcome: RunStatus;
  /** The failure reason when status is failed. */
  error_type: string | null;
  pr_id: number | string | null;
  duration_ms: number;
  /** Epoch ms. */
  finished_at: number;
  /** The OpenTelemetry trace id, for finding the run's spans from its log line; null when spans go nowhere. */
  otel_trace_id: string | null;
}

/** One node's step, for the per-node debug log line. */
export interface NodeStep {
  execution_id: string;
  trace_id: string | null;
  node: string;
  duration_ms: number;
  /** State keys the node wrote. */
  keys: string[];
  violations: number;
  /** The failure reason the node reported, if any. */
  failure: string | null;
}

export interface RunTraceOptions {
  execution_id: string;
  /** The event as received: its trace_id/repo/branch tag the spans even when it fails validation. */
  input?: unknown;
  /** A resumed run's checkpointed state: the tags its earlier nodes learnt. */
  state?: RunStateUpdate;
  /** Epoch ms clock (tests); default Date.now. */
  now?: () => number;
  /** Attributes of the whole run known before it starts (the prompt set's version), on the root span. */
  attributes?: Attributes;
}

export interface RunTrace {
  readonly execution_id: string;
  /** The context holding the run's root span (prcreator.start). */
  readonly context: Context;
  /** Runs `fn` inside the run's context: forge calls made anywhere below it nest under prcreator.start. */
  within<T>(fn: () => T): T;
  /** Feed every streamed node update, in order; returns the step for logNode (null for LangGraph's own keys such as __interrupt__). */
  onNode(node: string, update: RunStateUpdate | null | undefined): NodeStep | null;
  /** Ends the run's spans with its result. Later calls return the first outcome. */
  finish(result: RunResult): RunOutcome;
  /** Ends the run's spans after the runner threw. Later calls return the first outcome. */
  abort(error: unknown): RunOutcome;
}

/**
 * The part of a node's state update (or of a resumed run's checkpointed state) the spans read: the run's
 * state fits it, and the trace needs to know nothing else about the graph. Other keys are only counted.
 */
export interface RunStateUpdate {
  [key: string]: unknown;
  change_request?: ChangeRequested | null;
  change_branch?: string | null;
  target_branch?: string | null;
  event?: CommitCompleted | null;
  trace?: { component_scope: string } | null;
  drafted_by?: RunResult["drafted_by"];
  rounds?: RunResult["rounds"];
  truncation?: RunResult["truncation"];
  violations?: readonly unknown[];
  failure?: { reason: string; message?: string; attempts?: number } | null;
  published?: { id: number | string | null; status?: string; url?: string | null } | null;
}

type Update = RunStateUpdate;

interface Tags {
  trace_id?: string;
  repo?: string;
  branch?: string;
  target_branch?: string;
  component_scope?: string;
}

/** The tags as span attributes (semantic-convention names where one fits). */
function attributesOf(tags: Tags): Attributes {
  const pairs: [string, string | undefined][] = [
    [ATTR.traceId, tags.trace_id],
    [ATTR.repository, tags.repo],
    [ATTR.headRef, tags.branch],
    [ATTR.baseRef, tags.target_branch],
    [ATTR.componentScope, tags.component_scope],
  ];
  return Object.fromEntries(pairs.filter(([, value]) => value !== undefined));
}

const w3c = new W3CTraceContextPropagator();

/**
 * The caller's trace: a valid W3C `traceparent` on the event (the HTTP server copies the request's header
 * there), or on a resumed run's checkpointed input. An invalid one is ignored, as W3C asks.
 */
function remoteParent(outer: Context, ...sources: unknown[]): Context {
  for (const source of sources) {
    if (typeof source !== "object" || source === null) continue;
    const parsed = TraceparentSchema.safeParse((source as Record<string, unknown>).traceparent);
    if (parsed.success) return w3c.extract(outer, { traceparent: parsed.data }, defaultTextMapGetter);
  }
  return outer;
}

// Raw input is untrusted: a huge string must not become a huge attribute.
const clamp = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);

function tagsOfInput(input: unknown): Tags {
  if (typeof input !== "object" || input === null) return {};
  const record = input as Record<string, unknown>;
  const text = (key: keyof Tags) => {
    const value = record[key];
    return typeof value === "string" && value.trim() !== "" ? { [key]: clamp(value.trim()) } : {};
  };
  return { ...text("trace_id"), ...text("repo"), ...text("branch"), ...text("component_scope") };
}

/** Facts written by nodes override what the raw input said; the parsed event wins over a change request's guesses. */
function learn(tags: Tags, update: Update): void {
  const cr = update.change_request;
  if (cr) {
    tags.repo = cr.repo;
    tags.trace_id = changeTraceId(cr);
    if (cr.component_scope) tags.component_scope = cr.component_scope;
  }
  if (update.change_branch) tags.branch = update.change_branch;
  if (update.target_branch) tags.target_branch = update.target_branch;
  if (update.event) {
    tags.trace_id = update.event.trace_id;
    tags.repo = update.event.repo;
    tags.branch = update.event.branch;
  }
  if (update.trace) tags.component_scope = update.trace.component_scope;
}

/**
 * Turns a run's streamed node updates into the seed's spans. Updates arrive when a node has finished, so a
 * node's span runs from the previous update to this one (the graph runs one node at a time):
 * prcreator.start (root, the whole run) ├ prcreator.template.resolve (every draft ⇄ gate round)
 * │  └ prcreator.title.body.generated (one per round: draft + its gate) ├ prcreator.devops.api.request
 * (forge calls, see traceForge) └ prcreator.complete (zero-length, the outcome).
 */
export function startRunTrace(telemetry: Telemetry, options: RunTraceOptions): RunTrace {
  const now = options.now ?? Date.now;
  const { tracer } = telemetry;
  const startedAt = now();
  const tags: Tags = tagsOfInput(options.input);
  if (options.state) learn(tags, options.state);
  let prId: number | string | null = options.state?.published?.id ?? null;
  // Shared by reference with the context, so forge spans read the tags known at the time of the call.
  const common: Attributes = { [ATTR.agentName]: AGENT_NAME, [ATTR.executionId]: options.execution_id };
  const refresh = () => Object.assign(common, attributesOf(tags));
  refresh();

  // Nested under the caller's traceparent when the event carries one, else under whatever is active where the
  // run starts (an HTTP request's span, say); usually nothing.
  const outer = remoteParent(telemetry.active(), options.input, options.state?.input);
  const root = tracer.startSpan(
    SPAN.start,
    { startTime: startedAt, attributes: { ...common, ...options.attributes } },
    outer,
  );
  const context = trace.setSpan(outer, root).setValue(RUN_TAGS, common);
  let template: { span: Span; context: Context } | null = null;
  let round: Span | null = null;
  let mark = startedAt;
  let outcome: RunOutcome | null = null;

  const child = (name: string, startTime: number, parent: Context, attributes: Attributes = {}) =>
    tracer.startSpan(name, { startTime, attributes: { ...common, ...attributes } }, parent);
  const fail = (span: Span, reason: string) => {
    span.setAttributes({ [ATTR.status]: "failed", [ATTR.errorType]: reason });
    span.setStatus({ code: SpanStatusCode.ERROR, message: reason });
  };
  const closeRound = (at: number) => {
    round?.setAttributes(common);
    round?.end(at);
    round = null;
  };
  const closeTemplate = (at: number) => {
    closeRound(at);
    template?.span.setAttributes(common);
    template?.span.end(at);
    template = null;
  };

  function onDraftOrGate(node: "draft" | "gate", update: Update, started: number, at: number): void {
    if (!template) {
      const span = child(SPAN.templateResolve, started, context);
      template = { span, context: trace.setSpan(context, span) };
    }
    if (node === "draft") {
      // A new round never starts with one open; ending it anyway keeps a graph change from leaking a span.
      closeRound(started);
      round = child(
        SPAN.titleBodyGenerated,
        started,
        template.context,
        update.drafted_by ? { [ATTR.draftedBy]: update.drafted_by } : {},
      );
    }
    const checked = update.rounds?.[0];
    if (node === "gate" && checked) {
      round?.setAttributes({
        [ATTR.draftedBy]: checked.drafted_by,
        [ATTR.round]: checked.round,
        [ATTR.violations]: checked.violations.length,
      });
      template.span.setAttributes({
        [ATTR.draftedBy]: checked.drafted_by,
        [ATTR.rounds]: checked.round,
        [ATTR.violations]: checked.violations.length,
        [ATTR.truncated]: Boolean(update.truncation),
      });
    }
    if (update.failure) {
      if (round) fail(round, update.failure.reason);
      fail(template.span, update.failure.reason);
    }
    if (node === "gate") closeRound(at);
  }

  function end(result: {
    outcome: RunStatus;
    error_type: string | null;
    pr_id: number | string | null;
    error?: unknown;
  }): RunOutcome {
    if (outcome) return outcome;
    const at = now();
    closeTemplate(at);
    const status: SeedStatus = result.error_type !== null ? "failed" : seedStatusOf(result.outcome);
    const duration_ms = Math.max(0, Math.round(at - startedAt));
    const attributes: Attributes = {
      [ATTR.status]: status,
      [ATTR.durationMs]: duration_ms,
      [ATTR.outcome]: result.outcome,
    };
    if (result.error_type !== null) attributes[ATTR.errorType] = result.error_type;
    if (result.pr_id !== null) attributes[ATTR.changeId] = String(result.pr_id);

    const complete = child(SPAN.complete, at, context, attributes);
    if (result.error !== undefined)
      complete.recordException(result.error instanceof Error ? result.error : String(result.error), at);
    root.setAttributes({ ...common, ...attributes });
    if (result.error_type !== null) {
      fail(complete, result.error_type);
      fail(root, result.error_type);
    }
    // A span stops recording once ended.
    const otelTraceId = root.isRecording() ? root.spanContext().traceId : null;
    complete.end(at);
    root.end(at);
    outcome = {
      execution_id: options.execution_id,
      trace_id: tags.trace_id ?? null,
      repo: tags.repo ?? null,
      branch: tags.branch ?? null,
      component_scope: tags.component_scope ?? null,
      status,
      outcome: result.outcome,
      error_type: result.error_type,
      pr_id: result.pr_id,
      duration_ms,
      finished_at: at,
      otel_trace_id: otelTraceId,
    };
    return outcome;
  }

  return {
    execution_id: options.execution_id,
    context,
    within: (fn) => telemetry.withContext(context, fn),
    onNode(node, raw) {
      // LangGraph's own stream keys (__interrupt__) are not nodes.
      if (node.startsWith("__") || outcome) return null;
      const update = raw ?? {};
      const started = mark;
      const at = now();
      mark = at;
      learn(tags, update);
      refresh();
      if (update.published && update.published.id !== null) prId = update.published.id;
      root.setAttributes(common);

      if (node === "draft" || node === "gate") onDraftOrGate(node, update, started, at);
      else closeTemplate(started);

      const duration_ms = Math.max(0, Math.round(at - started));
      const violations = update.rounds?.[0]?.violations.length ?? update.violations?.length ?? 0;
      root.addEvent("node", { [ATTR.node]: node, [ATTR.durationMs]: duration_ms, [ATTR.violations]: violations }, at);
      return {
        execution_id: options.execution_id,
        trace_id: tags.trace_id ?? null,
        node,
        duration_ms,
        keys: Object.keys(update),
        violations,
        failure: update.failure?.reason ?? null,
      };
    },
    finish(result) {
      return end({
        outcome: result.status,
        error_type: result.status === "failed" ? (result.reason ?? "internal_error") : null,
        pr_id: result.pr?.id ?? prId,
      });
    },
    abort(error) {
      return end({
        outcome: "failed",
        error_type: error instanceof PrCreatorError ? error.reason : "internal_error",
        pr_id: prId,
        error,
      });
    },
  };
}
