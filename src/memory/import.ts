import { parse } from "yaml";
import type { Policy } from "../domain/policy.js";
import type { RemotePullRequest } from "../forges/forge.js";
import type { TraceRegistry } from "../policy/trace-registry.js";
import type { PrRecord } from "./store.js";

/** The fenced YAML metadata block pr-creator writes into every description. */
function metadata(description: string): Record<string, unknown> {
  const m = /```yaml\n([\s\S]*?)\n```/.exec(description);
  if (!m) return {};
  try {
    const data: unknown = parse(m[1]!);
    return data && typeof data === "object" ? (data as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The Summary (or first) section's text: the prose remembered for recall. */
function summaryText(description: string): string {
  const section = /^#{1,6}\s*(?:Summary|Description)\s*\n([\s\S]*?)(?=^#{1,6}\s|$(?![\s\S]))/im.exec(description);
  return (section?.[1] ?? description).trim().slice(0, 2000);
}

const str = (v: unknown) => (typeof v === "string" && v.trim() ? v : undefined);

/**
 * Turns an existing PR into a memory record when it names its trace: from our metadata block when present,
 * else from the title's `[trace:…]` tag and the trace registry. Returns null for PRs without a trace.
 */
export async function recordFromPullRequest(
  pr: RemotePullRequest,
  ctx: { repo: string; forge: string; policy: Policy; registry: TraceRegistry | null; now: string },
): Promise<PrRecord | null> {
  const meta = metadata(pr.description);
  const tag = /\[trace:([^\]\s]+)\]/.exec(pr.title)?.[1];
  const prefix = ctx.policy.title.trace_id_prefix;
  const traceId = str(meta.trace_id) ?? (tag ? (tag.startsWith(prefix) ? tag : `${prefix}${tag}`) : undefined);
  if (!traceId) return null;
  const trace = await ctx.registry?.get(traceId);
  const blueprint = str(meta.blueprint_id) ?? trace?.blueprint_id;
  const scope = str(meta.component_scope) ?? trace?.component_scope;
  if (!blueprint || !scope) return null;
  const commits = Array.isArray(meta.commits) ? meta.commits.map(String) : [];
  return {
    repo: ctx.repo,
    pr_id: String(pr.id),
    url: pr.url,
    forge: ctx.forge,
    status: "created",
    trace_id: traceId,
    blueprint_id: blueprint,
    component_scope: scope,
    commit_hash: commits[0] ?? "",
    source_branch: pr.source_branch,
    target_branch: pr.target_branch,
    title: pr.title,
    text: summaryText(pr.description),
    created_at: ctx.now,
    updated_at: ctx.now,
  };
}
