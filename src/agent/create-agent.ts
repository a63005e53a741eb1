import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { PrCreatorError } from "../domain/errors.js";
import type { BaseChatModel } from "@langchain/core/language_models/chat_models";
import type { BaseCheckpointSaver } from "@langchain/langgraph";
import type { CommitSource } from "../domain/commit.js";
import type { LifecycleEvent } from "../domain/events.js";
import { FORGE_KINDS, type Policy } from "../domain/policy.js";
import { describeSetting } from "../domain/input-names.js";
import { withoutUrlCredentials } from "../domain/url-credentials.js";
import { createEventDelivery } from "../events/delivery.js";
import { withFailureAlerts } from "../events/failure-streak.js";
import { openStreakStore } from "../events/failure-streak-store.js";
import type { EventSink } from "../events/sinks.js";
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
import { createLogger, resolveLogLevel, secretValuesFromEnv, type Logger } from "../logging/run-log.js";
import { traceForge } from "../telemetry/traced-forge.js";
import { createTelemetry, type Telemetry } from "../telemetry/tracing.js";
import { loadPromptSet } from "../prompts/prompts.js";
import type { RunResult } from "../domain/run-result.js";
import type { ViolationCode } from "../domain/violations.js";
import { checkStateFilePath } from "../state/state-db.js";
import type { Database } from "../postgres/database.js";
import { openSharedState } from "../postgres/shared-state.js";
import { createRunner, type RunOptions } from "./run.js";
import { createTracking } from "./tracking.js";
import type { ApprovalDecision } from "../domain/run-result.js";

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
  /**
   * The PostgreSQL database for the shared state (history, outboxes, streaks, memory), which the caller closes; null
   * keeps the state file. Default: PR_CREATOR_DATABASE_URL or `database.url`, opened here and closed by close().
   */
  database?: Database | null;
  /** Long-term memory; null turns it off. Default: from `memory:` in the policy (the state file). */
  memory?: { memory: PrMemory; pending: PendingRecords | null } | null;
  /** JSON-lines file for lifecycle events; overrides the config's `events.jsonl_file`. */
  eventsFile?: string;
  /** Extra event sinks (the CLI and tests collect events here). */
  sinks?: EventSink[];
  /** Where `events.stdout` writes its JSON lines; default process.stdout (the CLI uses stderr under --json). */
  writeEvent?: (line: string) => void;
  now?: () => Date;
  cwd?: string;
  /** The drafting model; null forces the deterministic drafter. Default: from `model:` in the policy and the environment. */
  model?: BaseChatModel | null;
  /** Environment for the model factory (default: process.env). */
  env?: Readonly<Record<string, string | undefined>>;
  /** Follow auto-merging PRs until they merge, a check fails, or merge.watch_timeout_ms passes. */
  watch?: boolean;
  /** Where runs keep their checkpoints (the workers' Postgres saver); default: the state file, when approvals are on. */
  checkpointer?: BaseCheckpointSaver;
  /**
   * Parse workers for the digest when the policy leaves `digest.parse_workers` unset. The CLI's one-shot
   * commands pass 0: for a single run a worker's start costs more CPU and memory than it saves, and no other
   * run's I/O waits on the event loop.
   */
  defaultParseWorkers?: number;
  /** Gate rules (violation codes) to switch off: for eval ablations only. */
  disabledRules?: readonly ViolationCode[];
  /** Metrics and the PR history; default: new metrics and the history in the state file. */
  ledger?: Ledger;
  /** Spans; default: from `telemetry:` and OTEL_EXPORTER_OTLP_ENDPOINT (no export without it). */
  telemetry?: Telemetry;
  /** The run log; default: JSON lines on stderr at `logging.level` (env PR_CREATOR_LOG_LEVEL wins). */
  logger?: Logger;
  /** Log every node (debug level), as the CLI's --verbose does. */
  verbose?: boolean;
  /** Stderr is a terminal a person reads: the JSON log stays off unless asked for (see resolveLogLevel). */
  terminal?: boolean;
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
  /** The state file (absolute): checkpoints, memory, history, the event outbox. */
  stateFile: string;
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
  const source =
    policy.body.template ??
    (policy.body.template_file
      ? await readFile(policy.body.template_file, "utf8").catch(() => null)
      : DEFAULT_TEMPLATE);
  if (source === null) {
    throw new PrCreatorError("invalid_config", `The body template file ${policy.body.template_file} cannot be read.`, {
      hint: "Fix body.template_file in the config.",
    });
  }
  const unknown = unknownVariables(source);
  if (unknown.length > 0) {
    throw new PrCreatorError(
      "invalid_config",
      `The body template uses unknown variable${unknown.length > 1 ? "s" : ""} ${unknown.map((u) => `\${${u}}`).join(", ")}.`,
      {
        hint: "Use only the variables the README lists.",
      },
    );
  }
  return source;
}

