import { Command, type BaseCheckpointSaver } from "@langchain/langgraph";
import { PrCreatorError } from "../domain/errors.js";
import { threadIdFor, type ApprovalDecision, type ApprovalRequest, type RunResult } from "../domain/run-result.js";
import { logNode, logRun, type Logger } from "../logging/run-log.js";
import { ATTR } from "../telemetry/attributes.js";
import { langSmithRunConfig, type LangSmithRunConfig } from "../telemetry/langsmith.js";
import { startRunTrace } from "../telemetry/run-trace.js";
import type { Telemetry } from "../telemetry/tracing.js";
import type { AgentGraph } from "./graph.js";
import type { GraphOutputKey } from "./graph-io.js";
import type { AgentStateType } from "./state.js";

type ResultBase = Omit<RunResult, "status" | "reason" | "message" | "approval">;

// Only output keys: without a checkpointer the final state is the graph's output (graph-io.ts), nothing more.
function baseOf(state: Pick<AgentStateType, GraphOutputKey>): ResultBase {
  const violations = state.violations.map(({ code, message }) => ({ code, message }));
  const pr = state.pr ? { id: state.published?.id ?? null, url: state.published?.url ?? null, ...state.pr } : null;
  return {
    pr,
    violations,
    events: state.events,
    merge: state.merge_outcome,
    drafted_by: state.drafted_by,
    truncation: state.truncation,
    warnings: state.warnings,
    undelivered: state.undelivered,
    usage: state.usage,
    rounds: state.rounds,
    approvals: state.approvals,
    memory: {
      earlier_prs: state.earlier_prs.map(({ pr_id, url, commit_hash, source_branch, status, updated_at }) => ({
        pr_id,
        url,
        commit_hash,
        source_branch,
        status,
        updated_at,
      })),
      recalled: state.recalled,
      possible_duplicates: state.possible_duplicates,
      unavailable: state.memory_unavailable,
    },
  };
}

function resultOf(state: Pick<AgentStateType, GraphOutputKey>): RunResult {
  const base = baseOf(state);
  if (state.failure) return { status: "failed", reason: state.failure.reason, message: state.failure.message, ...base };
  return { status: state.published!.status, ...base };
}

/** Called after each node with what it wrote, for people watching a run (the debugger). */
export type UpdateListener = (node: string, update: Partial<AgentStateType>) => void;

export interface RunOptions {
  onUpdate?: UpdateListener;
}

export interface Runner {
  handle(input: unknown, options?: RunOptions): Promise<RunResult>;
  resume(threadId: string, decision: ApprovalDecision, options?: RunOptions): Promise<RunResult>;
}

type GraphInput = Parameters<AgentGraph["invoke"]>[0];

/** Streams node updates to the listener and keeps the final state. */
async function execute(
  graph: AgentGraph,
  input: GraphInput,
  config: { configurable?: { thread_id: string } } & Partial<LangSmithRunConfig>,
  onUpdate: UpdateListener,
): Promise<AgentStateType> {
  let final: AgentStateType | undefined;
  // "sync": each step's checkpoint is written before the next step starts, so a process killed inside a node
  // leaves the thread at its last finished step (LangGraph's default, "async", may leave no checkpoint at all).
  const options = {
    ...config,
    streamMode: ["updates", "values"] as ("updates" | "values")[],
    durability: "sync" as const,
  };
  for await (const [mode, chunk] of await graph.stream(input, options)) {
    if (mode === "values") final = chunk as AgentStateType;
    else {
      for (const [node, update] of Object.entries(chunk as Record<string, Partial<AgentStateType>>)) {
        // A pause shows up as an `__interrupt__` pseudo-node; it wrote no state.
        if (!node.startsWith("__")) onUpdate(node, update ?? {});
      }
    }
  }
  // With a checkpointer the saved state is the whole truth, also when the run paused mid-way.
  if (config.configurable) return (await graph.getState(config)).values as AgentStateType;
  return final!;
}

/** What a runner reports to: spans (OpenTelemetry) and the run's log lines. */
export interface RunObservers {
  telemetry: Telemetry;
  logger: Logger;
  /** The prompt set's version, recorded in every result and on the run's span. */
  promptsVersion?: string;
}

/**
 * Runs events through the graph; with a checkpointer, paused runs survive the process and resume by thread id.
 * Every run is one `prcreator.start` span (forge calls nest under it, even with runs in parallel) and ends
 * with one log line.
 */
