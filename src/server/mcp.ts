/**
 * The MCP front door: the agent's preview, create, trace lookup and rollback as MCP tools, and the policy as a
 * resource, for upstream agents that speak the Model Context Protocol. Transport-agnostic: `pr-creator mcp`
 * connects it to stdio, tests to an in-memory pair.
 */
import { readFileSync } from "node:fs";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import type { RunResult } from "../domain/run-result.js";
import { formatHuman } from "../render/run-summary.js";
import { errorText, PrCreatorError } from "../domain/errors.js";
import { ChangeRequestedSchema, CommitCompletedSchema } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import { rollback } from "../merge/rollback.js";
import type { McpAgents } from "./mcp-agents.js";
import {
  RollbackOutputSchema,
  rollbackOutput,
  rollbackText,
  RunOutputSchema,
  runOutput,
  TraceOutputSchema,
  traceText,
  type TraceOutput,
} from "./mcp-output.js";

const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  name: string;
  version: string;
};

export const POLICY_URI = "pr-creator://policy";

const EventInputSchema = z.strictObject({
  event: z
    .discriminatedUnion("event", [CommitCompletedSchema, ChangeRequestedSchema])
    .describe(
      "A CommitCompleted event (a finished commit on a branch) or a ChangeRequested event (file edits the agent commits itself), as in the README",
    ),
});

const TraceInputSchema = z.strictObject({
  trace_id: z
    .string()
    .trim()
    .min(1, "trace_id must be a non-empty string")
    .max(256, "trace_id must be at most 256 characters")
    .describe("e.g. trace-ord-8128"),
});

const RollbackInputSchema = z
  .strictObject({
    pr_id: z.number().int().positive().optional().describe("The merged PR to roll back; needs repo"),
    repo: z
      .string()
      .trim()
      .min(1)
      .optional()
      .describe("Repository of pr_id (owner/name or name on GitHub, the repository name on Azure DevOps)"),
    trace_id: z.string().trim().min(1).optional().describe("Roll back the trace's latest PR, found in memory"),
    reason: z
      .string()
      .trim()
      .min(1, "reason must say why the PR is rolled back")
      .max(1000)
      .describe("Why; goes into the revert PR, the history and the event"),
  })
  .superRefine((r, ctx) => {
    if ((r.pr_id === undefined) === (r.trace_id === undefined)) {
      ctx.addIssue({
        code: "custom",
        path: [r.pr_id === undefined ? "pr_id" : "trace_id"],
        message: "give exactly one of pr_id (with repo) and trace_id",
      });
    }
    if (r.pr_id !== undefined && r.repo === undefined)
      ctx.addIssue({ code: "custom", path: ["repo"], message: "repo is required with pr_id" });
  });

function toolError(text: string): CallToolResult {
  return { isError: true, content: [{ type: "text", text }] };
}

function failure(error: unknown, what: string): CallToolResult {
  // Anything else is a bug: the SDK turns it into a tool error and the server goes on.
  if (!(error instanceof PrCreatorError)) throw error;
  return toolError(`${what} failed (${error.reason}): ${error.paragraph}`);
}

/** A run's result: structured for programs, the CLI's human view for people. A failed run is a tool error. */
function runResult(result: RunResult): CallToolResult {
  const text = formatHuman(result) + result.warnings.map((w) => `warning: ${w}\n`).join("");
  return {
    content: [{ type: "text", text }],
    structuredContent: runOutput(result),
    isError: result.status === "failed",
  };
}

/** A URL as clients may see it: never credentials or a query; a webhook's path is its secret in practice (Slack, Teams). */
function publicUrl(text: string, keepPath: boolean): string {
  try {
    const url = new URL(text);
    return keepPath ? `${url.origin}${url.pathname}` : `${url.origin}/…`;
  } catch {
    return "(redacted)";
  }
}

function scrubUrls(value: unknown, key: string, webhook: boolean): unknown {
  if (typeof value === "string" && (key === "url" || key.endsWith("_url"))) return publicUrl(value, !webhook);
  if (Array.isArray(value)) return value.map((v) => scrubUrls(v, key, webhook));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, scrubUrls(v, k, webhook || k.includes("webhook"))]),
    );
  }
  return value;
}

/** The effective policy as served: the file's values after defaults, never an environment value. */
export function publicPolicy(policy: Policy): unknown {
  return scrubUrls(policy, "", false);
}

export interface McpFrontDoor {
  server: McpServer;
  /** Resolves once no tool call is running (for a clean shutdown). */
  idle(): Promise<void>;
}

