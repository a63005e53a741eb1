import picomatch from "picomatch";
import type { CommitInfo } from "../domain/commit.js";
import type { Policy } from "../domain/policy.js";
import type { Draft, PrFacts } from "../domain/pull-request.js";
import { inertText } from "../render/markdown.js";
import { composeTitle } from "../render/title.js";
import { forbiddenKeywordsIn } from "../validate/title.js";

const CONVENTIONAL = /^([A-Za-z]+)(?:\([^)]*\))?!?:\s*(.+)$/;
const TRAILER =
  /^(Signed-off-by|Co-authored-by|Reviewed-by|Acked-by|Tested-by|Reported-by|Suggested-by|Helped-by|Change-Id|Cc):\s/i;
const MAX_HIGHLIGHTS = 8;
// When commits disagree, the PR takes the most significant type.
const TYPE_RANK = ["feat", "fix", "perf", "refactor", "revert", "build", "ci", "docs", "test", "style", "chore"];

function isMerge(c: CommitInfo): boolean {
  return c.parents.length > 1;
}

function stripTraceTags(text: string): string {
  return text.replace(/\s*\[trace:[^\]]*\]\s*/g, " ").trim();
}

function parseSubject(subject: string, types: readonly string[]): { type?: string; summary: string } {
  const m = CONVENTIONAL.exec(subject.trim());
  if (m && types.includes(m[1]!.toLowerCase())) return { type: m[1]!.toLowerCase(), summary: m[2]! };
  return { summary: subject.trim() };
}

function inferType(facts: PrFacts, subject: string, types: readonly string[]): string {
  const pick = (t: string) => (types.includes(t) ? t : types[0]!);
  if (/^(fix|fixes|fixed|bug|bugfix|hotfix|patch)\b/i.test(subject) || /^(bugfix|hotfix)\//.test(facts.source_branch))
    return pick("fix");
  const live = facts.changes.files.filter((f) => f.change !== "deleted").map((f) => f.path);
  if (live.length > 0 && live.every((p) => picomatch(["**/*.md", "docs/**"], { dot: true })(p))) return pick("docs");
  return pick("feat");
}

/** Titles are plain text: one line, no backticks, no HTML comments, and no @ that could notify someone. */
function plainTitleText(text: string): string {
  return text
    .replace(/[\r\n]+/g, " ")
    .replace(/<!--[\s\S]*?-->/g, "")
    .replace(/`/g, "'")
    .replace(/(^|[^\w])@([A-Za-z0-9])/g, "$1$2")
    .replace(/\s{2,}/g, " ")
    .trim();
}

/** `Implement CreateOrderHandler.` → `implement CreateOrderHandler`; leaves acronyms (`API`) alone. */
function summaryCase(text: string): string {
  const t = text.replace(/[.\s]+$/, "");
  return /^[A-Z][a-z]/.test(t) ? t[0]!.toLowerCase() + t.slice(1) : t;
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const cap = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(cap) ? cap : `${cap}.`;
}

function removeWords(text: string, words: readonly string[]): string {
  let out = text;
  for (const w of words) {
    const escaped = w.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    out = out.replace(new RegExp(`(?<![\\p{L}\\p{N}_])${escaped}(?![\\p{L}\\p{N}_])`, "giu"), " ");
  }
  return out
    .replace(/\s{2,}/g, " ")
    .replace(/\s+([,.;:])/g, "$1")
    .trim();
}

/** Cuts the summary at a word boundary so the whole title fits the limit. */
function fitSummary(summary: string, room: number): string {
  if (summary.length <= room) return summary;
  const cut = summary.slice(0, room + 1);
  const space = cut.lastIndexOf(" ");
  return (space > 0 ? cut.slice(0, space) : summary.slice(0, room)).replace(/[\s,.;:-]+$/, "");
}

function highlightsOf(commits: readonly CommitInfo[]): string[] {
  const lines = commits
    .filter((c) => !isMerge(c))
    .flatMap((c) => c.body.split("\n"))
    .map((l) => l.trim())
    .filter((l) => l && !TRAILER.test(l))
    .map((l) => l.replace(/^[-*+]\s+/, ""))
    .map((l) => inertText(stripTraceTags(l)))
    .filter(Boolean)
    .map((l) => (l.length > 200 ? `${l.slice(0, 197)}...` : l));
  return [...new Set(lines)].slice(0, MAX_HIGHLIGHTS);
}

/**
 * Prose from the commit messages alone — no model. Used when no model is configured and as the fallback
 * when a model fails, so it must always pass the gate: it keeps the title within its limit, drops
 * forbidden keywords, and neutralises Markdown in untrusted commit text.
 */
export function draftDeterministically(facts: PrFacts, policy: Policy): Draft {
  const { commits } = facts.changes;
  const types = policy.title.types;
  const newestFirst = [...commits].reverse().filter((c) => !isMerge(c));
  const rankOf = (t: string) => (TYPE_RANK.includes(t) ? TYPE_RANK.indexOf(t) : TYPE_RANK.length);
  const declared = newestFirst
    .map((c) => parseSubject(c.subject, types).type)
    .filter((t): t is string => t !== undefined);
  const winning = [...declared].sort((a, b) => rankOf(a) - rankOf(b))[0];
  // The summary comes from the newest commit that carries the PR's type, so type and summary agree.
  const lead =
    newestFirst.find((c) => winning !== undefined && parseSubject(c.subject, types).type === winning) ??
    newestFirst[0] ??
    commits[commits.length - 1]!;
  const type = winning ?? inferType(facts, lead.subject, types);

  let summary = summaryCase(plainTitleText(stripTraceTags(parseSubject(lead.subject, types).summary)));
  if (forbiddenKeywordsIn(summary, policy.title.forbidden_keywords).length > 0)
    summary = removeWords(summary, policy.title.forbidden_keywords);
  if (!/[\p{L}\p{N}]/u.test(summary)) summary = `update ${facts.trace.component_scope} component`;
  const room =
    policy.title.max_length - composeTitle(type, facts.trace.component_scope, "", facts.trace.trace_id, policy).length;
  summary = fitSummary(summary, room);

  // A change request's alert, remediation and impact have their own Context section; the purpose ties them together.
  if (facts.change)
    return {
      type,
      summary,
      purpose: sentence(`${summary} in response to the alert ${inertText(facts.change.alert)}`),
      highlights: [],
    };
  const blueprint = facts.trace.blueprint_name
    ? `\`${facts.trace.blueprint_id}\` (${facts.trace.blueprint_name})`
    : `\`${facts.trace.blueprint_id}\``;
  // The blueprint's description has its own place in the body; the purpose states what this change does.
  const purpose = sentence(`${summary}, as defined in blueprint ${blueprint}`);
  return { type, summary, purpose, highlights: highlightsOf(commits) };
}