/** A local clone when asked for (or when there is no forge to ask), else the forge's API. */
function commitSourceFor(policy: Policy, forge: Forge | null, repoPath: string | undefined, cwd: string): CommitSource {
  const local = () => createLocalGitSource(path.resolve(cwd, repoPath ?? "."));
  if (policy.commit_source === "local") return local();
  if (policy.commit_source === "forge") {
    if (!forge)
      throw new PrCreatorError("invalid_config", "commit_source is forge but no forge is configured.", {
        hint: "Set forge: azure-devops or github, or commit_source: auto.",
      });
    return forge.commits;
  }
  return repoPath !== undefined || !forge ? local() : forge.commits;
}

/**
 * The environment a forge is built from: PR_CREATOR_FORGE checked, and no URL with user info in it
 * (GITHUB_API_URL=https://user:password@host): the token comes from its own variable, fetch refuses such URLs,
 * and the forge's messages must not carry the password. A wrong PR_CREATOR_FORGE is refused without echoing
 * it when it is a configured secret (a token in the wrong variable), otherwise by at most a short prefix.
 */
export function forgeEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string | undefined> {
  const value = env.PR_CREATOR_FORGE?.trim();
  if (value && !(FORGE_KINDS as readonly string[]).includes(value)) {
    throw new PrCreatorError(
      "invalid_config",
      `${describeSetting("PR_CREATOR_FORGE", value, secretValuesFromEnv(env))}; expected one of ${FORGE_KINDS.join(", ")}.`,
      { hint: "Fix or unset the variable." },
    );
  }
  return withoutUrlCredentials({ ...env });
}

/**
 * The drafting model from policy and environment (model.ts), or null for the deterministic drafter. The model
 * stack (@langchain/openai and the OpenAI client, a fifth of a second to load) loads only when a provider is
 * configured; an invalid PR_CREATOR_MODEL_PROVIDER is not "none", so model.ts still reports it.
 */
async function chatModelFor(policy: Policy, env: Readonly<Record<string, string | undefined>>) {
  if ((env.PR_CREATOR_MODEL_PROVIDER?.trim() || policy.model.provider) === "none") return null;
  const { createChatModel } = await import("./model.js");
  return createChatModel(policy, env);
}

/**
 * The configured forge (create-forge.ts), or null for a dry run. The forge clients (Octokit,
 * azure-devops-node-api) load only when a forge is configured; `env` has passed forgeEnv's check.
 */
async function forgeFor(policy: Policy, env: Record<string, string | undefined>, stateFile: string) {
  if ((env.PR_CREATOR_FORGE?.trim() || policy.forge) === "dry-run") return null;
  const { createForge } = await import("../forges/create-forge.js");
  return createForge(policy, env, undefined, stateFile);
}

