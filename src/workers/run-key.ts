/**
 * Which pull request a run works on, before the agent runs: the graphile-worker queue name (runs of one PR run
 * one at a time, in the order they were accepted) and the advisory lock key every worker takes around a run.
 * The same pair the forge publisher serialises on in one process (repo, source branch, target branch).
 * Pure: the input has been validated by the HTTP front; anything unreadable falls into one queue per repo.
 */
import { createHash } from "node:crypto";
import { changeBranch } from "../changes/apply-edits.js";
import type { ChangeRequested } from "../domain/events.js";
import type { Policy } from "../domain/policy.js";
import { checkBranches } from "../policy/branches.js";

export interface RunKey {
  repo: string;
  source: string;
  target: string;
}

const text = (value: unknown): string => (typeof value === "string" ? value : "");

/** The PR an event's run publishes to: the source branch and the target the policy maps it to. */
export function runKeyOf(input: unknown, policy: Policy): RunKey {
  const event = (typeof input === "object" && input !== null ? input : {}) as Record<string, unknown>;
  const repo = text(event.repo);
  if (event.event === "ChangeRequested") {
    return { repo, source: changeBranch(event as ChangeRequested, policy), target: text(event.base_branch) };
  }
  const source = text(event.branch);
  const requested = typeof event.target_branch === "string" ? event.target_branch : undefined;
  // A branch the policy refuses fails in intake; its runs still share one queue.
  const target = (source ? checkBranches(source, requested, policy).target : null) ?? requested ?? "";
  return { repo, source, target };
}

/**
 * The queue name: readable for operators (repo:source->target) and at most 128 characters (graphile-worker's limit; it keeps one row
 * per queue name); a long name keeps its start and gets a hash of the whole.
 */
export function queueNameOf(key: RunKey): string {
  const name = `pr:${key.repo}:${key.source}->${key.target}`;
  if (name.length <= 128) return name;
  return `${name.slice(0, 100)}#${createHash("sha256").update(name).digest("hex").slice(0, 16)}`;
}
