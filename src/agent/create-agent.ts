import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { PrCreatorError } from "../domain/errors.js";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { CommitSource } from "../domain/commit.js";
import type { LifecycleEvent } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import { createJsonlFileSink, fanOut, type EventSink } from "../events/sinks.js";
import { createForge } from "../forges/create-forge.js";
import type { Forge } from "../forges/forge.js";
import { createForgePublisher } from "../forges/forge-publisher.js";
import { createLocalGitSource } from "../forges/local-git.js";
import { createDryRunPublisher, type Publisher } from "../forges/publisher.js";
import { loadPolicy } from "../policy/load-policy.js";
import { loadTraceRegistryFile, type TraceRegistry } from "../policy/trace-registry.js";
import { DEFAULT_TEMPLATE, unknownVariables } from "../render/template.js";
import type { AgentDeps } from "./deps.js";
import { buildGraph, type AgentGraph } from "./graph.js";
import { createMemory } from "../memory/create-memory.js";
import { createLedger, type Ledger } from "../merge/ledger.js";
import type { PendingRecords } from "../memory/pending.js";
import type { PrMemory } from "../memory/pr-memory.js";
import { openCheckpoints } from "./checkpoints.js";
import { createChatModel } from "./model.js";
import { createRunner, type RunOptions, type RunResult } from "./run.js";
import type { ApprovalDecision } from "./state.js";

export interface AgentOptions {
  /** Config file; else ./pr-creator.yaml when present; else the built-in policy. Ignored when `policy` is given. */
  configFile?: string;
  policy?: Policy;
  /** Trace registry file; overrides the config's `trace_registry`. */
  tracesFile?: string;
  traceRegistry?: TraceRegistry;
  /** Local clone to read commits from. Default: the working directory, unless a forge is configured (then its API). */
  repoPath?: string;
  commitSource?: CommitSource;
  publisher?: Publisher;
  /** The forge to publish to; default: from `forge:` in the policy and the environment. */
  forge?: Forge | null;
  /** Preview only, whatever forge is configured. */
  dryRun?: boolean;
  /** Long-term memory; null turns it off. Default: from `memory:` in the policy (the state file). */
  memory?: { memory: PrMemory; pending: PendingRecords | null } | null;
  /** JSON-lines file for lifecycle events; overrides the config's `events.jsonl_file`. */
  eventsFile?: string;
  /** Extra event sinks (the CLI and tests collect events here). */
  sinks?: EventSink[];
  now?: () => Date;
  cwd?: string;
  /** The drafting model; null forces the deterministic drafter. Default: from `model:` in the policy and the environment. */
  model?: BaseChatModel | null;
  /** Environment for the model factory (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Follow auto-merging PRs until they merge, a check fails, or merge.watch_timeout_ms passes. */
  watch?: boolean;
  /** Metrics and the PR history; default: new metrics and the history in the state file. */
  ledger?: Ledger;
}

export interface Agent {
  policy: Policy;
  policySource: string | null;
  /** Which model drafts, for people ("openai gpt-4o-mini"); "deterministic" without one. */
  drafter: string;
  /** Where PRs go: "dry-run", "azure-devops" or "github". */
  publishesTo: Publisher["kind"];
  /** The forge PRs go to (null for dry-run only setups), for watch and rollback. */
  forge: Forge | null;
  /** Metrics and the PR history this agent writes. */
  ledger: Ledger;
  /** Delivers a lifecycle event to the configured sinks (for watch and rollback). */
  emit: (event: LifecycleEvent) => Promise<void>;
  /** The memory in use (for the trace and memory commands); null when off. */
  memory: PrMemory | null;
  memoryDescription: string;
  graph: AgentGraph;
  /** Handles one event (any JSON value; it is validated) and resolves to the run's result. Never rejects for bad input. */
  handle(event: unknown, options?: RunOptions): Promise<RunResult>;
  /** Continues a run paused for approval (status awaiting_approval) with a person's decision. */
  resume(threadId: string, decision: ApprovalDecision, options?: RunOptions): Promise<RunResult>;
  /** Releases the state file, if one is open. */
  close(): Promise<void>;
}