/** Builds the agent from config: policy, trace registry, commit source, publisher and event sinks. */
export async function createAgent(options: AgentOptions = {}): Promise<Agent> {
  const cwd = options.cwd ?? process.cwd();
  const loaded = options.policy ? { policy: options.policy, source: null } : await loadPolicy(options.configFile, cwd);
  const policy =
    options.defaultParseWorkers !== undefined && loaded.policy.digest.parse_workers === undefined
      ? {
          ...loaded.policy,
          digest: { ...loaded.policy.digest, parse_workers: options.defaultParseWorkers },
        }
      : loaded.policy;
  const tracesFile = options.tracesFile ? path.resolve(cwd, options.tracesFile) : policy.trace_registry;
  const traceRegistry = options.traceRegistry ?? (tracesFile ? await loadTraceRegistryFile(tracesFile) : null);
  const eventsFile = options.eventsFile ? path.resolve(cwd, options.eventsFile) : policy.events.jsonl_file;
  if (eventsFile && (await stat(eventsFile).catch(() => undefined))?.isDirectory()) {
    throw new PrCreatorError("invalid_config", `The events file ${eventsFile} is a directory.`, {
      hint: "Point --events (or events.jsonl_file) at a file; it is created if missing.",
    });
  }
  const stateFile = path.resolve(cwd, policy.state_file);
  await checkStateFilePath(stateFile);
  const shared = await openSharedState(policy, options.env ?? process.env, stateFile, {
    database: options.database,
    now: options.now,
  });
  const delivery = createEventDelivery({
    policy: eventsFile ? { ...policy, events: { ...policy.events, jsonl_file: eventsFile } } : policy,
    stateFile,
    ...(shared.outbox ? { outbox: shared.outbox } : {}),
    env: options.env ?? process.env,
    extraSinks: options.sinks ?? [],
    write: options.writeEvent ?? ((line) => process.stdout.write(line)),
  });
  // Repeated failures for one repository raise one PullRequestAlert (alerts.consecutive_failures).
  const alerts = withFailureAlerts((event) => delivery.emit(event), {
    threshold: policy.alerts.consecutive_failures,
    store: shared.streaks ?? (() => openStreakStore(stateFile)),
    now: options.now ?? (() => new Date()),
  });
  const choice = options.model === undefined ? await chatModelFor(policy, options.env ?? process.env) : null;
  const model = options.model === undefined ? (choice?.model ?? null) : options.model;
  const drafter =
    options.model === undefined
      ? (choice?.description ?? "deterministic")
      : options.model
        ? "custom model"
        : "deterministic";
  const env = options.env ?? process.env;
  // The OpenTelemetry SDK reads its OTEL_* settings from the process environment itself.
  const telemetry = options.telemetry ?? createTelemetry({ serviceName: policy.telemetry.service_name });
  const logger =
    options.logger ??
    createLogger({
      // The level is the operator's: PR_CREATOR_LOG_LEVEL from the process counts even when `env` is passed for secrets.
      level: resolveLogLevel({
        configured: policy.logging.level,
        env: { PR_CREATOR_LOG_LEVEL: process.env.PR_CREATOR_LOG_LEVEL, ...env },
        verbose: options.verbose,
        terminal: options.terminal,
      }),
      secrets: secretValuesFromEnv(
        env,
        [...policy.events.webhooks, policy.events.failure_webhook].flatMap((w) => w?.secret_env ?? []),
      ),
    });
  // Every forge call — publishing, merging, watching, rolling back — becomes a prcreator.devops.api.request span.
  const rawForge =
    options.forge === undefined
      ? await forgeFor(withoutUrlCredentials(policy), forgeEnv(env), stateFile)
      : options.forge;
  const forge = rawForge ? traceForge(rawForge, telemetry) : null;
  const tracking = createTracking({
    policy,
    env,
    stateFile,
    ...(shared.trackerOutbox ? { trackerOutbox: shared.trackerOutbox } : {}),
    forge,
    logger,
    secrets: secretValuesFromEnv(env),
    now: options.now,
  });
  const publisher =
    options.publisher ?? (forge && !options.dryRun ? createForgePublisher(forge) : createDryRunPublisher());
  const memorySetup =
    options.memory === undefined
      ? createMemory(policy, stateFile, options.env ?? process.env, shared.database)
      : options.memory;
  const deps: AgentDeps = {
    policy,
    template: await loadTemplate(policy),
    traceRegistry,
    traceRegistrySource: options.traceRegistry ? "the provided registry" : (tracesFile ?? "none"),
    commitSource: options.commitSource ?? commitSourceFor(policy, forge, options.repoPath, cwd),
    publisher,
    // Events go to files, webhooks and other agents: no URL in them keeps its user info.
    emit: (event: LifecycleEvent) => alerts.emit(withoutUrlCredentials(event)),
    now: options.now ?? (() => new Date()),
    model,
    memory: memorySetup?.memory ?? null,
    pending: memorySetup?.pending ?? null,
    forge: forge ?? null,
    ledger: options.ledger ?? createLedger(shared.history),
    watch: options.watch ?? false,
    tracker: tracking.notifier,
    prompts: await loadPromptSet(policy.prompts.dir),
    ...(options.disabledRules?.length ? { disabledRules: new Set(options.disabledRules) } : {}),
  };
  const checkpoints =
    !options.checkpointer && policy.approval.on_violations.length > 0 ? await openCheckpoints(stateFile) : undefined;
  const saver = options.checkpointer ?? checkpoints?.saver;
  const graph = buildGraph(deps, saver);
  const runner = createRunner(graph, saver, { telemetry, logger, promptsVersion: deps.prompts?.version });
  const withOutbox = async (run: () => Promise<RunResult>): Promise<RunResult> => {
    const flushed = await delivery.flush().then(
      () => null,
      (error: unknown) =>
        `Events waiting in the outbox could not be re-sent (${error instanceof Error ? error.message : String(error)}).`,
    );
    const result = await run();
    return flushed ? { ...result, warnings: [...result.warnings, flushed] } : result;
  };
  const memoryDescription =
    options.memory === undefined
      ? memorySetup && "description" in memorySetup
        ? String(memorySetup.description)
        : "off"
      : memorySetup
        ? "provided"
        : "off";
  return {
    policy,
    policySource: loaded.source,
    drafter,
    publishesTo: publisher.kind,
    forge: deps.forge,
    ledger: deps.ledger,
    stateFile,
    // Events of watch and rollback reach the tracker here; the graph's own go through its track node.
    emit: tracking.emitting(deps.emit),
    memory: deps.memory,
    memoryDescription,
    graph,
    // Events that waited in the outbox go out before this run's own.
    // Results go to stdout, HTTP and MCP clients: no URL in them keeps its user info.
    handle: async (event, runOptions) =>
      withoutUrlCredentials(await withOutbox(() => runner.handle(event, runOptions))),
    resume: async (threadId, decision, runOptions) =>
      withoutUrlCredentials(await withOutbox(() => runner.resume(threadId, decision, runOptions))),
    close: async () => {
      await delivery.close();
      await tracking.close();
      await alerts.close();
      checkpoints?.close();
      await deps.memory?.close();
      if (!options.ledger) await deps.ledger.close();
      await shared.close();
      if (!options.telemetry) await telemetry.shutdown();
    },
  };
}
