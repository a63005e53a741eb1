import { Presets, SingleBar } from "cli-progress";
import path from "node:path";
import { createAgent, forgeEnv, type AgentOptions } from "../agent/create-agent.js";
import { withoutUrlCredentials } from "../domain/url-credentials.js";
import { createForge } from "../forges/create-forge.js";
import { recordFromPullRequest } from "../memory/import.js";
import { loadTraceRegistryFile } from "../policy/trace-registry.js";
import { PrCreatorError } from "../domain/errors.js";
import type { PrRecord } from "../memory/store.js";
import { checkRepoName } from "./options.js";
import type { Io } from "./run-command.js";

export interface MemoryCommandOptions {
  config?: string;
  json?: boolean;
}

function options(opts: MemoryCommandOptions, io: Io): AgentOptions {
  // These commands read memory only: no forge, no model, no trace registry is needed.
  return { configFile: opts.config, cwd: io.cwd, model: null, forge: null };
}

async function withMemory<T>(
  opts: MemoryCommandOptions,
  io: Io,
  work: (memory: NonNullable<Awaited<ReturnType<typeof createAgent>>["memory"]>) => Promise<T>,
): Promise<T> {
  const agent = await createAgent(options(opts, io));
  try {
    if (!agent.memory) {
      throw new PrCreatorError("invalid_config", "Memory is off (memory.store: none).", {
        hint: "Set memory.store to sqlite or qdrant in the config.",
      });
    }
    return await work(agent.memory);
  } catch (error) {
    if (error instanceof PrCreatorError) throw error;
    throw new PrCreatorError(
      "internal_error",
      `Memory could not be read: ${error instanceof Error ? error.message : String(error)}`,
      {
        hint: "Check state_file (or the Qdrant settings) in the config.",
      },
    );
  } finally {
    await agent.close();
  }
}

function line(r: PrRecord): string {
  const id = r.pr_id ? `PR ${r.pr_id}` : "preview";
  return `${r.updated_at.slice(0, 19).replace("T", " ")}  ${id.padEnd(10)} ${r.commit_hash.slice(0, 7)}  ${r.source_branch} → ${r.target_branch}  ${r.status}\n    ${r.title}${r.url ? `\n    ${r.url}` : ""}`;
}

/** `pr-creator trace <trace_id>`: the audit chain trace → PR → commit → branch, oldest first. */
export async function traceCommand(traceId: string, opts: MemoryCommandOptions, io: Io): Promise<number> {
  const chain = await withMemory(opts, io, (m) => m.chain(traceId));
  if (opts.json) {
    io.stdout(`${JSON.stringify({ trace_id: traceId, prs: chain }, null, 2)}\n`);
    return 0;
  }
  if (chain.length === 0) {
    io.stdout(`No pull requests are remembered for ${traceId}.\n`);
    return 0;
  }
  const first = chain[0]!;
  io.stdout(`${traceId} → blueprint ${first.blueprint_id}, scope ${first.component_scope}, repo ${first.repo}\n\n`);
  for (const r of chain) io.stdout(`${line(r)}\n`);
  return 0;
}

export interface SearchOptions extends MemoryCommandOptions {
  scope?: string;
  repo?: string;
  k?: string;
}

/** `pr-creator memory search <text>`: earlier PRs most like the text. */
export async function memorySearchCommand(text: string, opts: SearchOptions, io: Io): Promise<number> {
  const k = opts.k === undefined ? 5 : Number(opts.k);
  if (!Number.isInteger(k) || k < 1 || k > 100) {
    throw new PrCreatorError("invalid_request", `--k must be a whole number from 1 to 100, not "${opts.k}".`);
  }
  const hits = await withMemory(opts, io, async (m) => {
    const found = await m.recall({ text, k: k * 4, repo: opts.repo ?? "", component_scope: opts.scope ?? "" });
    return found
      .filter(
        (h) =>
          (!opts.repo || h.record.repo === opts.repo) &&
          (!opts.scope || h.record.component_scope.toLowerCase() === opts.scope.toLowerCase()),
      )
      .slice(0, k);
  });
  if (opts.json) {
    io.stdout(
      `${JSON.stringify({ query: text, hits: hits.map((h) => ({ score: h.score, ...h.record })) }, null, 2)}\n`,
    );
    return 0;
  }
  if (hits.length === 0) io.stdout("No remembered pull request matches.\n");
  for (const h of hits) io.stdout(`${h.score.toFixed(3)}  ${line(h.record)}\n`);
  return 0;
}

export interface ImportOptions extends MemoryCommandOptions {
  traces?: string;
}

/**
 * `pr-creator memory import <repo>`: backfills memory from the forge's existing PRs — those that name a trace
 * (our metadata block, or a `[trace:…]` title tag resolvable in the registry). Safe to repeat: records are
 * keyed by repo and PR id.
 */
export async function memoryImportCommand(
  repo: string,
  opts: ImportOptions,
  io: Io & { progress: boolean },
): Promise<number> {
  checkRepoName(repo, "The repository");
  const agent = await createAgent({
    configFile: opts.config,
    tracesFile: opts.traces,
    cwd: io.cwd,
    model: null,
    forge: null,
  });
  try {
    const forge = createForge(withoutUrlCredentials(agent.policy), forgeEnv(process.env));
    if (!forge) {
      throw new PrCreatorError("invalid_config", "memory import reads PRs from a forge, but forge is dry-run.", {
        hint: "Set forge: azure-devops or github (or PR_CREATOR_FORGE) with its token.",
      });
    }
    checkRepoName(repo, "The repository", forge.kind);
    if (!agent.memory)
      throw new PrCreatorError("invalid_config", "Memory is off (memory.store: none).", {
        hint: "Set memory.store to sqlite or qdrant.",
      });
    const registry =
      opts.traces || agent.policy.trace_registry
        ? await loadTraceRegistryFile(path.resolve(io.cwd, opts.traces ?? agent.policy.trace_registry!))
        : null;
    const bar = io.progress
      ? new SingleBar(
          { format: "importing {bar} {value}/{total} PRs", hideCursor: true, stream: process.stderr },
          Presets.shades_classic,
        )
      : null;
    const prs = await forge.listPullRequests(repo, (seen) => {
      if (!io.progress) return;
      process.stderr.write(`\rlisting pull requests: ${seen}`);
    });
    if (io.progress) process.stderr.write("\n");
    bar?.start(prs.length, 0);
    let imported = 0;
    let skipped = 0;
    const now = new Date().toISOString();
    for (const pr of prs) {
      const record = await recordFromPullRequest(pr, { repo, forge: forge.kind, policy: agent.policy, registry, now });
      if (record) {
        await agent.memory.remember(record);
        imported++;
      } else skipped++;
      bar?.increment();
    }
    bar?.stop();
    const summary = { repo, pull_requests: prs.length, imported, skipped_without_trace: skipped };
    io.stdout(
      opts.json
        ? `${JSON.stringify(summary, null, 2)}\n`
        : `Imported ${imported} of ${prs.length} pull requests from ${repo}; ${skipped} name no resolvable trace.\n`,
    );
    return 0;
  } finally {
    await agent.close();
  }
}