export function createRunner(
  graph: AgentGraph,
  checkpointer: BaseCheckpointSaver | undefined,
  observers: RunObservers,
): Runner {
  const configFor = (thread_id: string) => ({ configurable: { thread_id } });

  async function observed(
    input: unknown,
    state: Partial<AgentStateType> | undefined,
    options: RunOptions,
    go: (onUpdate: UpdateListener, labels: LangSmithRunConfig) => Promise<RunResult>,
  ): Promise<RunResult> {
    const execution_id = `exec-${crypto.randomUUID()}`;
    const prompts = observers.promptsVersion ? { prompts_version: observers.promptsVersion } : {};
    const run = startRunTrace(observers.telemetry, {
      execution_id,
      input,
      ...(state ? { state } : {}),
      ...(observers.promptsVersion ? { attributes: { [ATTR.promptsVersion]: observers.promptsVersion } } : {}),
    });
    // LangSmith (when LANGSMITH_TRACING is on) names the root run after the agent and labels it.
    const labels = langSmithRunConfig({
      input: input ?? state?.input,
      execution_id,
      context: run.context,
      ...prompts,
      pr_number: state?.published?.id ?? null,
    });
    const onUpdate: UpdateListener = (node, update) => {
      const step = run.onNode(node, update);
      if (step) logNode(observers.logger, step);
      options.onUpdate?.(node, update);
    };
    try {
      const result: RunResult = { ...(await run.within(() => go(onUpdate, labels))), ...prompts };
      logRun(observers.logger, result, run.finish(result));
      return result;
    } catch (error) {
      logRun(observers.logger, null, run.abort(error));
      throw error;
    }
  }

  async function outcome(threadId: string, state: AgentStateType): Promise<RunResult> {
    const snapshot = await graph.getState(configFor(threadId));
    const pending = snapshot.tasks.flatMap((t) => t.interrupts)[0];
    if (!pending) return resultOf(state);
    const request = pending.value as ApprovalRequest;
    return {
      ...baseOf(state),
      status: "awaiting_approval",
      reason: state.failure?.reason,
      message: `${request.message} Waiting for a person: pr-creator resume ${threadId} --approve | --reject [--reason TEXT].`,
      approval: { thread_id: threadId, request },
    };
  }

  return {
    handle(input, options = {}) {
      return observed(input, undefined, options, async (onUpdate, labels) => {
        if (!checkpointer) return resultOf(await execute(graph, { input }, labels, onUpdate));
        const threadId = threadIdFor(input);
        const existing = await graph.getState(configFor(threadId));
        if (existing.next.length > 0) {
          const paused = existing.tasks.some((t) => t.interrupts.length > 0);
          if (paused) return outcome(threadId, existing.values as AgentStateType);
          // A run cut off mid-way (a crash) continues from its last checkpoint; every step after it is idempotent.
          return outcome(threadId, await execute(graph, null, { ...configFor(threadId), ...labels }, onUpdate));
        }
        // A finished earlier run of the same event starts over: its reducers must not carry into this one.
        if (existing.values && Object.keys(existing.values).length > 0) await checkpointer.deleteThread(threadId);
        return outcome(threadId, await execute(graph, { input }, { ...configFor(threadId), ...labels }, onUpdate));
      });
    },
    async resume(threadId, decision, options = {}) {
      if (!checkpointer) {
        throw new PrCreatorError(
          "invalid_request",
          "Nothing can be resumed: approvals are off, so no run was paused.",
          {
            hint: "Set approval.on_violations in the config to let people approve failures.",
          },
        );
      }
      const existing = await graph.getState(configFor(threadId));
      if (existing.next.length === 0) {
        throw new PrCreatorError("invalid_request", `No run is waiting for approval on thread ${threadId}.`, {
          hint: "Use the thread id printed by the paused run, with the same --config (the state file holds the checkpoint).",
        });
      }
      // Intake does not run again: the checkpointed state names the trace, repo, branch and scope for the span.
      return observed(undefined, existing.values as Partial<AgentStateType>, options, async (onUpdate, labels) =>
        outcome(
          threadId,
          await execute(graph, new Command({ resume: decision }), { ...configFor(threadId), ...labels }, onUpdate),
        ),
      );
    },
  };
}
