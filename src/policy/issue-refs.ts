/**
 * Where a PR's issue comes from, decided from facts only (pure). In order: the event's `issue_id` (and
 * `work_item_ids`), else the commit messages, the branch name, then the trace record.
 *
 * Everything but the event is untrusted text (commit messages, branch names, a PR body). From it only a
 * well-formed id is taken, by a strict, anchored pattern; nothing else of the text is used, so a message
 * cannot steer a decision by what it says around the id.
 *
 * Three kinds of reference:
 * - an issue key (`BVL-232`, Linear or Jira): `[A-Z][A-Z0-9]{1,9}-<number>`, never a well-known acronym such
 *   as UTF-8 or SHA-256; lower-case in a branch name (`feature/bvl-232-…`, Linear's own branch names) only
 *   for the team keys `issues.key_prefixes` names;
 * - an Azure Boards work item: `AB#123` anywhere, and `#123` or a branch `feature/123-…` on Azure DevOps;
 * - a GitHub issue: `#12`, `Fixes #12`, `GH-12`, and a branch `feature/12-…` on GitHub.
 */

import type { IssueRefs, IssueSource } from "../domain/pull-request.js";

export type { IssueRefs, IssueSource };

export interface IssueInputs {
  /** The event's own issue id (trusted: validated at intake). */
  issue_id?: string | null;
  work_item_ids?: readonly number[];
  /** Commit subjects and bodies, as the commit source gives them. */
  messages?: readonly string[];
  branch?: string | null;
  /** The trace record's issue id, when the registry gives one. */
  trace_issue_id?: string | null;
  /** Which forge the PR goes to: a bare `#12` is a GitHub issue there, a work item on Azure DevOps. */
  forge?: "github" | "azure-devops" | "dry-run";
}

export interface IssuePolicy {
  /** Team keys (BVL, ENG); empty accepts any key that is not a well-known acronym. */
  key_prefixes: readonly string[];
}

export const NO_ISSUE: IssueRefs = { issue_id: null, source: null, work_item_ids: [], github_issues: [] };

/** More than this many references in one PR is noise (or an attack), not a plan: the rest are ignored. */
export const MAX_REFS = 10;
/** Longer texts are read only this far: the patterns are linear, but a megabyte of commit message is not an issue list. */
const MAX_TEXT = 20_000;

/** Upper-case words followed by `-<number>` that are standards, algorithms or encodings, not issue keys. */
const NOT_KEYS = new Set([
  "AES",
  "ASCII",
  "CP",
  "CVE",
  "CWE",
  "ECMA",
  "ES",
  "GPT",
  "HTTP",
  "IEC",
  "IEEE",
  "ISO",
  "IPV",
  "JSR",
  "MD",
  "PEP",
  "RFC",
  "RSA",
  "SHA",
  "SSL",
  "TLS",
  "UCS",
  "UTF",
  "WIN",
]);