async function loadTemplate(policy: Policy): Promise<string> {
  const source = policy.body.template ?? (policy.body.template_file ? await readFile(policy.body.template_file, "utf8").catch(() => null) : DEFAULT_TEMPLATE);
  if (source === null) {
    throw new PrCreatorError("invalid_config", `The body template file ${policy.body.template_file} cannot be read.`, { hint: "Fix body.template_file in the config." });
  }
  const unknown = unknownVariables(source);
  if (unknown.length > 0) {
    throw new PrCreatorError("invalid_config", `The body template uses unknown variable${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `\${${u}}`).join(", ")}.`, {
      hint: "Use only the variables the README lists.",
    });
  }
  return source;
}

/** A local clone when asked for (or when there is no forge to ask), else the forge's API. */
function commitSourceFor(policy: Policy, forge: Forge | null, repoPath: string | undefined, cwd: string): CommitSource {
  const local = () => createLocalGitSource(path.resolve(cwd, repoPath ?? "."));
  if (policy.commit_source === "local") return local();
  if (policy.commit_source === "forge") {
    if (!forge) throw new PrCreatorError("invalid_config", "commit_source is forge but no forge is configured.", { hint: "Set forge: azure-devops or github, or commit_source: auto." });
    return forge.commits;
  }
  return repoPath !== undefined || !forge ? local() : forge.commits;
}

/** Builds the agent from config: policy, trace registry, commit source, publisher and event sinks. */
export async function createAgent(options: AgentOptions = {}): Promise<Agent> {
  const cwd = options.cwd ?? process.cwd();
  const loaded = options.policy ? { policy: options.policy, source: null } : await loadPolicy(options.configFile, cwd);
  const policy = loaded.policy;
  const tracesFile = options.tracesFile ? path.resolve(cwd, options.tracesFile) : policy.trace_registry;
  const traceRegistry = options.traceRegistry ?? (tracesFile ? await loadTraceRegistryFile(tracesFile) : null);
  const eventsFile = options.eventsFile ? path.resolve(cwd, options.eventsFile) : policy.events.jsonl_file;
  if (eventsFile && (await stat(eventsFile).catch(() => undefined))?.isDirectory()) {
    throw new PrCreatorError("invalid_config", `The events file ${eventsFile} is a directory.`, { hint: "Point --events (or events.jsonl_file) at a file; it is created if missing." });
  }
  const sinks = [...(eventsFile ? [createJsonlFileSink(eventsFile)] : []), ...(options.sinks ?? [])];
  const choice = options.model === undefined ? createChatModel(policy, options.env ?? process.env) : null;
  const model = options.model === undefined ? (choice?.model ?? null) : options.model;
  const drafter = options.model === undefined ? (choice?.description ?? "deterministic") : options.model ? "custom model" : "deterministic";
  const forge = options.forge === undefined ? createForge(policy, options.env ?? process.env) : options.forge;
  const publisher = options.publisher ?? (forge && !options.dryRun ? createForgePublisher(forge) : createDryRunPublisher());
  const stateFile = path.resolve(cwd, policy.state_file);
  const memorySetup = options.memory === undefined ? createMemory(policy, stateFile, options.env ?? process.env) : options.memory;
  const deps: AgentDeps = {
    policy,
    template: await loadTemplate(policy),
    traceRegistry,
    traceRegistrySource: options.traceRegistry ? "the provided registry" : (tracesFile ?? "none"),
    commitSource: options.commitSource ?? commitSourceFor(policy, forge, options.repoPath, cwd),
    publisher,
    emit: fanOut(sinks) as (event: LifecycleEvent) => Promise<void>,
    now: options.now ?? (() => new Date()),
    model,
    memory: memorySetup?.memory ?? null,
    pending: memorySetup?.pending ?? null,
    forge: forge ?? null,
    ledger: options.ledger ?? createLedger(stateFile),
    watch: options.watch ?? false,
  };
  const checkpoints = policy.approval.on_violations.length > 0 ? await openCheckpoints(stateFile) : undefined;
  const graph = buildGraph(deps, checkpoints?.saver);
  const runner = createRunner(graph, checkpoints?.saver);
  const memoryDescription = options.memory === undefined ? (memorySetup && "description" in memorySetup ? String(memorySetup.description) : "off") : memorySetup ? "provided" : "off";
  return {
    policy,
    policySource: loaded.source,
    drafter,
    publishesTo: publisher.kind,
    forge: deps.forge,
    ledger: deps.ledger,
    emit: deps.emit,
    memory: deps.memory,
    memoryDescription,
    graph,
    ...runner,
    close: async () => {
      checkpoints?.close();
      await deps.memory?.close();
      if (!options.ledger) await deps.ledger.close();
    },
  };
}