/** Builds the MCP server over the agents; the caller connects a transport and closes the agents. */
export function createMcpServer(agents: Omit<McpAgents, "close">, opts: { now?: () => Date } = {}): McpFrontDoor {
  const { preview, live, traceRegistry } = agents;
  const now = opts.now ?? (() => new Date());
  const running = new Set<Promise<unknown>>();
  const tracked =
    <A>(work: (args: A) => Promise<CallToolResult>) =>
    async (args: A): Promise<CallToolResult> => {
      const call = work(args);
      running.add(call);
      try {
        return await call;
      } finally {
        running.delete(call);
      }
    };

  const server = new McpServer(
    { name: pkg.name, version: pkg.version },
    {
      instructions:
        "Turns CommitCompleted and ChangeRequested events into traceable, policy-checked pull requests. Call preview_pull_request first (it changes nothing), then create_pull_request. lookup_trace shows a trace's PRs; rollback_pull_request reverts a merged PR. The policy in force is the resource pr-creator://policy.",
    },
  );

  server.registerTool(
    "preview_pull_request",
    {
      title: "Preview a pull request",
      description:
        "Runs an event through the whole agent as a dry run and returns the PR it would open (title, description, branches, reviewers, labels, risk, merge plan) or why it would fail (reason, message, violations). Nothing is written: no forge write, no memory, no history, no event delivered.",
      inputSchema: EventInputSchema,
      outputSchema: RunOutputSchema,
      // Reads commits and files from the forge when one is configured, else from the local clone.
      annotations: {
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: live.forge !== null,
      },
    },
    tracked(async ({ event }) => runResult(await preview.handle(event))),
  );

  server.registerTool(
    "create_pull_request",
    {
      title: "Create a pull request",
      description: `Runs an event for real on ${live.publishesTo}: commits a change request's edits, creates or updates the PR (the same event always updates the same PR), assigns reviewers and labels, sets it to merge after CI when its risk allows, remembers it and emits the lifecycle events. Returns the status, the PR id and URL, the merge outcome and the events.`,
      inputSchema: EventInputSchema,
      outputSchema: RunOutputSchema,
      // Auto-merge lands the change on the target branch without a person when the policy allows it for some risk.
      annotations: {
        readOnlyHint: false,
        destructiveHint: live.policy.merge.auto_merge_levels.length > 0,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    tracked(async ({ event }) => {
      if (live.publishesTo === "dry-run") {
        return toolError(
          "No forge is configured (forge: dry-run), so create_pull_request cannot publish. preview_pull_request shows the PR; set forge: azure-devops or github in the config (or PR_CREATOR_FORGE) with the forge's environment variables to create it.",
        );
      }
      return runResult(await live.handle(event));
    }),
  );

  server.registerTool(
    "lookup_trace",
    {
      title: "Look up a trace",
      description:
        "The trace's audit chain from memory (its PRs, commits and branches, oldest first) and its record in the trace registry (blueprint, scope, linked files).",
      inputSchema: TraceInputSchema,
      outputSchema: TraceOutputSchema,
      annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    },
    tracked(async ({ trace_id }) => {
      const memory = live.memory;
      if (!memory && !traceRegistry) {
        return toolError(
          "lookup_trace has nothing to look in: memory is off (memory.store: none) and no trace registry is configured. Turn memory on, or start the server with --traces FILE.",
        );
      }
      let prs: TraceOutput["prs"];
      try {
        prs = memory ? await memory.chain(trace_id) : null;
      } catch (error) {
        return toolError(
          `Memory could not be read: ${errorText(error)}. Check state_file (or the Qdrant settings) in the config.`,
        );
      }
      const out: TraceOutput = {
        trace_id,
        trace: (await traceRegistry?.get(trace_id)) ?? null,
        prs,
        memory: memory?.kind ?? "off",
        trace_registry: traceRegistry !== null,
      };
      return { content: [{ type: "text", text: traceText(out) }], structuredContent: out };
    }),
  );

  server.registerTool(
    "rollback_pull_request",
    {
      title: "Roll back a merged pull request",
      description:
        "Opens a PR that reverts a merged PR (named by pr_id and repo, or the latest PR of trace_id in memory), links it to the original, lets it merge itself after CI under the policy, remembers it and emits PullRequestRollbackCreated.",
      inputSchema: RollbackInputSchema,
      outputSchema: RollbackOutputSchema,
      // Each call opens a new revert PR, and once merged it takes the original change off the target branch.
      annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
    },
    tracked(async ({ pr_id, repo, trace_id, reason }) => {
      if (!live.forge) {
        return toolError(
          "No forge is configured (forge: dry-run), so there is no merged PR to roll back. Set forge: azure-devops or github in the config (or PR_CREATOR_FORGE) with the forge's environment variables.",
        );
      }
      try {
        const result = await rollback(
          {
            forge: live.forge,
            policy: live.policy,
            memory: live.memory,
            ledger: live.ledger,
            emit: live.emit,
            now,
            watch: false,
          },
          { pr_id, repo, trace_id, reason },
        );
        const out = rollbackOutput(result);
        return {
          content: [{ type: "text", text: rollbackText(out) }],
          structuredContent: out,
          isError: result.status === "failed",
        };
      } catch (error) {
        return failure(error, "Rollback");
      }
    }),
  );

  const policyText = `${JSON.stringify(publicPolicy(live.policy), null, 2)}\n`;
  server.registerResource(
    "policy",
    POLICY_URI,
    {
      title: "Policy in force",
      description:
        "The effective policy (the config file after defaults): branch rules, title and body rules, reviewers, labels, risk, merge and rollback rules.",
      mimeType: "application/json",
    },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: "application/json", text: policyText }] }),
  );

  return {
    server,
    idle: async () => {
      while (running.size > 0) await Promise.allSettled([...running]);
    },
  };
}