// A key stands alone: not inside a word, a path, a URL's host or another key (CVE-2024-1234 is one id).
const KEY = /(?<![A-Za-z0-9_#./-])([A-Z][A-Z0-9]{1,9})-([1-9][0-9]{0,8})(?![A-Za-z0-9_]|-[0-9]|\.[0-9])/g;
const AB = /(?<![A-Za-z0-9_])AB#([1-9][0-9]{0,8})(?![A-Za-z0-9_])/g;
// `#12` after a space, a bracket or a closing keyword; not `owner/repo#12`, `AB#12` or `&#12;`.
const HASH = /(?<=^|[\s([{,;:])#([1-9][0-9]{0,8})(?![A-Za-z0-9_;])/gm;
const GH = /(?<![A-Za-z0-9_-])GH-([1-9][0-9]{0,8})(?![A-Za-z0-9_])/g;
/** A key as the event gives it. */
const EVENT_KEY = /^[A-Za-z][A-Za-z0-9]{0,9}-[1-9][0-9]{0,8}$/;

function keyAllowed(prefix: string, policy: IssuePolicy): boolean {
  if (policy.key_prefixes.length > 0) return policy.key_prefixes.includes(prefix);
  // Two letters at least: `A1-2` is a part number more often than a team.
  return !NOT_KEYS.has(prefix) && /^[A-Z][0-9]*[A-Z]/.test(prefix);
}

const clip = (text: string) => (text.length > MAX_TEXT ? text.slice(0, MAX_TEXT) : text);

/** Issue keys in a text, in order of appearance, without repeats. */
export function keysIn(text: string, policy: IssuePolicy): string[] {
  const found: string[] = [];
  for (const m of clip(text).matchAll(KEY)) {
    const key = `${m[1]}-${m[2]}`;
    if (keyAllowed(m[1]!, policy) && !found.includes(key)) found.push(key);
  }
  return found;
}

const numbers = (text: string, pattern: RegExp): number[] => [...clip(text).matchAll(pattern)].map((m) => Number(m[1]));

/** `AB#123` work items in a text. */
export function workItemsIn(text: string): number[] {
  return numbers(text, AB);
}

/** `#12` and `GH-12` references in a text (GitHub issues, or work items on Azure DevOps). */
export function hashRefsIn(text: string): number[] {
  return [...numbers(text, HASH), ...numbers(text, GH)];
}

/** The last segment of a branch, for ids: `feature/BVL-232-add-x` → `BVL-232-add-x`. */
function branchTail(branch: string): string {
  const parts = branch.split("/");
  return parts[parts.length - 1] ?? "";
}

/** An issue key in a branch name; lower case only for the policy's own team keys. */
export function keyInBranch(branch: string, policy: IssuePolicy): string | null {
  const tail = branchTail(branch);
  const upper = keysIn(tail, policy)[0];
  if (upper) return upper;
  if (policy.key_prefixes.length === 0) return null;
  const m = /^([a-z][a-z0-9]{1,9})-([1-9][0-9]{0,8})(?:$|-)/.exec(tail);
  if (!m) return null;
  const prefix = m[1]!.toUpperCase();
  return policy.key_prefixes.includes(prefix) ? `${prefix}-${m[2]}` : null;
}

/** A number leading the branch's last segment (`feature/123-fix-login`). */
export function numberInBranch(branch: string): number | null {
  const m = /^([1-9][0-9]{0,8})(?:$|[-_])/.exec(branchTail(branch));
  return m ? Number(m[1]) : null;
}

const sorted = (ids: Iterable<number>) => [...new Set(ids)].sort((a, b) => a - b).slice(0, MAX_REFS);

/** The canonical form of an event's issue id: `#12` and `AB#123` as given, keys upper-cased. */
export function canonicalIssueId(id: string): string | null {
  const trimmed = id.trim();
  if (EVENT_KEY.test(trimmed)) return trimmed.toUpperCase();
  if (/^#[1-9][0-9]{0,8}$/.test(trimmed)) return trimmed;
  const ab = /^AB#([1-9][0-9]{0,8})$/i.exec(trimmed);
  if (ab) return `AB#${ab[1]}`;
  return null;
}

/** The work item or GitHub issue an issue id names, if it names one. */
function numberOf(id: string): { work_item?: number; github?: number } {
  const ab = /^AB#(\d+)$/.exec(id);
  if (ab) return { work_item: Number(ab[1]) };
  const hash = /^#(\d+)$/.exec(id);
  return hash ? { github: Number(hash[1]) } : {};
}

/**
 * Resolves the PR's issue and the work items and GitHub issues to link. The event wins; then the commits
 * (the first key found wins), the branch, the trace record; with no key anywhere, the first GitHub issue or
 * work item found stands for the issue.
 */
export function resolveIssueRefs(input: IssueInputs, policy: IssuePolicy): IssueRefs {
  const text = (input.messages ?? []).join("\n");
  const branch = input.branch ?? "";
  const onAzure = input.forge === "azure-devops";
  const onGitHub = input.forge === "github";
  // The event's id was validated at intake: kept as given when it is not one of the forms read from text.
  const eventId = input.issue_id?.trim() ? (canonicalIssueId(input.issue_id) ?? input.issue_id.trim()) : null;
  const named = eventId ? numberOf(eventId) : {};
  const hashes = hashRefsIn(text);
  const branchNumber = numberInBranch(branch);

  // Each number with where it was found, in the order the sources rank.
  const items: Array<[number, IssueSource]> = [
    ...(named.work_item !== undefined ? [[named.work_item, "event"] as [number, IssueSource]] : []),
    ...(onAzure && named.github !== undefined ? [[named.github, "event"] as [number, IssueSource]] : []),
    ...(input.work_item_ids ?? []).map((n): [number, IssueSource] => [n, "event"]),
    ...workItemsIn(text).map((n): [number, IssueSource] => [n, "commits"]),
    ...(onAzure ? hashes.map((n): [number, IssueSource] => [n, "commits"]) : []),
    ...(onAzure && branchNumber !== null ? [[branchNumber, "branch"] as [number, IssueSource]] : []),
  ];
  const issues: Array<[number, IssueSource]> = onGitHub
    ? [
        ...(named.github !== undefined ? [[named.github, "event"] as [number, IssueSource]] : []),
        ...hashes.map((n): [number, IssueSource] => [n, "commits"]),
        ...(branchNumber !== null ? [[branchNumber, "branch"] as [number, IssueSource]] : []),
      ]
    : [];
  const refs = { work_item_ids: sorted(items.map(([n]) => n)), github_issues: sorted(issues.map(([n]) => n)) };

  if (eventId) return { issue_id: eventId, source: "event", ...refs };
  const fromCommits = keysIn(text, policy)[0];
  if (fromCommits) return { issue_id: fromCommits, source: "commits", ...refs };
  const fromBranch = keyInBranch(branch, policy);
  if (fromBranch) return { issue_id: fromBranch, source: "branch", ...refs };
  const fromTrace = input.trace_issue_id ? canonicalIssueId(input.trace_issue_id) : null;
  if (fromTrace) return { issue_id: fromTrace, source: "trace", ...refs };
  const [issue] = issues;
  if (issue) return { issue_id: `#${issue[0]}`, source: issue[1], ...refs };
  const [item] = items;
  if (item) return { issue_id: `AB#${item[0]}`, source: item[1], ...refs };
  return { ...NO_ISSUE };
}

/** The `issue_id:` line of a PR body's metadata block, read back strictly (for `watch` and `rollback`). */
export function issueIdInBody(description: string): string | null {
  const block = /```yaml\n([\s\S]*?)\n```/.exec(clip(description.slice(-MAX_TEXT)))?.[1];
  if (!block) return null;
  const m = /^issue_id: ['"]?([A-Za-z0-9#-]{1,24})['"]?$/m.exec(block);
  return m ? canonicalIssueId(m[1]!) : null;
}

/** The issue's web address from a URL template (`https://linear.app/acme/issue/{id}`), or null. */
export function issueUrl(issueId: string, template: string | null | undefined): string | null {
  if (!template || !EVENT_KEY.test(issueId)) return null;
  return template.split("{id}").join(encodeURIComponent(issueId));
}
