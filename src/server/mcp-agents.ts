import path from "node:path";
import { createAgent, type Agent, type AgentOptions } from "../agent/create-agent.js";
import type { Policy } from "../domain/policy.js";
import { createLedger } from "../merge/ledger.js";
import type { PrMemory } from "../memory/pr-memory.js";
import { loadPolicy } from "../policy/load-policy.js";
import { loadTraceRegistryFile, type TraceRegistry } from "../policy/trace-registry.js";

/** The agents behind the MCP tools, and the trace registry `lookup_trace` reads. */
export interface McpAgents {
  /** Dry run with no side effects at all: no forge write, no memory write, no history, no event delivered, no approval pause. */
  preview: Agent;
  /** The configured agent: publishes to the forge, remembers, records and emits. */
  live: Agent;
  traceRegistry: TraceRegistry | null;
  close(): Promise<void>;
}

/** Memory as a preview uses it: recall and lookups only. The live agent owns the store, so closing is its job. */
function readOnlyMemory(memory: PrMemory): PrMemory {
  return {
    kind: memory.kind,
    remember: async () => undefined,
    recall: (query) => memory.recall(query),
    nearest: (text, filter) => memory.nearest(text, filter),
    chain: (traceId) => memory.chain(traceId),
    history: (opts) => memory.history(opts),
    close: async () => undefined,
  };
}

/**
 * A preview must not reach anyone: events go to no sink (a failed preview would otherwise page the
 * failure webhook) and no outbox (whose flush would deliver other runs' events), and a violation fails at
 * once rather than pausing for a person no one will ask.
 */
function previewPolicy(policy: Policy): Policy {
  return {
    ...policy,
    events: {
      ...policy.events,
      jsonl_file: undefined,
      stdout: false,
      webhooks: [],
      failure_webhook: undefined,
      outbox: false,
    },
    approval: { ...policy.approval, on_violations: [] },
  };
}

/**
 * Builds the live agent from `options` and a preview agent beside it that shares its forge client and reads
 * its memory. Stdout carries the MCP protocol, so the live agent never prints events there.
 */
export async function openMcpAgents(options: AgentOptions = {}): Promise<McpAgents> {
  const cwd = options.cwd ?? process.cwd();
  const policy = options.policy ?? (await loadPolicy(options.configFile, cwd)).policy;
  // First, so a broken registry fails before any agent holds the state file open.
  const tracesFile = options.tracesFile ? path.resolve(cwd, options.tracesFile) : policy.trace_registry;
  const traceRegistry = options.traceRegistry ?? (tracesFile ? await loadTraceRegistryFile(tracesFile) : null);
  const live = await createAgent({
    ...options,
    cwd,
    policy: { ...policy, events: { ...policy.events, stdout: false } },
  });
  try {
    const preview = await createAgent({
      ...options,
      cwd,
      policy: previewPolicy(policy),
      dryRun: true,
      forge: live.forge,
      memory: live.memory ? { memory: readOnlyMemory(live.memory), pending: null } : null,
      ledger: createLedger(null),
      eventsFile: undefined,
      sinks: [],
      watch: false,
    });
    return {
      preview,
      live,
      traceRegistry,
      close: async () => {
        await preview.close();
        await live.close();
      },
    };
  } catch (error) {
    await live.close();
    throw error;
  }
}
